/** Image operations on the Engine API. */
import type { DockerClient } from "./client.ts";
import type { ImageInspect, ImageSummary } from "./types.ts";
import { imageRef } from "./validate.ts";
import { parseReference } from "./reference.ts";
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
