/**
 * docker.image.tag, docker.image.untag and docker.image.push (admins, audited). A push
 * goes only to a registry whose credentials are saved (lib/registries.ts): they travel to
 * the Engine in X-Registry-Auth and never appear in a response, progress line or audit row.
 */
import type { Db } from "../db/db.ts";
import type { DockerClient } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import { inspectImage, registryAuthHeader } from "../docker/images.ts";
import { DEFAULT_DOMAIN, type ImageReference, parseReference } from "../docker/reference.ts";
import { ndjson } from "../docker/streams.ts";
import { imageRef } from "../docker/validate.ts";
import { HttpError, ValidationError } from "../errors.ts";
import { credentialsFor, findRegistry, markRegistryUsed } from "../registries.ts";
import { SecretOpenError } from "../secrets.ts";
import type { Handlers } from "../sysctl/dispatch.ts";

export interface PushResult {
  reference: string;
  digest: string | null;
  image_id: string;
}

/** One line of the Engine's push progress stream (as the pull's). */
export interface PushProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message: string };
}

/** A reference naming a tag (never a digest), for tag, untag and push. */
export function taggedReference(value: unknown): ImageReference {
  if (typeof value !== "string") {
    throw new ValidationError("reference is required, like registry:5000/app:1.0", "reference");
  }
  const reference = parseReference(value);
  if (reference.digest) {
    throw new ValidationError("reference must name a tag, not a digest", "reference");
  }
  return reference;
}

function sameReference(a: string, b: ImageReference): boolean {
  try {
    return parseReference(a).canonical === b.canonical;
  } catch {
    return false;
  }
}

export function imageRegistryHandlers(
  db: Db,
  docker: DockerClient,
  secretKey: CryptoKey,
): Handlers {
  async function image(target: string) {
    try {
      return await inspectImage(docker, imageRef(target));
    } catch (error) {
      if (error instanceof DockerError && error.daemonStatus === 404) {
        throw new HttpError(404, `No such image: ${target.slice(0, 80)}`);
      }
      throw error;
    }
  }

  async function tag(id: string, reference: ImageReference) {
    await docker.json("POST", `/images/${id}/tag`, {
      query: { repo: reference.repository, tag: reference.tag ?? "latest" },
    });
  }

  return {
    "docker.image.tag": async ({ target, params }) => {
      const reference = taggedReference(params.reference);
      const info = await image(target);
      await tag(info.Id, reference);
      return { image_id: info.Id, tagged: reference.canonical };
    },

    "docker.image.untag": async ({ target, params }) => {
      const reference = taggedReference(params.reference);
      const info = await image(target);
      const tags = info.RepoTags ?? [];
      const mine = tags.find((entry) => sameReference(entry, reference));
      if (!mine) {
        throw new HttpError(404, `Image ${info.Id.slice(7, 19)} has no tag ${reference.canonical}`);
      }
      if (tags.length < 2) {
        throw new HttpError(
          409,
          `${mine} is the image's only tag; untagging it would delete the image (use Delete)`,
        );
      }
      await docker.json("DELETE", `/images/${mine}`, { query: { noprune: "1" } });
      return { image_id: info.Id, untagged: mine };
    },

    "docker.image.push": async ({ target, params, progress }) => {
      const reference = taggedReference(params.reference);
      let credentials;
      try {
        credentials = await credentialsFor(db, secretKey, reference.domain);
      } catch (error) {
        if (error instanceof SecretOpenError) {
          throw new HttpError(
            409,
            `The saved password for ${reference.domain} can no longer be decrypted; enter it again`,
          );
        }
        throw error;
      }
      if (!credentials) {
        throw new ValidationError(
          `No registry is saved for ${reference.domain}; add it under Registries first`,
          "reference",
        );
      }
      const info = await image(target);
      if (!(info.RepoTags ?? []).some((entry) => sameReference(entry, reference))) {
        progress({ status: `Tagging ${info.Id.slice(7, 19)} as ${reference.canonical}` });
        await tag(info.Id, reference);
      }
      const auth = registryAuthHeader({
        ...credentials,
        serveraddress: reference.domain === DEFAULT_DOMAIN
          ? "https://index.docker.io/v1/"
          : credentials.serveraddress,
      });
      const response = await docker.request("POST", `/images/${reference.repository}/push`, {
        query: { tag: reference.tag ?? "latest" },
        headers: { "X-Registry-Auth": auth },
        stream: true,
      });
      let digest: string | null = null;
      for await (const line of ndjson<PushProgress>(response.body!)) {
        if (line.error || line.errorDetail) {
          throw new HttpError(
            502,
            `Pushing ${reference.canonical} failed: ${
              (line.errorDetail?.message ?? line.error ?? "").slice(0, 500)
            }`,
          );
        }
        if (line.aux?.Digest) digest = line.aux.Digest;
        progress({
          ...(line.status ? { status: line.status } : {}),
          ...(line.id ? { id: line.id } : {}),
          ...(line.progressDetail ? { progressDetail: line.progressDetail } : {}),
          ...(line.progress ? { progress: line.progress } : {}),
        });
      }
      const saved = findRegistry(db, reference.domain);
      if (saved) markRegistryUsed(db, saved.id);
      const result: PushResult = { reference: reference.canonical, digest, image_id: info.Id };
      return result;
    },
  };
}
