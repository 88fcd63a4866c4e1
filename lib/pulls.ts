/**
 * The pulls the Images tab started that are still running, so a page that was reloaded or
 * opened later can show their progress again. Each keeps a compact replay (the latest line
 * per layer and the last general status lines), never the whole stream.
 */

export interface PullSummary {
  id: string;
  reference: string;
  /** Who started it (a username). */
  actor: string;
  started_at: string;
}

/** One line as the pull stream carries it: an Engine progress line, or the final `{done}`. */
export type PullStreamLine = Record<string, unknown>;

export interface TrackedPull {
  readonly id: string;
  record(line: PullStreamLine): void;
  /** The final `{done: …}` line: followers get it and end; the pull is forgotten. */
  finish(line: PullStreamLine): void;
}

export interface PullTracker {
  start(reference: string, actor: string): TrackedPull;
  running(): PullSummary[];
  /**
   * Replays what is known of a running pull to `onLine`, then follows it until its final
   * line, after which `onEnd` runs. The follower is released when `signal` aborts (its
   * client went away) or the returned function is called. Returns undefined when no such
   * pull is running.
   */
  follow(
    id: string,
    onLine: (line: PullStreamLine) => void,
    onEnd: () => void,
    signal?: AbortSignal,
  ): (() => void) | undefined;
  /** How many followers a running pull has (0 when it is not running). */
  followers(id: string): number;
}

/** General (non-layer) lines kept for the replay; the newest win. */
const GENERAL_LINES_KEPT = 20;

interface Entry {
  summary: PullSummary;
  general: PullStreamLine[];
  /** The newest line per layer id, in the order the layers first appeared. */
  layers: Map<string, PullStreamLine>;
  followers: Set<{ onLine: (line: PullStreamLine) => void; onEnd: () => void }>;
}

export function createPullTracker(now: () => Date = () => new Date()): PullTracker {
  const entries = new Map<string, Entry>();

  return {
    start(reference, actor) {
      const id = crypto.randomUUID();
      const entry: Entry = {
        summary: { id, reference, actor, started_at: now().toISOString() },
        general: [],
        layers: new Map(),
        followers: new Set(),
      };
      entries.set(id, entry);
      return {
        id,
        record(line) {
          if (!entries.has(id)) return;
          const layer = typeof line.id === "string" && isLayerProgress(line) ? line.id : null;
          if (layer) entry.layers.set(layer, line);
          else {
            entry.general.push(line);
            if (entry.general.length > GENERAL_LINES_KEPT) entry.general.shift();
          }
          for (const follower of entry.followers) follower.onLine(line);
        },
        finish(line) {
          if (!entries.delete(id)) return;
          for (const follower of entry.followers) {
            follower.onLine(line);
            follower.onEnd();
          }
          entry.followers.clear();
        },
      };
    },

    running() {
      return [...entries.values()].map((entry) => ({ ...entry.summary }));
    },

    follow(id, onLine, onEnd, signal) {
      const entry = entries.get(id);
      if (!entry || signal?.aborted) return undefined;
      for (const line of entry.general) onLine(line);
      for (const line of entry.layers.values()) onLine(line);
      const follower = { onLine, onEnd };
      entry.followers.add(follower);
      const stop = () => {
        entry.followers.delete(follower);
        signal?.removeEventListener("abort", stop);
      };
      signal?.addEventListener("abort", stop, { once: true });
      return stop;
    },

    followers(id) {
      return entries.get(id)?.followers.size ?? 0;
    },
  };
}

/**
 * A line about one layer, whose newest state is all a replay needs. "Pulling from <repo>"
 * carries the repository in `id` but is general.
 */
function isLayerProgress(line: PullStreamLine): boolean {
  const status = typeof line.status === "string" ? line.status : "";
  return status !== "" && !status.startsWith("Pulling from");
}
