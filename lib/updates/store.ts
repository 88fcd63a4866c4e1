/** The last update check per container, kept in the database so it survives restarts. */
import type { Db } from "../db/db.ts";
import type { NewerVersions } from "./versions.ts";

export type UpdateState = "up_to_date" | "update_available" | "unknown" | "error";

/** What GET /api/containers/updates answers per container. */
export interface UpdateResult {
  id: string;
  name: string;
  /** The reference the container was created from (its Config.Image). */
  image: string;
  /** The image the container runs (so image rows can show the result too). */
  image_id: string;
  /** Compose project and service, when the container belongs to a stack. */
  stack?: string;
  service?: string;
  local_digest: string | null;
  remote_digest: string | null;
  state: UpdateState;
  checked_at: string;
  /** When the remote digest was first seen as an update. */
  update_seen_at?: string;
  /** A pinned (@sha256:) reference: never behind. */
  pinned?: boolean;
  error?: string;
  /** unreachable | unauthorised | not_found | rate_limited | refused | bad_response */
  error_kind?: string;
  versions?: NewerVersions;
  /** The container's io.quazzar.update=auto label (the answer of a check only; not stored). */
  policy?: "auto";
}

interface Row {
  container_id: string;
  name: string;
  image: string;
  image_id: string;
  stack: string | null;
  service: string | null;
  local_digest: string | null;
  remote_digest: string | null;
  state: UpdateState;
  checked_at: string;
  update_seen_at: string | null;
  pinned: number;
  error: string | null;
  error_kind: string | null;
  versions: string | null;
}

function fromRow(row: Row): UpdateResult {
  const result: UpdateResult = {
    id: row.container_id,
    name: row.name,
    image: row.image,
    image_id: row.image_id,
    local_digest: row.local_digest,
    remote_digest: row.remote_digest,
    state: row.state,
    checked_at: row.checked_at,
  };
  if (row.stack) result.stack = row.stack;
  if (row.service) result.service = row.service;
  if (row.update_seen_at) result.update_seen_at = row.update_seen_at;
  if (row.pinned) result.pinned = true;
  if (row.error) result.error = row.error;
  if (row.error_kind) result.error_kind = row.error_kind;
  if (row.versions) {
    try {
      result.versions = JSON.parse(row.versions);
    } catch {
      // A row written by a newer build: shown without versions.
    }
  }
  return result;
}

export function listUpdateResults(db: Db): UpdateResult[] {
  const rows = db.prepare("SELECT * FROM image_update_checks ORDER BY name, container_id").all();
  return rows.map((row) => fromRow(row as unknown as Row));
}

/** When the newest stored result was checked (ms since the epoch), if any. */
export function lastUpdateCheck(db: Db): number | undefined {
  const row = db.prepare("SELECT MAX(checked_at) AS at FROM image_update_checks").get() as
    | { at: string | null }
    | undefined;
  const at = row?.at ? Date.parse(row.at) : NaN;
  return Number.isNaN(at) ? undefined : at;
}

export function updateResultsById(db: Db): Map<string, UpdateResult> {
  return new Map(listUpdateResults(db).map((result) => [result.id, result]));
}

/**
 * Writes these results in one transaction; with `keepOnly`, rows of containers not in it
 * (removed since) are deleted.
 */
export function saveUpdateResults(
  db: Db,
  results: readonly UpdateResult[],
  keepOnly?: ReadonlySet<string>,
): void {
  const upsert = db.prepare(
    `INSERT INTO image_update_checks (container_id, name, image, image_id, stack, service,
       local_digest, remote_digest, state, checked_at, update_seen_at, pinned, error,
       error_kind, versions)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (container_id) DO UPDATE SET name = excluded.name, image = excluded.image,
       image_id = excluded.image_id, stack = excluded.stack, service = excluded.service,
       local_digest = excluded.local_digest, remote_digest = excluded.remote_digest,
       state = excluded.state, checked_at = excluded.checked_at,
       update_seen_at = excluded.update_seen_at, pinned = excluded.pinned,
       error = excluded.error, error_kind = excluded.error_kind, versions = excluded.versions`,
  );
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const r of results) {
      upsert.run(
        r.id,
        r.name,
        r.image,
        r.image_id,
        r.stack ?? null,
        r.service ?? null,
        r.local_digest,
        r.remote_digest,
        r.state,
        r.checked_at,
        r.update_seen_at ?? null,
        r.pinned ? 1 : 0,
        r.error ?? null,
        r.error_kind ?? null,
        r.versions ? JSON.stringify(r.versions) : null,
      );
    }
    if (keepOnly) {
      const remove = db.prepare("DELETE FROM image_update_checks WHERE container_id = ?");
      const ids = db.prepare("SELECT container_id FROM image_update_checks").all() as {
        container_id: string;
      }[];
      for (const { container_id } of ids) if (!keepOnly.has(container_id)) remove.run(container_id);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
