/**
 * docker.pull / docker.image.rm / docker.image.prune and registry.upsert / registry.delete.
 * Pulls log in through X-Registry-Auth with the credential saved for the reference's own
 * registry only; nothing shells out to a CLI.
 */
import type { Db } from "../../db/db.ts";
import type { DockerClient } from "../../docker/client.ts";
import { listContainers } from "../../docker/containers.ts";
import { DockerError } from "../../docker/errors.ts";
import {
  checkRegistryLogin,
  inspectImage,
  pruneDanglingImages,
  pullImage,
  registryAuthHeader,
  removeImage,
} from "../../docker/images.ts";
import { DEFAULT_DOMAIN, parseReference } from "../../docker/reference.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import {
  credentialsFor,
  deleteRegistry,
  findRegistry,
  markRegistryUsed,
  normaliseServerAddress,
  upsertRegistry,
} from "../../registries.ts";
import type { Handlers } from "../dispatch.ts";
import { displayName } from "../../docker/views.ts";

/** The address the Engine's /auth expects: Docker Hub keeps its historical index URL. */
function engineServerAddress(address: string): string {
  return address === DEFAULT_DOMAIN ? "https://index.docker.io/v1/" : address;
}

export interface PullResult {
  reference: string;
  digest: string | null;
  image_id: string;
}

export function imageHandlers(db: Db, docker: DockerClient, secretKey: CryptoKey): Handlers {
  return {
    "docker.pull": async ({ params, progress }) => {
      if (typeof params.reference !== "string") {
        throw new ValidationError("reference is required", "reference");
      }
      const reference = parseReference(params.reference);
      const credentials = await credentialsFor(db, secretKey, reference.domain);
      const auth = credentials
        ? registryAuthHeader({
          ...credentials,
          serveraddress: engineServerAddress(credentials.serveraddress),
        })
        : undefined;
      for await (const line of pullImage(docker, reference, { auth })) progress(line);
      if (credentials) {
        const saved = findRegistry(db, reference.domain);
        if (saved) markRegistryUsed(db, saved.id);
      }
      const pulled = reference.digest
        ? `${reference.repository}@${reference.digest}`
        : reference.canonical;
      const info = await inspectImage(docker, pulled);
      // RepoDigests are written the Engine's short way ("busybox@sha256:…"); compare normalised.
      const digest = (info.RepoDigests ?? []).map((entry) => parseReference(entry))
        .find((entry) => entry.repository === reference.repository)?.digest ?? null;
      const result: PullResult = { reference: reference.canonical, digest, image_id: info.Id };
      return result;
    },

    "docker.image.rm": async ({ target, params }) => {
      const force = params.force === true;
      const info = await inspectImage(docker, target);
      const users = (await listContainers(docker, { all: true })).filter((container) =>
        container.ImageID === info.Id
      );
      const names = (list: typeof users) => list.map(displayName);
      const running = users.filter((container) => container.State === "running");
      if (running.length) {
        throw new HttpError(
          409,
          `Image ${target} is used by running containers: ${names(running).join(", ")}`,
        );
      }
      if (users.length && !force) {
        throw new HttpError(
          409,
          `Image ${target} is used by containers: ${names(users).join(", ")}`,
        );
      }
      const answer = await removeImage(docker, target, { force });
      return {
        deleted: answer.flatMap((entry) => entry.Deleted ? [entry.Deleted] : []),
        untagged: answer.flatMap((entry) => entry.Untagged ? [entry.Untagged] : []),
      };
    },

    "docker.image.prune": async () => {
      const answer = await pruneDanglingImages(docker);
      return {
        deleted: (answer.ImagesDeleted ?? []).flatMap((entry) =>
          entry.Deleted ? [entry.Deleted] : []
        ),
        reclaimed_bytes: answer.SpaceReclaimed ?? 0,
      };
    },

    "registry.upsert": async ({ params }) => {
      const address = normaliseServerAddress(params.server_address as string);
      const username = params.username;
      if (typeof username !== "string" || username === "") {
        throw new ValidationError("username is required", "username");
      }
      const password = typeof params.password === "string" && params.password !== ""
        ? params.password
        : undefined;
      if (
        params.password !== undefined && params.password !== null &&
        typeof params.password !== "string"
      ) {
        throw new ValidationError("password must be a string", "password");
      }
      if (!password && !findRegistry(db, address)) {
        throw new ValidationError("password is required", "password");
      }
      if (password) {
        try {
          await checkRegistryLogin(docker, {
            username,
            password,
            serveraddress: engineServerAddress(address),
          });
        } catch (error) {
          if (error instanceof DockerError) {
            throw new ValidationError(
              `The registry refused the login: ${error.message}`,
              "password",
            );
          }
          throw error;
        }
      }
      return {
        registry: await upsertRegistry(db, secretKey, {
          server_address: address,
          username,
          password,
        }),
      };
    },

    "registry.delete": ({ target }) => {
      const id = Number(target);
      if (!Number.isSafeInteger(id) || id < 1) {
        throw new ValidationError(`Invalid registry id "${target}"`, "id");
      }
      if (!deleteRegistry(db, id)) throw new HttpError(404, `No registry with id ${id}`);
      return Promise.resolve({ deleted: id });
    },
  };
}
