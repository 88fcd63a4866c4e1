/**
 * The scheduled update check: every `intervalMs` (from the start of one check to the next;
 * a check that takes longer delays the next, never overlaps it) the panel dispatches
 * docker.updates.check as "system", audited like any other.
 */
import type { Dispatcher } from "../sysctl/dispatch.ts";

export interface UpdateSchedule {
  /** Stops scheduling and waits for a check that is running. */
  stop(): Promise<void>;
}

export function startUpdateSchedule(options: {
  dispatcher: Dispatcher;
  intervalMs: number;
  log: (message: string) => void;
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
  if (intervalMs > 0) timer = setTimeout(tick, intervalMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
