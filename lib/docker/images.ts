/** Image operations on the Engine API. */
import type { DockerClient } from "./client.ts";
import type { ImageInspect, ImageSummary } from "./types.ts";
import { imageRef } from "./validate.ts";
import { type ImageReference, parseReference } from "./reference.ts";
import { pullError } from "./error_text.ts";
import { DockerError } from "./errors.ts";
import { ndjson } from "./streams.ts";

export async function listImages(docker: DockerClient) {
  return await docker.json<ImageSummary[]>("GET", "/images/json");
}

export async function inspectImage(docker: DockerClient, ref: string) {
  return await docker.json<ImageInspect>("GET", `/images/${imageRef(ref)}/json`);
}

export async function removeImage(
  docker: DockerClient,
  ref: string,
  options: { force?: boolean } = {},
) {
  return await docker.json<{ Untagged?: string; Deleted?: string }[]>(
    "DELETE",
    `/images/${imageRef(ref)}`,
    { query: { force: options.force ? 1 : undefined } },
  );
}

/**
 * Imports a root filesystem tarball as an image (`POST /images/create?fromSrc=-`).
 * The reference is `repo:tag`; the body is the tar stream.
 */
export async function importImage(
  docker: DockerClient,
  reference: string,
  tar: BodyInit,
  options: { changes?: string[] } = {},
) {
  const parsed = parseReference(reference);
  const repo = reference.slice(0, reference.length - (parsed.tag ? parsed.tag.length + 1 : 0));
  const response = await docker.request("POST", "/images/create", {
    query: { fromSrc: "-", repo, tag: parsed.tag ?? "latest", changes: options.changes },
    body: tar,
    headers: { "Content-Type": "application/x-tar" },
    timeoutMs: 120_000,
  });
  for await (
    const line of ndjson<{ error?: string; errorDetail?: { message: string } }>(response.body!)
  ) {
    if (line.error || line.errorDetail) {
      throw new Error(`Image import failed: ${line.error ?? line.errorDetail?.message}`);
    }
  }
}

/** The Engine's X-Registry-Auth header value: base64url of the JSON auth config. */
export function registryAuthHeader(
  auth: { username: string; password: string; serveraddress: string },
): string {
  const bytes = new TextEncoder().encode(JSON.stringify(auth));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

/** One line of the Engine's pull progress stream. */
export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message: string };
}

/**
 * `POST /images/create?fromImage=…` for a parsed reference, with credentials when given.
 * Yields the Engine's progress lines; an error line ends the pull with a DockerError.
 */
export async function* pullImage(
  docker: DockerClient,
  reference: ImageReference,
  options: { auth?: string; signal?: AbortSignal } = {},
): AsyncGenerator<PullProgress> {
  const name = reference.digest
    ? `${reference.repository}@${reference.digest}`
    : `${reference.repository}:${reference.tag ?? "latest"}`;
  const response = await docker.request("POST", "/images/create", {
    query: { fromImage: reference.repository, tag: reference.digest ?? reference.tag ?? "latest" },
    headers: options.auth ? { "X-Registry-Auth": options.auth } : {},
    stream: true,
    signal: options.signal,
  }).catch((error) => {
    throw error instanceof DockerError ? pullError(name, error.daemonStatus, error.message) : error;
  });
  for await (const line of ndjson<PullProgress>(response.body!)) {
    if (line.error || line.errorDetail) {
      throw pullError(name, 500, line.errorDetail?.message ?? line.error ?? "The pull failed");
    }
    yield line;
  }
}

/** `POST /images/prune` of dangling images. */
export async function pruneDanglingImages(docker: DockerClient) {
  return await docker.json<
    { ImagesDeleted: { Deleted?: string; Untagged?: string }[] | null; SpaceReclaimed: number }
  >(
    "POST",
    "/images/prune",
    { query: { filters: JSON.stringify({ dangling: ["true"] }) }, timeoutMs: 300_000 },
  );
}

/** Checks a credential with the Engine's `POST /auth` (the registry answers). */
export async function checkRegistryLogin(
  docker: DockerClient,
  auth: { username: string; password: string; serveraddress: string },
) {
  return await docker.json<{ Status: string }>("POST", "/auth", { json: auth, timeoutMs: 60_000 });
}
