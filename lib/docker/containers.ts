/** Container operations on the Engine API. Every id is validated before the URL is built. */
import type { DockerClient } from "./client.ts";
import type { ContainerCreateBody, ContainerInspect, ContainerSummary } from "./types.ts";
import { DockerError } from "./errors.ts";
import { containerName, containerRef, networkRef } from "./validate.ts";

export async function listContainers(
  docker: DockerClient,
  options: { all?: boolean; filters?: Record<string, string[]> } = {},
) {
  return await docker.json<ContainerSummary[]>("GET", "/containers/json", {
    query: {
      all: options.all ?? true ? 1 : 0,
      filters: options.filters ? JSON.stringify(options.filters) : undefined,
    },
  });
}

export async function inspectContainer(docker: DockerClient, ref: string) {
  return await docker.json<ContainerInspect>("GET", `/containers/${containerRef(ref)}/json`);
}

export async function createContainer(
  docker: DockerClient,
  body: ContainerCreateBody,
  name?: string,
) {
  return await docker.json<{ Id: string; Warnings: string[] | null }>(
    "POST",
    "/containers/create",
    {
      query: { name: name === undefined ? undefined : containerName(name) },
      json: body,
    },
  );
}

/** Starting a running container is not an error (the Engine answers 304). */
export async function startContainer(docker: DockerClient, ref: string) {
  await docker.json("POST", `/containers/${containerRef(ref)}/start`).catch(unlessNotModified);
}

/** Stopping a stopped container is not an error (the Engine answers 304). */
export async function stopContainer(docker: DockerClient, ref: string, timeoutSeconds = 10) {
  await docker.json("POST", `/containers/${containerRef(ref)}/stop`, {
    query: { t: timeoutSeconds },
    timeoutMs: (timeoutSeconds + 30) * 1000,
  }).catch(unlessNotModified);
}

/** 304 Not Modified: the container already was in the state asked for. */
function unlessNotModified(error: unknown): void {
  if (error instanceof DockerError && error.daemonStatus === 304) return;
  throw error;
}

export async function restartContainer(docker: DockerClient, ref: string, timeoutSeconds = 10) {
  await docker.json("POST", `/containers/${containerRef(ref)}/restart`, {
    query: { t: timeoutSeconds },
    timeoutMs: (timeoutSeconds + 30) * 1000,
  });
}

export async function removeContainer(
  docker: DockerClient,
  ref: string,
  options: { force?: boolean; volumes?: boolean } = {},
) {
  await docker.json("DELETE", `/containers/${containerRef(ref)}`, {
    query: { force: options.force ? 1 : undefined, v: options.volumes ? 1 : undefined },
  });
}

export async function pauseContainer(docker: DockerClient, ref: string) {
  await docker.json("POST", `/containers/${containerRef(ref)}/pause`);
}

export async function unpauseContainer(docker: DockerClient, ref: string) {
  await docker.json("POST", `/containers/${containerRef(ref)}/unpause`);
}

/** `signal` is already validated (lib/docker/limits.ts signalName). */
export async function killContainer(docker: DockerClient, ref: string, signal: string) {
  await docker.json("POST", `/containers/${containerRef(ref)}/kill`, { query: { signal } });
}

export async function renameContainer(docker: DockerClient, ref: string, name: string) {
  await docker.json("POST", `/containers/${containerRef(ref)}/rename`, {
    query: { name: containerName(name) },
  });
}

/** `docker update`: restart policy and resource limits of an existing container. */
export async function updateContainer(
  docker: DockerClient,
  ref: string,
  body: Record<string, unknown>,
) {
  return await docker.json<{ Warnings: string[] | null }>(
    "POST",
    `/containers/${containerRef(ref)}/update`,
    { json: body },
  );
}

/** The process list (`docker top`), as the Engine's titles and rows. */
export async function topContainer(docker: DockerClient, ref: string) {
  return await docker.json<{ Titles: string[]; Processes: string[][] | null }>(
    "GET",
    `/containers/${containerRef(ref)}/top`,
  );
}

export async function connectContainer(
  docker: DockerClient,
  network: string,
  container: string,
  endpoint: Record<string, unknown>,
) {
  await docker.json("POST", `/networks/${networkRef(network)}/connect`, {
    json: { Container: containerRef(container), EndpointConfig: endpoint },
  });
}
