/**
 * One shared subscription to the Engine's `GET /events` (container, image, volume and network
 * events), fanned out to every listener. It opens with the first listener, closes with the last, and reconnects
 * by itself with backoff when the stream ends (dockerd restarted or down).
 */
import type { DockerClient } from "./client.ts";
import { ndjson } from "./streams.ts";

export interface ContainerEvent {
  /** The full container id (`Actor.ID`). */
  id: string;
  /**
   * The Engine's `Action` as sent, e.g. `start`, `die`, `destroy`. Some carry a detail after
   * ": " (`health_status: healthy`, `exec_start: sh -c ...`): it is kept, so match those with
   * `startsWith`.
   */
  action: string;
  name: string;
  image: string;
  /** On `die` only. */
  exitCode?: number;
  /** Milliseconds since the epoch. */
  time: number;
}

/** An image, volume or network event (the Images, Volumes and Networks tabs follow these). */
export interface ObjectEvent {
  type: "image" | "volume" | "network";
  /** e.g. `tag`, `untag`, `delete`, `pull`; `create`, `destroy`; `connect`, `disconnect`. */
  action: string;
  /** `Actor.ID`: the image id or reference, the volume name, the network id. */
  id: string;
  /** `Actor.Attributes.name` when the Engine sends one. */
  name: string;
  /** A network connect or disconnect: the container's id (`Actor.Attributes.container`). */
  container?: string;
  time: number;
}

export type EngineEvent =
  | { kind: "container"; event: ContainerEvent }
  | { kind: "engine"; connected: boolean };

export interface EventsHub {
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
  /**
   * Image, volume and network events (kept out of `subscribe`, whose listeners expect
   * container events). Keeps the upstream open like `subscribe`; returns the unsubscribe.
   */
  subscribeObjects(listener: (event: ObjectEvent) => void): () => void;
  /** Whether the upstream `/events` stream is open right now. */
  connected(): boolean;
  /** Stops everything (shutdown); later subscribers get nothing. */
  close(): void;
}

export interface EventsHubOptions {
  log?: (message: string) => void;
  /** The first reconnect delay; it doubles after every failure, up to 10 s. Default 500. */
  retryMs?: number;
}

const MAX_RETRY_MS = 10_000;

/** The Engine's event JSON, as far as it is used here (and by the kept container list). */
export interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export function createEventsHub(docker: DockerClient, options: EventsHubOptions = {}): EventsHub {
  const log = options.log ?? ((message: string) => console.error(message));
  const firstRetryMs = options.retryMs ?? 500;
  const listeners = new Set<(event: EngineEvent) => void>();
  const objectListeners = new Set<(event: ObjectEvent) => void>();
  let upstream: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryMs = firstRetryMs;
  let isConnected = false;
  // What listeners were last told, so an outage is announced once, not once per retry.
  let announced: boolean | undefined;
  let closed = false;

  function emit(event: EngineEvent) {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        log(`An Engine events listener threw: ${describe(error)}`);
      }
    }
  }

  function emitObject(event: ObjectEvent | undefined) {
    if (!event) return;
    for (const listener of [...objectListeners]) {
      try {
        listener(event);
      } catch (error) {
        log(`An Engine events listener threw: ${describe(error)}`);
      }
    }
  }

  function announce(connected: boolean) {
    isConnected = connected;
    if (announced === connected) return;
    announced = connected;
    emit({ kind: "engine", connected });
  }

  async function connect() {
    const controller = new AbortController();
    upstream = controller;
    try {
      const response = await docker.request("GET", "/events", {
        query: { filters: JSON.stringify({ type: ["container", "image", "volume", "network"] }) },
        stream: true,
        signal: controller.signal,
      });
      if (!response.body) throw new Error("The Engine answered /events without a body");
      retryMs = firstRetryMs;
      announce(true);
      for await (const raw of ndjson<RawEvent>(response.body)) {
        const event = containerEvent(raw);
        if (event) emit({ kind: "container", event });
        else emitObject(objectEvent(raw));
      }
      if (upstream === controller) log("The Engine closed the events stream; reconnecting");
    } catch (error) {
      if (upstream === controller) log(`Engine events stream failed: ${describe(error)}`);
    } finally {
      controller.abort(); // releases the body if the loop left early
    }
    if (upstream !== controller) return; // stopped or closed meanwhile
    upstream = undefined;
    announce(false);
    scheduleRetry();
  }

  function scheduleRetry() {
    if (closed || listeners.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!closed && listeners.size > 0 && !upstream) connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  function stop() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    upstream?.abort();
    upstream = undefined;
    isConnected = false;
    announced = undefined;
    retryMs = firstRetryMs;
  }

  const hub: EventsHub = {
    subscribe(listener) {
      if (closed) return () => {};
      // A copy per call, so subscribing the same function twice needs two unsubscribes.
      const entry = (event: EngineEvent) => listener(event);
      listeners.add(entry);
      if (!upstream && retryTimer === undefined) connect();
      return () => {
        if (!listeners.delete(entry)) return;
        if (listeners.size === 0) stop();
      };
    },
    subscribeObjects(listener) {
      const entry = (event: ObjectEvent) => listener(event);
      objectListeners.add(entry);
      const release = hub.subscribe(() => {});
      return () => {
        objectListeners.delete(entry);
        release();
      };
    },
    connected: () => isConnected,
    close() {
      closed = true;
      listeners.clear();
      objectListeners.clear();
      stop();
    },
  };
  return hub;
}

export function objectEvent(raw: RawEvent): ObjectEvent | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const type = raw.Type;
  if (type !== "image" && type !== "volume" && type !== "network") return undefined;
  const id = raw.Actor?.ID;
  if (typeof id !== "string" || typeof raw.Action !== "string") return undefined;
  const event: ObjectEvent = {
    type,
    action: raw.Action,
    id,
    name: raw.Actor?.Attributes?.name ?? "",
    time: typeof raw.time === "number" ? raw.time * 1000 : Date.now(),
  };
  const container = raw.Actor?.Attributes?.container;
  if (typeof container === "string") event.container = container;
  return event;
}

export function containerEvent(raw: RawEvent): ContainerEvent | undefined {
  if (typeof raw !== "object" || raw === null || raw.Type !== "container") return undefined;
  const id = raw.Actor?.ID;
  if (typeof id !== "string" || typeof raw.Action !== "string") return undefined;
  const attributes = raw.Actor?.Attributes ?? {};
  const exitCode = Number(attributes.exitCode);
  const event: ContainerEvent = {
    id,
    action: raw.Action,
    name: attributes.name ?? "",
    image: attributes.image ?? "",
    time: typeof raw.timeNano === "number"
      ? Math.floor(raw.timeNano / 1e6)
      : typeof raw.time === "number"
      ? raw.time * 1000
      : Date.now(),
  };
  if (attributes.exitCode !== undefined && Number.isFinite(exitCode)) event.exitCode = exitCode;
  return event;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
