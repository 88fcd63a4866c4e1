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
  checkRegistryAddress,
  credentialsFor,
  deleteRegistry,
  findRegistry,
  markRegistryUsed,
  normaliseServerAddress,
  type PanelAddress,
  upsertRegistry,
} from "../../registries.ts";
import { SecretOpenError } from "../../secrets.ts";
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

export function imageHandlers(
  db: Db,
  docker: DockerClient,
  secretKey: CryptoKey,
  /** The panel's --listen address: never accepted as a registry. */
  panel: PanelAddress,
): Handlers {
  /** The stored credential for an update without a new password; undefined when none. */
  async function savedCredentials(address: string) {
    try {
      return await credentialsFor(db, secretKey, address);
    } catch (error) {
      if (error instanceof SecretOpenError) {
        throw new ValidationError(
          "The saved password can no longer be decrypted; enter the password again",
          "password",
        );
      }
      throw error;
    }
  }

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
      // Refused before the Engine is asked to log in anywhere.
      const address = checkRegistryAddress(
        normaliseServerAddress(params.server_address as string),
        panel,
      );
      const username = params.username;
      if (typeof username !== "string" || username === "") {
        throw new ValidationError("username is required", "username");
      }
      if (
        params.password !== undefined && params.password !== null &&
        typeof params.password !== "string"
      ) {
        throw new ValidationError("password must be a string", "password");
      }
      const given = typeof params.password === "string" && params.password !== ""
        ? params.password
        : undefined;
      // Every credential is validated before it is stored, including the saved password
      // under a changed username: the pair that gets stored is exactly the pair checked.
      let password = given;
      let field = "password";
      let refused = "The registry refused the login";
      if (password === undefined) {
        const saved = await savedCredentials(address);
        if (!saved) throw new ValidationError("password is required", "password");
        password = saved.password;
        if (saved.username !== username) {
          field = "username";
          refused = `The registry refused the saved password for ${username}; ` +
            `enter the password for this username`;
        } else {
          refused = "The registry refused the saved password; enter it again";
        }
      }
      try {
        await checkRegistryLogin(docker, {
          username,
          password,
          serveraddress: engineServerAddress(address),
        });
      } catch (error) {
        if (error instanceof DockerError) {
          throw new ValidationError(`${refused}: ${error.message}`, field);
        }
        throw error;
      }
      return {
        registry: await upsertRegistry(db, secretKey, {
          server_address: address,
          username,
          password,
        }),
      };
    },

    "registry.delete": ({ target, params }) => {
      // The route may name the registry in the target (its address) and pass the id here.
      const raw = params.id === undefined ? target : String(params.id);
      const id = Number(raw);
      if (!/^[1-9][0-9]{0,15}$/.test(raw) || !Number.isSafeInteger(id)) {
        throw new ValidationError(`Invalid registry id "${raw.slice(0, 64)}"`, "id");
      }
      const deleted = deleteRegistry(db, id);
      if (!deleted) throw new HttpError(404, `No registry with id ${id}`);
      // The audit row's result says which registry went, not only its number.
      return Promise.resolve({ deleted: id, server_address: deleted.server_address });
    },
  };
}
