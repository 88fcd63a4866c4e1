/**
 * What a webhook receives (README "Webhooks"): one JSON object per event,
 * `{event, sent_at, source, delivery, ...}` with `updates` (updates.found) or `update`
 * (update.applied, update.failed).
 */
import type { AutoUpdate } from "../updates/auto.ts";
import type { UpdateResult } from "../updates/store.ts";

/** One container whose image has an update (or a newer version) the last check found. */
export interface FoundUpdate {
  container_id: string;
  name: string;
  image: string;
  stack?: string;
  service?: string;
  local_digest: string | null;
  remote_digest: string | null;
  update_seen_at?: string;
  versions?: UpdateResult["versions"];
}

export type UpdateEvent =
  | { event: "updates.found"; updates: FoundUpdate[] }
  | { event: "update.applied" | "update.failed"; update: AutoUpdate };

export type WebhookPayload = UpdateEvent & {
  sent_at: string;
  source: "container-manager";
  /** The same for every attempt of one delivery, so a receiver can drop repeats. */
  delivery: string;
};

export function foundUpdate(result: UpdateResult): FoundUpdate {
  return {
    container_id: result.id,
    name: result.name,
    image: result.image,
    ...(result.stack ? { stack: result.stack } : {}),
    ...(result.service ? { service: result.service } : {}),
    local_digest: result.local_digest,
    remote_digest: result.remote_digest,
    ...(result.update_seen_at ? { update_seen_at: result.update_seen_at } : {}),
    ...(result.versions ? { versions: result.versions } : {}),
  };
}

/**
 * The results that are news: an update (digest) not reported by the previous check, or a
 * newer version not offered before.
 */
export function newUpdates(
  results: readonly UpdateResult[],
  previous: ReadonlyMap<string, UpdateResult>,
): FoundUpdate[] {
  return results.filter((result) => {
    const before = previous.get(result.id);
    const newDigest = result.state === "update_available" &&
      !(before?.state === "update_available" && before.remote_digest === result.remote_digest);
    const versions = Object.values(result.versions ?? {}).join(" ");
    const newVersions = versions !== "" &&
      versions !== Object.values(before?.versions ?? {}).join(" ");
    return newDigest || newVersions;
  }).map(foundUpdate);
}
