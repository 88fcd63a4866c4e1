/**
 * The `auto` update policy (label io.quazzar.update=auto): after a scheduled check, each
 * such container whose tag has a newer digest, or which has a newer patch or minor version
 * of the same variant, is updated through the dispatcher (docker.update, audited with the
 * actor "scheduler"). A major version is never crossed. A container of a compose stack is
 * updated holding its project's lock; a busy project is left for the next check. An update
 * that fails or rolls back is not tried again for the same target (until the panel
 * restarts), so a broken image is not pulled and rolled back every interval.
 */
import type { ProjectLocks } from "../compose/lock.ts";
import type { Actor, Dispatcher } from "../sysctl/dispatch.ts";
import type { UpdateApplied } from "./apply.ts";
import type { UpdateResult } from "./store.ts";
import type { UpdateEvent } from "../webhooks/payload.ts";

export const SCHEDULER: Actor = { username: "scheduler", role: "system", ip: "" };

export interface AutoUpdate {
  container_id: string;
  name: string;
  image: string;
  /** The tag moved to, when the update moves to a newer version. */
  tag?: string;
  outcome: UpdateApplied["outcome"] | "failed" | "skipped";
  reason?: string;
}

export interface AutoUpdaterDeps {
  dispatcher: () => Dispatcher;
  locks?: ProjectLocks;
  notify?: (event: UpdateEvent) => void;
}

/** What an auto update of this result moves to, or undefined when it has nothing to do. */
export function autoTarget(result: UpdateResult): { tag?: string; key: string } | undefined {
  if (result.policy !== "auto" || result.pinned) return undefined;
  const tag = result.versions?.minor ?? result.versions?.patch;
  if (tag) return { tag, key: `${result.id} ${tag}` };
  if (result.state === "update_available" && result.remote_digest) {
    return { key: `${result.id} ${result.remote_digest}` };
  }
  return undefined;
}

export function createAutoUpdater(deps: AutoUpdaterDeps) {
  const givenUp = new Set<string>();

  async function updateOne(result: UpdateResult, tag?: string): Promise<AutoUpdate> {
    const base = {
      container_id: result.id,
      name: result.name,
      image: result.image,
      ...(tag ? { tag } : {}),
    };
    let release: (() => void) | undefined;
    if (result.stack && deps.locks) {
      try {
        release = deps.locks.acquire(result.stack, {
          operation: "automatic update",
          actor: SCHEDULER.username,
        });
      } catch (error) {
        return { ...base, outcome: "skipped", reason: (error as Error).message };
      }
    }
    try {
      const applied = await deps.dispatcher().dispatch<UpdateApplied>({
        verb: "docker.update",
        target: result.id,
        params: tag ? { tag } : {},
        actor: SCHEDULER,
      });
      return {
        ...base,
        outcome: applied.outcome,
        ...(applied.reason ? { reason: applied.reason } : {}),
      };
    } catch (error) {
      return { ...base, outcome: "failed", reason: (error as Error).message };
    } finally {
      release?.();
    }
  }

  return {
    /** Updates, one after the other, every result whose policy is auto and that is behind. */
    async run(results: readonly UpdateResult[]): Promise<AutoUpdate[]> {
      const done: AutoUpdate[] = [];
      for (const result of results) {
        const target = autoTarget(result);
        if (!target || givenUp.has(target.key)) continue;
        const outcome = await updateOne(result, target.tag);
        done.push(outcome);
        if (outcome.outcome === "failed" || outcome.outcome === "rolled_back") {
          givenUp.add(target.key);
          if (givenUp.size > 10_000) givenUp.delete(givenUp.values().next().value!);
          deps.notify?.({ event: "update.failed", update: outcome });
        } else if (outcome.outcome === "updated") {
          deps.notify?.({ event: "update.applied", update: outcome });
        }
      }
      return done;
    },
  };
}
