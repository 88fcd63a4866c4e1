/**
 * The periodic housekeeping pass: expired sessions go, audit retention runs. It runs on a
 * timer, where a throw would kill the process without a graceful shutdown (running
 * operations would lose their final audit rows), so every step catches and logs its error
 * and the next pass tries again.
 */
import type { Db } from "./db.ts";
import { purgeExpiredSessions } from "../auth/sessions.ts";
import { pruneAudit, type RetentionPolicy } from "../sysctl/audit.ts";

export interface HousekeepingOptions {
  sessions: { idleMs: number; absoluteMs: number };
  retention: RetentionPolicy;
  log: (message: string) => void;
}

export function housekeep(db: Db, options: HousekeepingOptions): void {
  const step = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      options.log(
        `Housekeeping could not ${what}: ${error instanceof Error ? error.message : error}` +
          " (it tries again at the next pass)",
      );
    }
  };
  step("purge expired sessions", () => purgeExpiredSessions(db, options.sessions));
  step("apply audit retention", () => {
    const pruned = pruneAudit(db, options.retention);
    if (pruned) options.log(`Audit retention pruned ${pruned} rows`);
  });
}

/** Runs housekeep now and then every intervalMs; returns the timer to clear at shutdown. */
export function startHousekeeping(
  db: Db,
  options: HousekeepingOptions,
  intervalMs = 10 * 60_000,
): ReturnType<typeof setInterval> {
  housekeep(db, options);
  return setInterval(() => housekeep(db, options), intervalMs);
}
