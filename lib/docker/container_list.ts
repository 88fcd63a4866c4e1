/**
 * The container list, kept up to date from the Engine's events, so that listing costs no
 * list call while nothing changes (issue 15: the panel's list within 1.1x of the Engine's).
 *
 * It keeps each container's list entry and the part of its inspect a row shows, in the
 * Engine's order. Before serving them it asks the Engine's events log what happened since
 * the last list, up to this moment (`GET /events?since=…&until=…`, which answers at once):
 * an event the live stream has not delivered yet (a change made with the CLI just before the
 * list was asked for) counts too, so a list is never older than the request for it.
 * The kept list is served only while all of these hold since it was read:
 * - the Engine is on this host (its Unix socket): the log is asked with the panel's clock;
 * - the events stream was up when the read began and has stayed up (an outage may hide
 *   changes);
 * - the panel's own Engine client made no write (a caller must see its own change, whenever
 *   the Engine logs its events);
 * - no image was tagged, untagged, removed or loaded (a row shows its image's reference only
 *   while that reference still names the container's image);
 * - the events log held every event since (it keeps the last 256);
 * - it is at most `maxAgeMs` old (30 s), a bound on anything missed all the same.
 * Otherwise the list is read whole again, reusing the inspect part of every container without
 * an event since whose status text still agrees. A container with an event (any action but
 * `exec_*`, or a network connect or disconnect) is read again alone: one filtered list call
 * and its inspect. The `status` text is computed from the kept times when a list is served
 * (views.ts `statusText`), so "Up 5 minutes" stays true while nothing happens.
 */
import type { DockerClient } from "./client.ts";
import { inspectContainer, listContainers } from "./containers.ts";
import {
  type ContainerEvent,
  containerEvent,
  type EventsHub,
  type ObjectEvent,
  objectEvent,
  type RawEvent,
} from "./events.ts";
import type { ContainerSummary } from "./types.ts";
import { type ContainerView, containerView, type RowState, rowState, statusText } from "./views.ts";

export interface ContainerList {
  /** Every container's row, newest first. */
  views(): Promise<ContainerView[]>;
  /**
   * One container's row, or null once it is gone: from the kept list (after reading the
   * containers with events since), else read alone.
   */
  view(id: string): Promise<ContainerView | null>;
  /** What the list cost the Engine so far (tests and benchmarks). */
  counters(): { wholeReads: number; partialReads: number; inspects: number; catchUps: number };
}

/** How long a kept list serves at most before it is read whole again. */
const MAX_AGE_MS = 30_000;
/** Above this many changed containers a whole read is cheaper than an id filter. */
const MAX_PARTIAL = 32;
/** Inspects run this many at a time. */
const INSPECT_WORKERS = 8;
/** Image events that can change the reference a row shows. */
const IMAGE_NAMING = new Set(["tag", "untag", "delete", "load", "import"]);
const CONTAINER_ID = /^[0-9a-f]{64}$/;
/** The Engine keeps this many events in its log; an answer this long may have lost some. */
const EVENTS_LOG = 256;
/** The events log answers at once; a slower answer makes the list read whole instead. */
const CATCH_UP_TIMEOUT_MS = 2_000;

/** The Engine's time format for `since` and `until`: seconds and nanoseconds. */
function engineTime(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, "0")}`;
}

interface KeptRow {
  summary: ContainerSummary;
  /** Absent when its inspect failed (the row then shows the list's own status). */
  state?: RowState;
}

/** When the kept rows were read: what must not have changed for them to be served. */
interface ReadMark {
  at: number;
  connected: boolean;
  invalidations: number;
  writes: number;
}

const listsByHub = new WeakMap<EventsHub, ContainerList>();

/** The one kept list of an events hub (the list route, the page and the row events share it). */
export function containerListFor(
  docker: DockerClient,
  events: EventsHub,
  managedLabel: string,
): ContainerList {
  let list = listsByHub.get(events);
  if (!list) {
    list = createContainerList(docker, events, managedLabel);
    listsByHub.set(events, list);
  }
  return list;
}

export function createContainerList(
  docker: DockerClient,
  events: EventsHub,
  managedLabel: string,
  options: { maxAgeMs?: number } = {},
): ContainerList {
  const maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
  const sameClock = docker.endpoint.startsWith("unix://");
  let rows = new Map<string, KeptRow>();
  let mark: ReadMark | undefined;
  /** Outages of the events stream, image renames, a full events log: each makes a kept list stale. */
  let invalidations = 0;
  /** Containers with an event since the rows were read. */
  const changed = new Set<string>();
  let reading: Promise<unknown> | undefined;
  let following = false;
  /** Up to when (panel clock, ms) the events log was read. */
  let checkedUntil = 0;
  const counts = { wholeReads: 0, partialReads: 0, inspects: 0, catchUps: 0 };

  const staleAll = () => invalidations++;
  const touch = (id: string | undefined) => {
    if (id && CONTAINER_ID.test(id)) changed.add(id);
    else staleAll();
  };

  const noteContainer = (event: ContainerEvent) => {
    // Health checks run execs every few seconds; they change nothing a row shows.
    if (!event.action.startsWith("exec_")) touch(event.id);
  };
  const noteObject = (event: ObjectEvent) => {
    if (event.type === "network" && (event.action === "connect" || event.action === "disconnect")) {
      touch(event.container);
    } else if (event.type === "image" && IMAGE_NAMING.has(event.action)) staleAll();
  };

  // Subscribed on first use and kept for the hub's life: the stream is one connection, and
  // the table's own events SSE keeps it open anyway whenever someone looks.
  function follow() {
    if (following) return;
    following = true;
    events.subscribe((event) => {
      if (event.kind === "engine") staleAll();
      else noteContainer(event.event);
    });
    events.subscribeObjects(noteObject);
  }

  /**
   * Reads the Engine's events log from the last check (or the kept read) up to now, and notes
   * each event as the live stream would. A failure makes the list read whole (which then says
   * what is wrong with the Engine).
   */
  async function catchUp(since: number) {
    // A millisecond ahead: the clock reads whole milliseconds, and an event logged within the
    // current one must count (the Engine waits out that millisecond before it answers).
    const until = Date.now() + 1;
    counts.catchUps++;
    try {
      const response = await docker.request("GET", "/events", {
        query: { since: engineTime(since), until: engineTime(until) },
        timeoutMs: CATCH_UP_TIMEOUT_MS,
      });
      const lines = (await response.text()).split("\n").filter((line) => line.trim() !== "");
      if (lines.length >= EVENTS_LOG) staleAll();
      for (const line of lines) {
        const raw = JSON.parse(line) as RawEvent;
        const event = containerEvent(raw);
        if (event) noteContainer(event);
        else {
          const other = objectEvent(raw);
          if (other) noteObject(other);
        }
      }
      checkedUntil = Math.max(checkedUntil, until);
    } catch {
      staleAll();
    }
  }

  const currentMark = (): ReadMark => ({
    at: Date.now(),
    connected: events.connected(),
    invalidations,
    writes: docker.writes(),
  });

  /** Whether the kept rows are still the Engine's, apart from the `changed` containers. */
  function trusted(): boolean {
    return sameClock && mark !== undefined && mark.connected && events.connected() &&
      mark.invalidations === invalidations && mark.writes === docker.writes() &&
      Date.now() - mark.at < maxAgeMs;
  }

  async function inspectInto(target: Map<string, KeptRow>, ids: string[]) {
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        counts.inspects++;
        const info = await inspectContainer(docker, id).catch(() => undefined);
        const row = target.get(id);
        if (row && info) row.state = rowState(info);
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_WORKERS, ids.length) }, worker));
  }

  /** Reads the whole list; a container's kept inspect part serves again if nothing happened to it. */
  async function readAll() {
    const begun = currentMark();
    // The kept states are the Engine's if the stream stayed up since they were read.
    const reuse = begun.connected && mark?.connected === true &&
      mark.invalidations === invalidations;
    const seen = new Set(changed);
    changed.clear();
    counts.wholeReads++;
    let summaries: ContainerSummary[];
    try {
      summaries = await listContainers(docker, { all: true });
    } catch (error) {
      for (const id of seen) changed.add(id);
      throw error;
    }
    const next = new Map<string, KeptRow>();
    const missing: string[] = [];
    const now = Date.now();
    for (const summary of summaries) {
      const state = reuse && !seen.has(summary.Id) ? rows.get(summary.Id)?.state : undefined;
      // A list that disagrees with the kept state means something changed that no event told
      // yet (the panel's own restart, say: same state, a new start time): inspect again.
      if (
        state && state.State.Status === summary.State &&
        statusText(state.State, now) === summary.Status
      ) next.set(summary.Id, { summary, state });
      else {
        next.set(summary.Id, { summary });
        missing.push(summary.Id);
      }
    }
    await inspectInto(next, missing);
    rows = next;
    mark = begun;
    return next;
  }

  /** Reads only the containers with events since; new ones take their place by creation time. */
  async function readChanged() {
    const ids = [...changed];
    changed.clear();
    counts.partialReads++;
    let summaries: ContainerSummary[];
    try {
      summaries = await listContainers(docker, { all: true, filters: { id: ids } });
    } catch (error) {
      for (const id of ids) changed.add(id);
      throw error;
    }
    const found = new Map<string, KeptRow>(summaries.map((summary) => [summary.Id, { summary }]));
    await inspectInto(found, [...found.keys()]);
    const added: [string, KeptRow][] = [];
    for (const id of ids) {
      const row = found.get(id);
      if (!row) rows.delete(id);
      else if (rows.has(id)) rows.set(id, row);
      else added.push([id, row]);
    }
    if (added.length > 0) {
      // Newest first, as the Engine lists them; new ones first among equal creation seconds.
      rows = new Map(
        [...added, ...rows].sort(([, a], [, b]) => b.summary.Created - a.summary.Created),
      );
    }
    return rows;
  }

  /** The kept rows, brought up to date; one caller at a time, so one read serves all. */
  async function current(): Promise<Map<string, KeptRow>> {
    follow();
    // Nothing can be kept without the stream: every list reads the Engine, side by side.
    if (!events.connected()) return await readAll();
    while (reading) await reading.catch(() => {});
    const read = refresh();
    reading = read;
    try {
      return await read;
    } finally {
      if (reading === read) reading = undefined;
    }
  }

  /** The events log since the last check, then whatever it and the stream say to read. */
  async function refresh(): Promise<Map<string, KeptRow>> {
    if (trusted()) await catchUp(Math.max(checkedUntil, mark!.at));
    if (trusted() && changed.size === 0) return rows;
    return trusted() && changed.size <= MAX_PARTIAL ? await readChanged() : await readAll();
  }

  const viewOf = (row: KeptRow, now: number) =>
    containerView(row.summary, managedLabel, row.state, now);

  return {
    async views() {
      const kept = await current();
      const now = Date.now();
      return Array.from(kept.values(), (row) => viewOf(row, now));
    },
    async view(id) {
      follow();
      if (trusted() && changed.size <= MAX_PARTIAL) {
        const row = (await current()).get(id);
        return row ? viewOf(row, Date.now()) : null;
      }
      // Not kept (or a burst of changes): this one container alone, as the Engine has it.
      const [summary] = await listContainers(docker, { all: true, filters: { id: [id] } });
      if (!summary) return null;
      counts.inspects++;
      const info = await inspectContainer(docker, summary.Id).catch(() => undefined);
      return containerView(summary, managedLabel, info ? rowState(info) : undefined);
    },
    counters: () => ({ ...counts }),
  };
}
