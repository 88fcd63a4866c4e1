/**
 * Container stats, shared: at most one upstream `GET /containers/{id}/stats?stream=1` per
 * container however many subscribers it has. Upstreams follow container events (open on
 * `start`, close on `die`/`destroy`) and the Engine's reconnects; nothing polls.
 */
import type { DockerClient } from "./client.ts";
import { inspectContainer, listContainers } from "./containers.ts";
import { DockerError } from "./errors.ts";
import type { EngineEvent, EventsHub } from "./events.ts";
import { ndjson } from "./streams.ts";
import { containerRef } from "./validate.ts";

export interface StatsSample {
  /** The full container id. */
  id: string;
  /** When the Engine read the sample, ms since the epoch. */
  time: number;
  cpu_percent: number;
  /** Memory in use without the page cache, as `docker stats` shows it. */
  mem_bytes: number;
  mem_limit: number;
  mem_percent: number;
  net_rx: number;
  net_tx: number;
  blk_read: number;
  blk_write: number;
  pids: number;
}

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** One frame of the Engine's stats stream, as far as it is used here. */
export interface EngineStats {
  read?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  pids_stats?: { current?: number };
}

/**
 * A sample computed the way the docker CLI does, or `undefined` for the empty frames the
 * Engine sends for a container that is not running (their `read` is 0001-01-01).
 */
export function computeSample(id: string, raw: EngineStats): StatsSample | undefined {
  const time = Date.parse(raw.read ?? "");
  if (!(time > 0)) return undefined;

  const cpu = raw.cpu_stats ?? {};
  const precpu = raw.precpu_stats ?? {};
  const cpuDelta = num(cpu.cpu_usage?.total_usage) - num(precpu.cpu_usage?.total_usage);
  const systemDelta = num(cpu.system_cpu_usage) - num(precpu.system_cpu_usage);
  const cpus = num(cpu.online_cpus) || (cpu.cpu_usage?.percpu_usage?.length ?? 0);
  // precpu is empty on the first frame: its system usage is 0, which is no real interval.
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 && num(precpu.system_cpu_usage) > 0
    ? (cpuDelta / systemDelta) * cpus * 100
    : 0;

  const memory = raw.memory_stats ?? {};
  const memBytes = memoryWithoutCache(num(memory.usage), memory.stats ?? {});
  const memLimit = num(memory.limit);

  let netRx = 0;
  let netTx = 0;
  for (const network of Object.values(raw.networks ?? {})) {
    netRx += num(network.rx_bytes);
    netTx += num(network.tx_bytes);
  }

  let blkRead = 0;
  let blkWrite = 0;
  for (const entry of raw.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = entry.op?.toLowerCase();
    if (op === "read") blkRead += num(entry.value);
    else if (op === "write") blkWrite += num(entry.value);
  }

  return {
    id,
    time,
    cpu_percent: num(cpuPercent),
    mem_bytes: memBytes,
    mem_limit: memLimit,
    mem_percent: memLimit > 0 ? num((memBytes / memLimit) * 100) : 0,
    net_rx: netRx,
    net_tx: netTx,
    blk_read: blkRead,
    blk_write: blkWrite,
    pids: num(raw.pids_stats?.current),
  };
}

/** Usage minus the inactive page cache: cgroup v1 `total_inactive_file`, v2 `inactive_file`. */
function memoryWithoutCache(usage: number, stats: Record<string, number>): number {
  const v1 = stats.total_inactive_file;
  if (v1 !== undefined && num(v1) < usage) return usage - num(v1);
  const v2 = stats.inactive_file;
  if (v2 !== undefined && num(v2) < usage) return usage - num(v2);
  return usage;
}

/** A finite, non-negative number, else 0. */
function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

export interface StatsHub {
  /** One container. Listener gets about one sample a second while it runs. */
  subscribe(containerId: string, listener: (sample: StatsSample) => void): () => void;
  /** Every running container, multiplexed: follows start/die events to add/remove containers. */
  subscribeAll(listener: (sample: StatsSample) => void): () => void;
  /**
   * The samples of the last HISTORY_MS of a container someone watches (directly or through
   * subscribeAll), oldest first; empty for one nobody watches.
   */
  history(containerId: string): StatsSample[];
  /** Number of open upstream Engine stats streams right now (tests, benchmarks). */
  upstreams(): number;
  close(): void;
}

export interface StatsHubOptions {
  /** How long an upstream stays open after its last subscriber left. Default 5000. */
  lingerMs?: number;
  /**
   * The first wait before reopening a stream that ended or failed while its container
   * still runs; it doubles after every attempt that brings no sample, up to 10 s.
   * Default 500.
   */
  retryMs?: number;
  log?: (message: string) => void;
}

type Listener = (sample: StatsSample) => void;

interface Entry {
  id: string;
  /** Direct subscribers; subscribeAll listeners get every entry in `allIds`. */
  listeners: Set<Listener>;
  upstream?: AbortController;
  linger?: ReturnType<typeof setTimeout>;
  /** A pending reopen after the stream ended or failed while the container ran. */
  retry?: ReturnType<typeof setTimeout>;
  retryMs: number;
  /** The last HISTORY_MS of samples, oldest first, while the entry exists. */
  history: SampleRing;
}

/** A sample's numbers, in the order a SampleRing stores them. */
const RING_FIELDS = [
  "time",
  "cpu_percent",
  "mem_bytes",
  "mem_limit",
  "mem_percent",
  "net_rx",
  "net_tx",
  "blk_read",
  "blk_write",
  "pids",
] as const satisfies readonly (keyof StatsSample)[];
const WIDTH = RING_FIELDS.length;

/**
 * A container's history as numbers in one Float64Array, oldest first: 80 bytes a sample
 * instead of an object with its boxed numbers (about twice that, and old-generation garbage
 * once dropped). 100 watched containers keep 15 minutes in under 8 MB. The array grows by
 * doubling up to `max` samples, then the oldest sample is overwritten.
 */
export class SampleRing {
  #data = new Float64Array(0);
  #start = 0;
  #length = 0;
  constructor(readonly max: number) {}

  get length(): number {
    return this.#length;
  }

  push(sample: StatsSample) {
    const capacity = this.#data.length / WIDTH;
    if (this.#length === capacity) {
      if (capacity < this.max) this.#grow(Math.min(this.max, Math.max(16, capacity * 2)));
      else {
        this.#start = (this.#start + 1) % capacity; // full: the oldest goes
        this.#length--;
      }
    }
    const at = ((this.#start + this.#length) % (this.#data.length / WIDTH)) * WIDTH;
    for (let i = 0; i < WIDTH; i++) this.#data[at + i] = sample[RING_FIELDS[i]];
    this.#length++;
  }

  /** Drops the samples older than `time` (ms since the epoch). */
  dropBefore(time: number) {
    const capacity = this.#data.length / WIDTH;
    while (this.#length > 0 && this.#data[this.#start * WIDTH] < time) {
      this.#start = (this.#start + 1) % capacity;
      this.#length--;
    }
  }

  /** The samples as objects, oldest first. */
  samples(id: string): StatsSample[] {
    const capacity = this.#data.length / WIDTH;
    const out: StatsSample[] = [];
    for (let n = 0; n < this.#length; n++) {
      const at = ((this.#start + n) % capacity) * WIDTH;
      const sample = { id } as StatsSample;
      for (let i = 0; i < WIDTH; i++) sample[RING_FIELDS[i]] = this.#data[at + i];
      out.push(sample);
    }
    return out;
  }

  #grow(capacity: number) {
    const next = new Float64Array(capacity * WIDTH);
    const old = this.#data.length / WIDTH;
    for (let n = 0; n < this.#length; n++) {
      const from = ((this.#start + n) % old) * WIDTH;
      next.set(this.#data.subarray(from, from + WIDTH), n * WIDTH);
    }
    this.#data = next;
    this.#start = 0;
  }
}

/** How much history the stats view charts. */
export const HISTORY_MS = 15 * 60_000;
/** At most this many samples per container (one a second over HISTORY_MS, with margin). */
const HISTORY_MAX = 1_000;

/** How an upstream stream ended. */
type Outcome = "stopped" | "ended";

const MAX_RETRY_MS = 10_000;
/**
 * Upstreams waiting for their response headers at once. A table opening on 1000 running
 * containers opens them in waves instead of 1000 connections in the same instant; the
 * Engine answers each in milliseconds, so the waves cost little.
 */
export const MAX_OPENING = 16;
/** How long an upstream may wait for its headers before it counts as failed (and retries). */
const OPEN_TIMEOUT_MS = 10_000;

const FULL_ID_RE = /^[a-f0-9]{64}$/;

export function createStatsHub(
  docker: DockerClient,
  events: EventsHub,
  options: StatsHubOptions = {},
): StatsHub {
  const lingerMs = options.lingerMs ?? 5_000;
  const firstRetryMs = options.retryMs ?? 500;
  const log = options.log ?? ((message: string) => console.error(message));
  const entries = new Map<string, Entry>();
  const allListeners = new Set<Listener>();
  /** Running containers that subscribeAll listeners receive (empty while there are none). */
  const allIds = new Set<string>();
  const opening = createLimiter(MAX_OPENING);
  let releaseEvents: (() => void) | undefined;
  let eventsDown = false;
  let closed = false;

  const wanted = (entry: Entry) => entry.listeners.size > 0 || allIds.has(entry.id);

  function emit(entry: Entry, sample: StatsSample) {
    entry.history.push(sample);
    entry.history.dropBefore(sample.time - HISTORY_MS);
    const targets = [...entry.listeners];
    if (allIds.has(entry.id)) targets.push(...allListeners);
    for (const listener of targets) {
      try {
        listener(sample);
      } catch (error) {
        log(`A stats listener threw: ${describe(error)}`);
      }
    }
  }

  /** Follows events only while there is something to follow them for. */
  function syncEvents() {
    const needed = !closed && (entries.size > 0 || allListeners.size > 0);
    if (needed && !releaseEvents) {
      // Until the events stream is live, a start can be missed: its connected:true event
      // (the first, or the one after an outage) triggers a resync that catches up.
      eventsDown = !events.connected();
      releaseEvents = events.subscribe(onEvent);
    } else if (!needed && releaseEvents) {
      releaseEvents();
      releaseEvents = undefined;
    }
  }

  /** Makes sure a wanted container has an entry and, unless it is already open, an upstream. */
  function attach(id: string): Entry {
    let entry = entries.get(id);
    if (!entry) {
      entry = {
        id,
        listeners: new Set(),
        retryMs: firstRetryMs,
        history: new SampleRing(HISTORY_MAX),
      };
      entries.set(id, entry);
    }
    clearTimeout(entry.linger);
    entry.linger = undefined;
    if (!entry.upstream) open(entry);
    syncEvents();
    return entry;
  }

  /** Called when an entry may have lost its last subscriber. */
  function release(entry: Entry) {
    if (wanted(entry) || entry.linger !== undefined) return;
    if (!entry.upstream) return drop(entry);
    entry.linger = setTimeout(() => {
      entry.linger = undefined;
      if (!wanted(entry)) drop(entry);
    }, lingerMs);
  }

  function drop(entry: Entry) {
    clearTimeout(entry.linger);
    entry.linger = undefined;
    closeUpstream(entry);
    if (entries.get(entry.id) === entry) entries.delete(entry.id);
    syncEvents();
  }

  function closeUpstream(entry: Entry) {
    clearTimeout(entry.retry);
    entry.retry = undefined;
    entry.upstream?.abort();
    entry.upstream = undefined;
  }

  /** (Re)opens the entry's upstream; an older one (or a pending reopen) is dropped first. */
  function open(entry: Entry) {
    closeUpstream(entry);
    const controller = new AbortController();
    entry.upstream = controller;
    pump(entry, controller.signal).then(
      (outcome) => {
        if (entry.upstream !== controller) return; // replaced or dropped meanwhile
        if (outcome === "stopped") ended(entry, controller, true);
        else {
          log(`Stats stream for container ${entry.id} ended; reopening`);
          endedWhileWanted(entry, controller);
        }
      },
      (error) => {
        if (controller.signal.aborted || entry.upstream !== controller) return;
        if (error instanceof DockerError && error.daemonStatus === 404) {
          return ended(entry, controller, true); // the container is gone
        }
        log(`Stats stream for container ${entry.id} failed: ${describe(error)}`);
        endedWhileWanted(entry, controller);
      },
    );
  }

  /**
   * Emits samples until the container stops running ("stopped"), the stream ends by itself
   * ("ended"), or it fails (throws).
   */
  async function pump(entry: Entry, signal: AbortSignal): Promise<Outcome> {
    const release = await opening.acquire(signal);
    let response: Response;
    try {
      response = await docker.request("GET", `/containers/${containerRef(entry.id)}/stats`, {
        query: { stream: 1 },
        stream: true,
        timeoutMs: OPEN_TIMEOUT_MS,
        signal,
      });
    } finally {
      release();
    }
    if (!response.body) return "ended";
    // A stopped container's stream does not end on Engine 20.10: it sends empty frames until
    // the container starts again. Stop at the first one (leaving the loop cancels the body);
    // the `start` event re-opens it.
    for await (const raw of ndjson<EngineStats>(response.body)) {
      if (signal.aborted) return "ended";
      const sample = computeSample(entry.id, raw);
      if (!sample) return "stopped";
      entry.retryMs = firstRetryMs; // a working stream: the next failure starts over
      emit(entry, sample);
    }
    return "ended";
  }

  function ended(entry: Entry, controller: AbortController, notRunning: boolean) {
    if (entry.upstream !== controller) return; // replaced or dropped meanwhile
    entry.upstream = undefined;
    controller.abort();
    // No longer running: subscribeAll drops it until its next `start` event.
    if (notRunning) allIds.delete(entry.id);
    if (!wanted(entry)) drop(entry);
  }

  /**
   * The stream ended or failed although nothing said the container stopped (/events may
   * well be up): reopen it with back-off while it is wanted and the container still runs.
   */
  function endedWhileWanted(entry: Entry, controller: AbortController) {
    ended(entry, controller, false);
    scheduleReopen(entry);
  }

  function scheduleReopen(entry: Entry) {
    if (closed || entries.get(entry.id) !== entry || !wanted(entry)) return;
    if (entry.upstream || entry.retry !== undefined) return;
    const wait = entry.retryMs;
    entry.retryMs = Math.min(entry.retryMs * 2, MAX_RETRY_MS);
    entry.retry = setTimeout(async () => {
      entry.retry = undefined;
      if (closed || entry.upstream || entries.get(entry.id) !== entry) return;
      if (!wanted(entry)) return drop(entry);
      let running: boolean;
      try {
        running = (await inspectContainer(docker, entry.id)).State.Running === true;
      } catch (error) {
        if (error instanceof DockerError && error.daemonStatus === 404) running = false;
        else {
          // The Engine itself is unwell: try again later (its reconnect may come first).
          log(`Stats for container ${entry.id}: inspect failed: ${describe(error)}`);
          return scheduleReopen(entry);
        }
      }
      if (closed || entry.upstream || entry.retry !== undefined) return;
      if (entries.get(entry.id) !== entry) return;
      if (!running) {
        allIds.delete(entry.id);
        if (!wanted(entry)) drop(entry);
      } else if (wanted(entry)) open(entry);
      else drop(entry);
    }, wait);
  }

  function onEvent(event: EngineEvent) {
    if (event.kind === "engine") {
      if (!event.connected) eventsDown = true;
      else if (eventsDown) {
        eventsDown = false;
        resync();
      }
      return;
    }
    const { id, action } = event.event;
    if (action === "start") {
      if (allListeners.size > 0) allIds.add(id);
      const entry = entries.get(id);
      if (entry && wanted(entry)) {
        open(entry); // always fresh: an older stream may still carry empty frames
      } else if (allIds.has(id)) {
        attach(id);
      }
    } else if (action === "die" || action === "destroy") {
      allIds.delete(id);
      const entry = entries.get(id);
      if (!entry) return;
      closeUpstream(entry);
      if (!wanted(entry)) drop(entry);
    }
  }

  /** After the Engine came back: re-open what is still wanted, re-list for subscribeAll. */
  function resync() {
    for (const entry of [...entries.values()]) {
      if (wanted(entry) && !entry.upstream) open(entry);
    }
    if (allListeners.size > 0) listRunning();
  }

  async function listRunning() {
    let running;
    try {
      running = await listContainers(docker, { all: false });
    } catch (error) {
      // The events hub reconnects and says so; this runs again then.
      log(`Listing running containers for stats failed: ${describe(error)}`);
      return;
    }
    if (closed || allListeners.size === 0) return;
    for (const container of running) {
      if (allIds.has(container.Id)) continue;
      allIds.add(container.Id);
      attach(container.Id);
    }
  }

  return {
    subscribe(containerId, listener) {
      const ref = containerRef(containerId);
      if (closed) return () => {};
      // A copy per call, so subscribing the same function twice needs two unsubscribes.
      const own: Listener = (sample) => listener(sample);
      let entry: Entry | undefined;
      let active = true;
      const add = (id: string) => {
        if (!active || closed) return;
        entry = attach(id);
        entry.listeners.add(own);
      };
      if (FULL_ID_RE.test(ref)) add(ref);
      else {
        // Entries are keyed by full id so that subscribeAll shares them.
        inspectContainer(docker, ref).then(
          (info) => add(info.Id),
          (error) => log(`Stats for container ${ref} unavailable: ${describe(error)}`),
        );
      }
      return () => {
        if (!active) return;
        active = false;
        if (!entry) return;
        entry.listeners.delete(own);
        release(entry);
      };
    },

    subscribeAll(listener) {
      if (closed) return () => {};
      const own: Listener = (sample) => listener(sample);
      allListeners.add(own);
      if (allListeners.size === 1) {
        syncEvents(); // before listing, so no container starting meanwhile is missed
        listRunning();
      }
      return () => {
        if (!allListeners.delete(own) || allListeners.size > 0) return;
        const ids = [...allIds];
        allIds.clear();
        for (const id of ids) {
          const entry = entries.get(id);
          if (entry) release(entry);
        }
        syncEvents();
      };
    },

    history(containerId) {
      return entries.get(containerId)?.history.samples(containerId) ?? [];
    },

    upstreams() {
      let count = 0;
      for (const entry of entries.values()) if (entry.upstream) count++;
      return count;
    },

    close() {
      closed = true;
      allListeners.clear();
      allIds.clear();
      for (const entry of [...entries.values()]) drop(entry);
      syncEvents();
    },
  };
}

/** At most `limit` holders at once; the others wait in order. A waiter that aborts leaves. */
function createLimiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    acquire(signal: AbortSignal): Promise<() => void> {
      signal.throwIfAborted();
      if (active < limit) {
        active++;
        return Promise.resolve(once(release));
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener("abort", leave);
          active++;
          resolve(once(release));
        };
        const leave = () => {
          const index = waiting.indexOf(grant);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal.reason);
        };
        waiting.push(grant);
        signal.addEventListener("abort", leave, { once: true });
      });
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
