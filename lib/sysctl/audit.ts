/**
 * The sysctl_audit table: append, list, verify the hash chain, prune from the oldest end.
 * Each row stores hash = SHA-256(prev_hash || canonical row); triggers refuse UPDATE and
 * DELETE except for pruning through audit_prune, and verify cross-checks the retention
 * checkpoint against the `audit.prune` row that pruning appends to the chain.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/db.ts";

export const GENESIS_HASH = "0".repeat(64);
export const OUTPUT_LIMIT = 4096;

export interface AuditEntry {
  actor: string;
  clientIp?: string;
  action: string;
  target?: string;
  /** Already redacted. */
  params?: unknown;
  exitCode: number;
  durationMs: number;
  stdout?: string;
  stderr?: string;
  requestId?: string;
  /** Defaults to now. */
  ts?: string;
}

export interface AuditRow {
  seq: number;
  ts: string;
  actor: string;
  client_ip: string;
  action: string;
  target: string;
  params: string;
  exit_code: number;
  duration_ms: number;
  stdout: string;
  stderr: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}

const TRUNCATED = "… [truncated]";
const encoder = new TextEncoder();
const TRUNCATED_BYTES = encoder.encode(TRUNCATED).length;

/**
 * Caps text at OUTPUT_LIMIT bytes of UTF-8 (4 KiB), never splitting a character: longer text
 * keeps as many whole characters as fit before a "… [truncated]" marker.
 */
export function truncateOutput(text: string): string {
  // At most 3 UTF-8 bytes per UTF-16 unit: short text cannot be over the limit.
  if (text.length * 3 <= OUTPUT_LIMIT) return text;
  const buffer = new Uint8Array(OUTPUT_LIMIT);
  if (encoder.encodeInto(text, buffer).read === text.length) return text;
  // encodeInto stops before a character that does not fit whole (a surrogate pair included).
  const { read } = encoder.encodeInto(text, buffer.subarray(0, OUTPUT_LIMIT - TRUNCATED_BYTES));
  return text.slice(0, read) + TRUNCATED;
}

function canonical(row: Omit<AuditRow, "prev_hash" | "hash">): string {
  return JSON.stringify([
    row.seq,
    row.ts,
    row.actor,
    row.client_ip,
    row.action,
    row.target,
    row.params,
    row.exit_code,
    row.duration_ms,
    row.stdout,
    row.stderr,
    row.request_id,
  ]);
}

export function rowHash(prevHash: string, row: Omit<AuditRow, "prev_hash" | "hash">): string {
  return createHash("sha256").update(prevHash).update(canonical(row)).digest("hex");
}

interface Checkpoint {
  pruned_through: number;
  continues_from: string;
}

function checkpoint(db: Db): Checkpoint | undefined {
  return db.prepare("SELECT pruned_through, continues_from FROM audit_checkpoint WHERE id = 1")
    .get() as
      | Checkpoint
      | undefined;
}

/**
 * Appends one row. Synchronous from the last-hash read to the insert, inside one
 * IMMEDIATE transaction, so concurrent callers (and other processes) cannot fork the chain.
 */
export function appendAudit(db: Db, entry: AuditEntry): AuditRow {
  db.exec("BEGIN IMMEDIATE");
  try {
    const row = insertAuditRow(db, entry);
    db.exec("COMMIT");
    return row;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** The insert itself; the caller holds a write transaction. */
function insertAuditRow(db: Db, entry: AuditEntry): AuditRow {
  const last = db.prepare("SELECT seq, hash FROM sysctl_audit ORDER BY seq DESC LIMIT 1").get() as
    | { seq: number; hash: string }
    | undefined;
  const anchor = last ? undefined : checkpoint(db);
  const prevHash = last?.hash ?? anchor?.continues_from ?? GENESIS_HASH;
  const fields = {
    seq: (last?.seq ?? anchor?.pruned_through ?? 0) + 1,
    ts: entry.ts ?? new Date().toISOString(),
    actor: entry.actor.slice(0, 128),
    client_ip: entry.clientIp ?? "",
    action: entry.action.slice(0, 64),
    target: (entry.target ?? "").slice(0, 512),
    params: truncateOutput(JSON.stringify(entry.params ?? {})),
    exit_code: entry.exitCode,
    duration_ms: Math.max(0, Math.round(entry.durationMs)),
    stdout: truncateOutput(entry.stdout ?? ""),
    stderr: truncateOutput(entry.stderr ?? ""),
    request_id: entry.requestId ?? "",
  };
  const row: AuditRow = { ...fields, prev_hash: prevHash, hash: rowHash(prevHash, fields) };
  db.prepare(
    `INSERT INTO sysctl_audit (seq, ts, actor, client_ip, action, target, params, exit_code, duration_ms,
                               stdout, stderr, request_id, prev_hash, hash)
     VALUES (:seq, :ts, :actor, :client_ip, :action, :target, :params, :exit_code, :duration_ms,
             :stdout, :stderr, :request_id, :prev_hash, :hash)`,
  ).run({ ...row });
  return row;
}

export type VerifyResult =
  | { ok: true; rows: number }
  | { ok: false; seq: number; reason: string };

/** The action of the row pruneAudit appends, in the same transaction as the prune. */
export const PRUNE_ACTION = "audit.prune";

/** What an intact `audit.prune` row of the chain says the checkpoint is. */
interface PruneRecord {
  seq: number;
  pruned_through: unknown;
  continues_from: unknown;
}

function pruneRecordOf(row: AuditRow): PruneRecord | undefined {
  if (row.action !== PRUNE_ACTION || row.actor !== "system" || row.exit_code !== 0) {
    return undefined;
  }
  try {
    const params = JSON.parse(row.params);
    return {
      seq: row.seq,
      pruned_through: params?.pruned_through,
      continues_from: params?.continues_from,
    };
  } catch {
    return { seq: row.seq, pruned_through: undefined, continues_from: undefined };
  }
}

/**
 * Walks the chain from the oldest row (or the retention checkpoint) to the newest, and
 * cross-checks the checkpoint against the newest `audit.prune` row in the chain: the
 * checkpoint itself is not hash-chained, so a checkpoint moved forward (the oldest rows
 * deleted with plain SQL) must also show up as a matching, hash-chained `audit.prune` row.
 */
export function verifyAudit(db: Db): VerifyResult {
  const anchor = checkpoint(db);
  let expectedSeq = (anchor?.pruned_through ?? 0) + 1;
  let prevHash = anchor?.continues_from ?? GENESIS_HASH;
  let count = 0;
  let broken: { ok: false; seq: number; reason: string } | undefined;
  /** The newest audit.prune row among the rows verified so far. */
  let record: PruneRecord | undefined;
  for (const value of db.prepare("SELECT * FROM sysctl_audit ORDER BY seq").iterate()) {
    const row = value as unknown as AuditRow;
    if (row.seq !== expectedSeq) {
      broken = {
        ok: false,
        seq: expectedSeq,
        reason: `row ${expectedSeq} is missing (next row is ${row.seq})`,
      };
      break;
    }
    if (row.prev_hash !== prevHash) {
      broken = {
        ok: false,
        seq: row.seq,
        reason: "its prev_hash does not match the previous row's hash",
      };
      break;
    }
    if (rowHash(prevHash, row) !== row.hash) {
      broken = { ok: false, seq: row.seq, reason: "its contents do not match its hash" };
      break;
    }
    record = pruneRecordOf(row) ?? record;
    prevHash = row.hash;
    expectedSeq++;
    count++;
  }
  if (anchor) {
    const first = anchor.pruned_through + 1;
    if (record) {
      if (
        record.pruned_through !== anchor.pruned_through ||
        record.continues_from !== anchor.continues_from
      ) {
        // Rows up to the recorded checkpoint were pruned by retention; the ones after it
        // were not, whatever the checkpoint now says.
        const recorded = typeof record.pruned_through === "number" ? record.pruned_through : 0;
        const seq = Math.min(recorded + 1, first);
        return {
          ok: false,
          seq,
          reason: `the retention checkpoint (pruned through ${anchor.pruned_through}) does not ` +
            `match the ${PRUNE_ACTION} row ${record.seq} (pruned through ${
              String(record.pruned_through)
            }): rows were deleted or the checkpoint rewritten outside retention`,
        };
      }
    } else if (!broken) {
      return {
        ok: false,
        seq: first,
        reason:
          `the chain starts after a retention checkpoint (pruned through ${anchor.pruned_through}) that no ${PRUNE_ACTION} row records: rows were deleted outside retention`,
      };
    }
  }
  return broken ?? { ok: true, rows: count };
}

export interface RetentionPolicy {
  /** Rows older than this are pruned; 0 keeps them forever. */
  maxAgeMs: number;
  /** At most this many rows are kept; 0 means no limit. */
  maxRows: number;
}

/**
 * Deletes the oldest rows beyond the policy, records the checkpoint the chain continues
 * from, and appends an `audit.prune` row saying so, all in one transaction: verifyAudit
 * requires the checkpoint to match that row, so neither may exist without the other.
 * Returns the number of rows deleted.
 */
export function pruneAudit(db: Db, policy: RetentionPolicy, now = Date.now()): number {
  if (!policy.maxAgeMs && !policy.maxRows) return 0;
  db.exec("BEGIN IMMEDIATE");
  try {
    const deleted = pruneInTransaction(db, policy, now);
    db.exec("COMMIT");
    return deleted;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

function pruneInTransaction(db: Db, policy: RetentionPolicy, now: number): number {
  const newest = db.prepare("SELECT MAX(seq) AS seq FROM sysctl_audit").get() as {
    seq: number | null;
  };
  if (newest.seq === null) return 0;
  let upto = 0;
  if (policy.maxRows) upto = Math.max(upto, newest.seq - policy.maxRows);
  if (policy.maxAgeMs) {
    const cutoff = new Date(now - policy.maxAgeMs).toISOString();
    const old = db.prepare("SELECT MAX(seq) AS seq FROM sysctl_audit WHERE ts < ?").get(cutoff) as {
      seq: number | null;
    };
    upto = Math.max(upto, old.seq ?? 0);
  }
  const last = db.prepare(
    "SELECT seq, hash FROM sysctl_audit WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
  ).get(upto) as
    | { seq: number; hash: string }
    | undefined;
  if (!last) return 0;
  db.prepare("INSERT INTO audit_prune (upto) VALUES (?)").run(last.seq);
  const deleted = Number(
    db.prepare("DELETE FROM sysctl_audit WHERE seq <= ?").run(last.seq).changes,
  );
  db.exec("DELETE FROM audit_prune");
  db.prepare(
    `INSERT INTO audit_checkpoint (id, pruned_through, continues_from, created_at) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET pruned_through = excluded.pruned_through,
       continues_from = excluded.continues_from, created_at = excluded.created_at`,
  ).run(last.seq, last.hash, new Date(now).toISOString());
  insertAuditRow(db, {
    actor: "system",
    action: PRUNE_ACTION,
    params: { pruned_through: last.seq, continues_from: last.hash, deleted },
    exitCode: 0,
    durationMs: 0,
  });
  return deleted;
}

export interface AuditFilter {
  user?: string;
  action?: string;
  target?: string;
  outcome?: "success" | "failure";
  /** ISO timestamps, inclusive. */
  from?: string;
  to?: string;
  /** Rows with seq below this (the previous page's next_cursor). */
  cursor?: number;
  limit?: number;
}

export const MAX_PAGE = 500;

/** Newest first, cursor-paginated by seq. */
export function listAudit(
  db: Db,
  filter: AuditFilter,
): { rows: AuditRow[]; next_cursor: number | null } {
  const { where, values } = auditWhere(filter);
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), MAX_PAGE);
  const rows = db.prepare(
    `SELECT * FROM sysctl_audit ${where} ORDER BY seq DESC LIMIT ${limit + 1}`,
  ).all(...values) as unknown as AuditRow[];
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, next_cursor: more ? page[page.length - 1].seq : null };
}

/** Every matching row, newest first, for export. */
export function* iterateAudit(
  db: Db,
  filter: Omit<AuditFilter, "cursor" | "limit">,
): Generator<AuditRow> {
  const { where, values } = auditWhere(filter);
  for (
    const row of db.prepare(`SELECT * FROM sysctl_audit ${where} ORDER BY seq DESC`).iterate(
      ...values,
    )
  ) {
    yield row as unknown as AuditRow;
  }
}

function auditWhere(filter: AuditFilter) {
  const clauses: string[] = [];
  const values: (string | number)[] = [];
  if (filter.user) {
    clauses.push("actor = ?");
    values.push(filter.user);
  }
  if (filter.action) {
    if (filter.action.endsWith(".*")) {
      clauses.push("action LIKE ? ESCAPE '\\'");
      values.push(`${escapeLike(filter.action.slice(0, -1))}%`);
    } else {
      clauses.push("action = ?");
      values.push(filter.action);
    }
  }
  if (filter.target) {
    clauses.push("target LIKE ? ESCAPE '\\'");
    values.push(`%${escapeLike(filter.target)}%`);
  }
  if (filter.outcome === "success") clauses.push("exit_code = 0");
  if (filter.outcome === "failure") clauses.push("exit_code != 0");
  if (filter.from) {
    clauses.push("ts >= ?");
    values.push(filter.from);
  }
  if (filter.to) {
    clauses.push("ts <= ?");
    values.push(filter.to);
  }
  if (filter.cursor !== undefined) {
    clauses.push("seq < ?");
    values.push(filter.cursor);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", values };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
