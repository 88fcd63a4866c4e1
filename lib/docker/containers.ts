/** Container operations on the Engine API. Every id is validated before the URL is built. */
import type { DockerClient } from "./client.ts";
import type { ContainerCreateBody, ContainerInspect, ContainerSummary } from "./types.ts";
import { DockerError } from "./errors.ts";
import type { EventsHub } from "./events.ts";
import { type ContainerView, containerView, type RowState, rowState } from "./views.ts";
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

/**
 * The inspect part of each row (the Engine's own state, restart count, start and finish
 * times), kept between lists and dropped on the container's next event. Without it a list
 * of N containers cost N inspects on top of the list itself (7x the Engine's list at 200
 * containers). It is trusted only while the events stream is up: an inspect is kept only
 * if the stream was connected when it began and no event for its container came since.
 */
export interface RowStates {
  /** A kept state, or undefined. */
  get(id: string): RowState | undefined;
  /** Starts an inspect; `keep` stores its result unless the container changed meanwhile. */
  begin(id: string): { keep(info: RowState): void };
  /** Drops states of containers that are not in a complete list any more. */
  retain(ids: Set<string>): void;
  /** Number of kept states (tests). */
  size(): number;
}

const rowStatesByHub = new WeakMap<EventsHub, RowStates>();

/** The one RowStates of an events hub (the list route and the page share it). */
export function rowStatesFor(events: EventsHub): RowStates {
  let states = rowStatesByHub.get(events);
  if (!states) {
    states = createRowStates(events);
    rowStatesByHub.set(events, states);
  }
  return states;
}

export function createRowStates(events: EventsHub): RowStates {
  const kept = new Map<string, RowState>();
  /** Inspects in flight, by container: a token an event for it (or an outage) revokes. */
  const inFlight = new Map<string, symbol>();
  let subscribed = false;

  const forgetAll = () => {
    kept.clear();
    inFlight.clear();
  };

  // Subscribed on first use and kept for the hub's life: the stream is one connection, and
  // the table's own events SSE keeps it open anyway whenever someone looks.
  function follow() {
    if (subscribed) return;
    subscribed = true;
    events.subscribe((event) => {
      if (event.kind === "engine") return forgetAll(); // an outage may have hidden changes
      // Health checks run execs every few seconds; they change nothing a row shows.
      if (event.event.action.startsWith("exec_")) return;
      kept.delete(event.event.id);
      inFlight.delete(event.event.id);
    });
  }

  return {
    get(id) {
      follow();
      return events.connected() ? kept.get(id) : undefined;
    },
    begin(id) {
      follow();
      if (!events.connected()) return { keep() {} };
      const token = Symbol(id);
      inFlight.set(id, token);
      return {
        keep(info) {
          if (inFlight.get(id) !== token) return;
          inFlight.delete(id);
          if (events.connected()) kept.set(id, rowState(info));
        },
      };
    },
    retain(ids) {
      for (const id of kept.keys()) if (!ids.has(id)) kept.delete(id);
    },
    size: () => kept.size,
  };
}

/**
 * The table's rows: the list, each with its inspect (the Engine's own state and restart
 * count), read a few at a time, or kept from an earlier list (`states`) while nothing
 * happened to the container since. A container gone between the two keeps its list view.
 */
export async function listContainerViews(
  docker: DockerClient,
  managedLabel: string,
  filters?: Record<string, string[]>,
  states?: RowStates,
): Promise<ContainerView[]> {
  const summaries = await listContainers(docker, { all: true, filters });
  const views: ContainerView[] = new Array(summaries.length);
  const missing: number[] = [];
  for (let index = 0; index < summaries.length; index++) {
    const summary = summaries[index];
    const state = states?.get(summary.Id);
    // A list that disagrees with the kept state means something changed: read it again.
    if (state && state.State.Status === summary.State) {
      views[index] = containerView(summary, managedLabel, state);
    } else missing.push(index);
  }
  if (states && !filters) states.retain(new Set(summaries.map((summary) => summary.Id)));
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const index = missing[next++];
      const summary = summaries[index];
      const pending = states?.begin(summary.Id);
      const info = await inspectContainer(docker, summary.Id).catch(() => undefined);
      if (info) pending?.keep(info);
      views[index] = containerView(summary, managedLabel, info);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, missing.length) }, worker));
  return views;
}
