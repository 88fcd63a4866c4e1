/**
 * The scheduled update check: every `intervalMs` (from the start of one check to the next;
 * a check that takes longer delays the next, never overlaps it) the panel dispatches
 * docker.updates.check as "system", audited like any other. The first check comes one
 * interval after the last one recorded (so restarts do not add checks), or after a minute
 * (at most one interval) when none is recorded.
 */
import type { Dispatcher } from "../sysctl/dispatch.ts";

const FIRST_CHECK_MS = 60_000;

export interface UpdateSchedule {
  /** Stops scheduling and waits for a check that is running. */
  stop(): Promise<void>;
}

export function startUpdateSchedule(options: {
  dispatcher: Dispatcher;
  intervalMs: number;
  log: (message: string) => void;
  /** When the last check recorded in the database ran (ms since the epoch). */
  lastCheckedAt?: number;
}): UpdateSchedule {
  const { dispatcher, intervalMs, log } = options;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;

  const run = async () => {
    const started = Date.now();
    try {
      await dispatcher.dispatch({
        verb: "docker.updates.check",
        target: "all",
        params: { scheduled: true },
        actor: { username: "system", role: "system", ip: "" },
      });
    } catch (error) {
      log(`Scheduled update check failed: ${(error as Error).message}`);
    }
    if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - started)));
  };
  const tick = () => {
    running = run();
  };
  if (intervalMs > 0) {
    const first = options.lastCheckedAt === undefined
      ? Math.min(intervalMs, FIRST_CHECK_MS)
      : Math.min(intervalMs, Math.max(0, options.lastCheckedAt + intervalMs - Date.now()));
    timer = setTimeout(tick, first);
  }

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
