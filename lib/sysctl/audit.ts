/**
 * The sysctl_audit table: append, list, verify the hash chain, prune from the oldest end.
 * Each row stores hash = SHA-256(prev_hash || canonical row); triggers refuse UPDATE and
 * DELETE except for pruning through audit_prune, and verify cross-checks the retention
 * checkpoint against the `audit.prune` row that pruning appends to the chain.
 *
 * Every text field is made well-formed (no lone UTF-16 surrogate) and capped in UTF-8
 * bytes at a code point boundary before it is hashed, so what is hashed is exactly what
 * SQLite stores. A long operation writes a `started` row (phase = 'started') before it
 * begins; its final row names that row in started_seq, and a restart records every started
 * row that has no final row as interrupted.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/db.ts";
import { redact } from "./redact.ts";
import { sha256Hex } from "./sha256.ts";

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
  /** "started": the row a long operation writes before it begins. */
  phase?: "started";
  /** On a final row: the seq of its operation's started row. */
  startedSeq?: number;
  /** The environment (Engine) the action was on: "local" or an environment id. */
  environment?: string;
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
  /** "started" on a long operation's first row, else null. */
  phase: string | null;
  /** On a final row, the seq of its started row, else null. */
  started_seq: number | null;
  /** The environment the action was on (migration 6), else null. */
  environment: string | null;
}

/** The byte caps (UTF-8) of the short fields; outputs and params get OUTPUT_LIMIT. */
export const FIELD_BYTES = {
  actor: 512,
  client_ip: 128,
  action: 128,
  target: 1024,
  request_id: 128,
  environment: 128,
} as const;

/** The error text of a final row written for an operation a crash or kill cut short. */
export const INTERRUPTED = "Interrupted by a panel restart";

const TRUNCATED = "… [truncated]";
const encoder = new TextEncoder();
const TRUNCATED_BYTES = encoder.encode(TRUNCATED).length;

/**
 * Text as SQLite will store it: lone surrogates become U+FFFD (as the UTF-8 encoder would
 * make them anyway, but now before hashing), cut to at most maxBytes of UTF-8 without
 * splitting a code point.
 */
export function capText(text: string, maxBytes: number): string {
  const wellFormed = text.toWellFormed();
  // At most 3 UTF-8 bytes per UTF-16 unit: short text cannot be over the limit.
  if (wellFormed.length * 3 <= maxBytes) return wellFormed;
  const { read } = encoder.encodeInto(wellFormed, new Uint8Array(maxBytes));
  return wellFormed.slice(0, read);
}

/**
 * Caps text at OUTPUT_LIMIT bytes of UTF-8 (4 KiB), never splitting a character: longer text
 * keeps as many whole characters as fit before a "… [truncated]" marker.
 */
export function truncateOutput(input: string): string {
  const text = input.toWellFormed();
  // At most 3 UTF-8 bytes per UTF-16 unit: short text cannot be over the limit.
  if (text.length * 3 <= OUTPUT_LIMIT) return text;
  const buffer = new Uint8Array(OUTPUT_LIMIT);
  if (encoder.encodeInto(text, buffer).read === text.length) return text;
  // encodeInto stops before a character that does not fit whole (a surrogate pair included).
  const { read } = encoder.encodeInto(text, buffer.subarray(0, OUTPUT_LIMIT - TRUNCATED_BYTES));
  return text.slice(0, read) + TRUNCATED;
}

type HashedFields =
  & Omit<AuditRow, "prev_hash" | "hash" | "phase" | "started_seq" | "environment">
  & {
    phase?: string | null;
    started_seq?: number | null;
    environment?: string | null;
  };

function canonical(row: HashedFields): string {
  const fields: unknown[] = [
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
  ];
  // Rows from before started rows existed hash exactly as they did then.
  const phase = row.phase ?? null;
  const startedSeq = row.started_seq ?? null;
  const environment = row.environment ?? null;
  if (phase !== null || startedSeq !== null || environment !== null) {
    fields.push(phase, startedSeq);
  }
  // Rows from before environments existed (migration 6) likewise.
  if (environment !== null) fields.push(environment);
  return JSON.stringify(fields);
}

export function rowHash(prevHash: string, row: HashedFields): string {
  return createHash("sha256").update(prevHash).update(canonical(row)).digest("hex");
}

/** rowHash without node:crypto's per-call garbage, for walking the whole trail. */
function rowHashLean(prevHash: string, row: HashedFields): string {
  return sha256Hex(prevHash + canonical(row));
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

/**
 * Proves the database takes a write now (waiting busy_timeout at most), without writing:
 * throws SQLITE_BUSY as a write would. For a short operation about to act, whose one row
 * is written when it ends.
 */
export function assertAuditWritable(db: Db): void {
  db.exec("BEGIN IMMEDIATE");
  db.exec("ROLLBACK");
}

/** JSON of already-redacted params; anything JSON cannot hold becomes a marker, not a throw. */
function serialiseParams(params: unknown): string {
  try {
    return JSON.stringify(params ?? {}) ?? "null";
  } catch {
    try {
      // Too deep for the stack (redact cuts deep levels off) or otherwise unserialisable.
      return JSON.stringify(redact(params)) ?? "null";
    } catch {
      return JSON.stringify("[params could not be serialised]");
    }
  }
}

/** The insert itself; the caller holds a write transaction. */
function insertAuditRow(db: Db, entry: AuditEntry & { paramsText?: string }): AuditRow {
  const last = db.prepare("SELECT seq, hash FROM sysctl_audit ORDER BY seq DESC LIMIT 1").get() as
    | { seq: number; hash: string }
    | undefined;
  const anchor = last ? undefined : checkpoint(db);
  const prevHash = last?.hash ?? anchor?.continues_from ?? GENESIS_HASH;
  const fields = {
    seq: (last?.seq ?? anchor?.pruned_through ?? 0) + 1,
    ts: capText(entry.ts ?? new Date().toISOString(), 64),
    actor: capText(String(entry.actor), FIELD_BYTES.actor),
    client_ip: capText(entry.clientIp ?? "", FIELD_BYTES.client_ip),
    action: capText(String(entry.action), FIELD_BYTES.action),
    target: capText(entry.target ?? "", FIELD_BYTES.target),
    params: truncateOutput(entry.paramsText ?? serialiseParams(entry.params)),
    exit_code: Number.isSafeInteger(entry.exitCode) ? entry.exitCode : 1,
    duration_ms: Math.max(0, Math.round(entry.durationMs) || 0),
    stdout: truncateOutput(entry.stdout ?? ""),
    stderr: truncateOutput(entry.stderr ?? ""),
    request_id: capText(entry.requestId ?? "", FIELD_BYTES.request_id),
    phase: entry.phase ?? null,
    started_seq: entry.startedSeq ?? null,
    environment: entry.environment === undefined
      ? null
      : capText(entry.environment, FIELD_BYTES.environment),
  };
  const row: AuditRow = { ...fields, prev_hash: prevHash, hash: rowHash(prevHash, fields) };
  db.prepare(
    `INSERT INTO sysctl_audit (seq, ts, actor, client_ip, action, target, params, exit_code, duration_ms,
                               stdout, stderr, request_id, prev_hash, hash, phase, started_seq,
                               environment)
     VALUES (:seq, :ts, :actor, :client_ip, :action, :target, :params, :exit_code, :duration_ms,
             :stdout, :stderr, :request_id, :prev_hash, :hash, :phase, :started_seq,
             :environment)`,
  ).run({ ...row });
  return row;
}

/** One row that does not check out, and why. */
export interface VerifyProblem {
  seq: number;
  reason: string;
}

/** Broken: every problem found, oldest first; `seq` and `reason` repeat the first one. */
export type VerifyResult =
  | { ok: true; rows: number }
  | { ok: false; rows: number; seq: number; reason: string; problems: VerifyProblem[] };

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
 * Walks the chain from the oldest row (or the retention checkpoint) to the newest and
 * reports every row that does not check out, resynchronising on each row's stored hash so
 * one altered row is one problem. It also cross-checks the checkpoint against the newest
 * `audit.prune` row in the chain: the checkpoint itself is not hash-chained, so a checkpoint
 * moved forward (the oldest rows deleted with plain SQL) must also show up as a matching,
 * hash-chained `audit.prune` row. A final row must refer to an earlier, unfinished started
 * row of the same action.
 */
export function verifyAudit(db: Db): VerifyResult {
  const anchor = checkpoint(db);
  const prunedThrough = anchor?.pruned_through ?? 0;
  let expectedSeq = prunedThrough + 1;
  let prevHash = anchor?.continues_from ?? GENESIS_HASH;
  let count = 0;
  const problems: VerifyProblem[] = [];
  /** The newest intact audit.prune row. */
  let record: PruneRecord | undefined;
  /** Started rows seen with no final row yet: seq → action. */
  const open = new Map<number, string>();
  for (const row of rowsInOrder(db)) {
    count++;
    let intact = true;
    if (row.seq > expectedSeq) {
      const missing = row.seq - expectedSeq === 1
        ? `row ${expectedSeq} is missing`
        : `rows ${expectedSeq} to ${row.seq - 1} are missing`;
      problems.push({ seq: expectedSeq, reason: `${missing} (next row is ${row.seq})` });
    } else if (row.seq < expectedSeq) {
      problems.push({
        seq: row.seq,
        reason: `it is older than the retention checkpoint (pruned through ${prunedThrough})`,
      });
      intact = false;
    } else if (row.prev_hash !== prevHash) {
      problems.push({
        seq: row.seq,
        reason: "its prev_hash does not match the previous row's hash",
      });
      intact = false;
    }
    if (rowHashLean(row.prev_hash, row) !== row.hash) {
      problems.push({ seq: row.seq, reason: "its contents do not match its hash" });
      intact = false;
    }
    const reference = startedReferenceProblem(row, open, prunedThrough);
    if (reference) problems.push({ seq: row.seq, reason: reference });
    if (intact) record = pruneRecordOf(row) ?? record;
    prevHash = row.hash;
    expectedSeq = row.seq + 1;
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
        problems.push({
          seq: Math.min(recorded + 1, first),
          reason: `the retention checkpoint (pruned through ${anchor.pruned_through}) does not ` +
            `match the ${PRUNE_ACTION} row ${record.seq} (pruned through ${
              String(record.pruned_through)
            }): rows were deleted or the checkpoint rewritten outside retention`,
        });
      }
    } else {
      problems.push({
        seq: first,
        reason:
          `the chain starts after a retention checkpoint (pruned through ${anchor.pruned_through}) that no ${PRUNE_ACTION} row records: rows were deleted outside retention`,
      });
    }
  }
  if (problems.length === 0) return { ok: true, rows: count };
  problems.sort((a, b) => a.seq - b.seq);
  return { ok: false, rows: count, seq: problems[0].seq, reason: problems[0].reason, problems };
}

/** Why a row's started-row reference (or its being a started row) does not add up, if so. */
function startedReferenceProblem(
  row: AuditRow,
  open: Map<number, string>,
  prunedThrough: number,
): string | undefined {
  if (row.phase === "started") {
    open.set(row.seq, row.action);
    return row.started_seq === null ? undefined : "a started row refers to another started row";
  }
  if (row.started_seq === null) return undefined;
  const started = row.started_seq;
  if (started >= row.seq) return `it refers to a later started row (${started})`;
  // The started row was pruned by retention: nothing left to compare.
  if (started <= prunedThrough) return undefined;
  const action = open.get(started);
  if (action === undefined) {
    return `it refers to row ${started}, which is not an unfinished started row`;
  }
  open.delete(started);
  return action === row.action
    ? undefined
    : `it refers to started row ${started} of another action (${action})`;
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
 *
 * maxRows is the number of rows the table holds afterwards, the new `audit.prune` row
 * included. An `audit.prune` row is not news: while nothing else was written since the last
 * prune, the row cap prunes nothing, and only rows other than `audit.prune` rows age out,
 * so an idle panel does not trade its trail for prune rows.
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

/** SQL for "this row is a real row", i.e. not a retention record. */
const REAL_ROW = `NOT (action = '${PRUNE_ACTION}' AND actor = 'system')`;

function pruneInTransaction(db: Db, policy: RetentionPolicy, now: number): number {
  const newest = db.prepare("SELECT seq, action, actor FROM sysctl_audit ORDER BY seq DESC LIMIT 1")
    .get() as { seq: number; action: string; actor: string } | undefined;
  if (!newest) return 0;
  let upto = 0;
  const idle = newest.action === PRUNE_ACTION && newest.actor === "system";
  if (policy.maxRows && !idle) {
    // Keep maxRows - 1 rows: the audit.prune row written below is the last one.
    const oldestGone = db.prepare("SELECT seq FROM sysctl_audit ORDER BY seq DESC LIMIT 1 OFFSET ?")
      .get(Math.max(0, policy.maxRows - 1)) as { seq: number } | undefined;
    upto = Math.max(upto, oldestGone?.seq ?? 0);
  }
  if (policy.maxAgeMs) {
    const cutoff = new Date(now - policy.maxAgeMs).toISOString();
    const old = db.prepare(
      `SELECT MAX(seq) AS seq FROM sysctl_audit WHERE ts < ? AND ${REAL_ROW}`,
    ).get(cutoff) as { seq: number | null };
    upto = Math.max(upto, old.seq ?? 0);
  }
  // The started row of an operation still running is its only evidence if the panel dies
  // before it ends: retention stops short of it (and catches up once it has its final row).
  const open = db.prepare(
    `SELECT MIN(s.seq) AS seq FROM sysctl_audit AS s WHERE s.phase = 'started'
       AND NOT EXISTS (SELECT 1 FROM sysctl_audit AS f WHERE f.started_seq = s.seq)`,
  ).get() as { seq: number | null };
  if (open.seq !== null) upto = Math.min(upto, open.seq - 1);
  if (upto <= 0) return 0;
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

/**
 * Startup, before anything can dispatch: every started row without a final row belongs to
 * an operation a crash or kill cut short. Each gets its final row now (exit code 503,
 * INTERRUPTED), in one transaction. Returns those final rows.
 */
export function recordInterrupted(db: Db): AuditRow[] {
  db.exec("BEGIN IMMEDIATE");
  try {
    const unfinished = db.prepare(
      `SELECT * FROM sysctl_audit AS s WHERE s.phase = 'started'
         AND NOT EXISTS (SELECT 1 FROM sysctl_audit AS f WHERE f.started_seq = s.seq)
       ORDER BY s.seq`,
    ).all() as unknown as AuditRow[];
    const written = unfinished.map((started) =>
      insertAuditRow(db, {
        actor: started.actor,
        clientIp: started.client_ip,
        action: started.action,
        target: started.target,
        paramsText: started.params,
        exitCode: 503,
        durationMs: 0,
        stderr: INTERRUPTED,
        requestId: started.request_id,
        startedSeq: started.seq,
        environment: started.environment ?? undefined,
      })
    );
    db.exec("COMMIT");
    return written;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

export interface AuditFilter {
  user?: string;
  /** Rows of one environment ("local" or an id). */
  environment?: string;
  action?: string;
  target?: string;
  outcome?: "success" | "failure";
  /** ISO timestamps, inclusive. */
  from?: string;
  to?: string;
  /** Rows with seq below this (the previous page's next_cursor). */
  cursor?: number;
  limit?: number;
  /**
   * Leave out started rows that have their final row (the final row stands for the whole
   * operation); a started row without one (still running, or cut short before the restart
   * sweep) stays. Listing folds by default; the export shows every row.
   */
  fold?: boolean;
}

export const MAX_PAGE = 500;

/** Newest first, cursor-paginated by seq. */
export function listAudit(
  db: Db,
  filter: AuditFilter,
): { rows: AuditRow[]; next_cursor: number | null } {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), MAX_PAGE);
  const query = auditQuery(db, { fold: true, ...filter });
  const rows = rowReader(db, `${query.sql} LIMIT ${limit + 1}`)(query.bind(filter.cursor));
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, next_cursor: more ? page[page.length - 1].seq : null };
}

/** Rows read per statement step when walking many: small batches keep memory flat. */
const BATCH_ROWS = 100;

/**
 * Every matching row, newest first, for export: read BATCH_ROWS at a time (keyset on seq),
 * each batch only when the caller asks for its first row, so a caller that stops pulling
 * stops the reading and holds at most one batch.
 */
export function* iterateAudit(
  db: Db,
  filter: Omit<AuditFilter, "cursor" | "limit">,
): Generator<AuditRow> {
  const query = auditQuery(db, { fold: false, ...filter, cursor: Number.MAX_SAFE_INTEGER });
  const read = rowReader(db, `${query.sql} LIMIT ${BATCH_ROWS}`);
  let cursor = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = read(query.bind(cursor));
    yield* rows;
    if (rows.length < BATCH_ROWS) return;
    cursor = rows[rows.length - 1].seq;
  }
}

export type ExportFormat = "csv" | "json";

/**
 * The export's text of every matching row, newest first, one string per BATCH_ROWS rows:
 * SQLite formats the rows (CSV cells, json_object) and joins a batch into one string, so a
 * million rows make ten thousand strings in the heap instead of seventeen million values,
 * and the export's memory stays flat. A CSV batch is its lines (CRLF after each); a JSON
 * batch is its objects joined by ",\n", the same text JSON.stringify makes of each row.
 * Each batch is read only when the caller asks for it.
 */
export function* exportAuditText(
  db: Db,
  filter: Omit<AuditFilter, "cursor" | "limit">,
  format: ExportFormat,
): Generator<string> {
  const query = auditQuery(db, { fold: false, ...filter, cursor: Number.MAX_SAFE_INTEGER });
  const line = format === "csv"
    ? `${AUDIT_COLUMNS.map(csvCellSql).join(" || ',' || ")} || char(13, 10)`
    : `json_object(${AUDIT_COLUMNS.map((column) => `'${column}', ${column}`).join(", ")})`;
  const separator = format === "csv" ? "''" : "char(44, 10)";
  const statement = db.prepare(
    `SELECT string_agg(${line}, ${separator} ORDER BY seq DESC), count(*), min(seq) ` +
      `FROM (${query.sql} LIMIT ${BATCH_ROWS})`,
  );
  (statement as unknown as { setReturnArrays(enabled: boolean): void }).setReturnArrays(true);
  let cursor = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const [text, count, last] = statement.get(...query.bind(cursor)) as unknown as [
      string | null,
      number,
      number | null,
    ];
    if (text !== null && count > 0) yield text;
    if (count < BATCH_ROWS || last === null) return;
    cursor = last;
  }
}

/** Integer columns (STRICT table): only a negative number needs the formula quote. */
const INTEGER_COLUMNS = new Set(["seq", "exit_code", "duration_ms", "started_seq"]);
/** A cell that holds a quote, comma, CR or LF is quoted (GLOB: one pass over the text). */
const NEEDS_QUOTES = `'*["",' || char(13, 10) || ']*'`;

/**
 * One CSV cell of a column, in SQL: its text ('' for NULL); a leading = + - @ tab or CR
 * (a formula in a spreadsheet) gets a ' before it; a cell holding a quote, comma, CR or
 * LF is quoted, its quotes doubled.
 */
function csvCellSql(column: string): string {
  if (INTEGER_COLUMNS.has(column)) {
    return `iif(${column} < 0, '''' || ${column}, coalesce(${column}, ''))`;
  }
  const text = `coalesce(${column}, '')`;
  const formula = `iif(unicode(${text}) IN (61, 43, 45, 64, 9, 13), '''', '')`;
  return `iif(glob(${NEEDS_QUOTES}, ${text}), ` +
    `'"' || ${formula} || replace(${text}, '"', '""') || '"', ${formula} || ${text})`;
}

/** Every column of an audit row, in table order (the export's columns too). */
export const AUDIT_COLUMNS = [
  "seq",
  "ts",
  "actor",
  "client_ip",
  "action",
  "target",
  "params",
  "exit_code",
  "duration_ms",
  "stdout",
  "stderr",
  "request_id",
  "prev_hash",
  "hash",
  "phase",
  "started_seq",
  "environment",
] as const satisfies readonly (keyof AuditRow)[];

/**
 * A statement's rows as plain objects. node:sqlite's own row objects (and its iterate())
 * leave far more garbage behind than arrays do: over a million rows that was the difference
 * between ~25 MB and ~120 MB of RSS growth.
 */
function rowReader(db: Db, sql: string): (values: readonly SqlValue[]) => AuditRow[] {
  // One statement per walk: a statement per batch is native garbage the collector is slow
  // to reclaim.
  const statement = db.prepare(sql);
  // In node:sqlite since Node 24; Deno's types do not declare it yet.
  (statement as unknown as { setReturnArrays(enabled: boolean): void }).setReturnArrays(true);
  return (values) => toRows(statement.all(...values) as unknown as unknown[][]);
}

function toRows(arrays: unknown[][]): AuditRow[] {
  return arrays.map((a) => ({
    seq: a[0] as number,
    ts: a[1] as string,
    actor: a[2] as string,
    client_ip: a[3] as string,
    action: a[4] as string,
    target: a[5] as string,
    params: a[6] as string,
    exit_code: a[7] as number,
    duration_ms: a[8] as number,
    stdout: a[9] as string,
    stderr: a[10] as string,
    request_id: a[11] as string,
    prev_hash: a[12] as string,
    hash: a[13] as string,
    phase: a[14] as string | null,
    started_seq: a[15] as number | null,
    environment: a[16] as string | null,
  }));
}

/** Every row in seq order, BATCH_ROWS at a time (for verify). */
function* rowsInOrder(db: Db): Generator<AuditRow> {
  const sql = `SELECT ${AUDIT_COLUMNS.join(", ")} FROM sysctl_audit WHERE seq > ? ORDER BY seq ` +
    `LIMIT ${BATCH_ROWS}`;
  const read = rowReader(db, sql);
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = read([after]);
    yield* rows;
    if (rows.length < BATCH_ROWS) return;
    after = rows[rows.length - 1].seq;
  }
}

type SqlValue = string | number;

/**
 * A filter's rows as one statement ordered by seq, newest first. The WHERE clauses say
 * exactly which rows match; what this adds only tells SQLite where to look, so a filter is
 * answered from an index instead of a scan of the whole table:
 * - a time range becomes a seq range (see audit_ts_disorder in migration 4), with the
 *   out-of-order rows as a second arm of a UNION ALL that SQLite merges in seq order;
 * - the narrowest of "target contains", "action prefix" and "failed", when it matches fewer
 *   than DRIVER_ROWS rows, becomes the candidate set (`seq IN (…)`).
 * Equality on user or action is left to SQLite: its indexes already come in seq order.
 */
export function auditQuery(
  db: Db,
  filter: AuditFilter,
): { sql: string; bind: (cursor?: number) => SqlValue[] } {
  const exact = auditWhere(filter);
  const driver = narrowestDriver(db, filter);
  const arms = timeArms(db, filter);
  const values: (SqlValue | typeof CURSOR)[] = [];
  const selects = arms.map((arm) => {
    const clauses = [...arm.clauses, ...(driver ? [driver.clause] : []), ...exact.clauses];
    values.push(...arm.values, ...(driver?.values ?? []), ...exact.values);
    const where = clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
    return `SELECT ${AUDIT_COLUMNS.join(", ")} FROM sysctl_audit${where}`;
  });
  return {
    sql: `${selects.join(" UNION ALL ")} ORDER BY seq DESC`,
    bind: (cursor) => values.map((value) => value === CURSOR ? cursor ?? 0 : value),
  };
}

/** Where the cursor goes among a query's values (bound per page or batch). */
const CURSOR = Symbol("cursor");

/** A candidate set this small is read whole and sorted; a larger one is left to scans. */
export const DRIVER_ROWS = 5000;

interface Clause {
  clause: string;
  values: SqlValue[];
}

function narrowestDriver(db: Db, filter: AuditFilter): Clause | undefined {
  const candidates: Clause[] = [];
  // A phrase of the text's trigrams: rows whose target holds the text, ignoring case (a
  // superset of the exact clause's ASCII-only case folding). Needs three characters.
  if (filter.target && [...filter.target].length >= 3) {
    candidates.push({
      clause: "SELECT rowid FROM sysctl_audit_target WHERE sysctl_audit_target MATCH ?",
      values: [`"${filter.target.replaceAll('"', '""')}"`],
    });
  }
  if (filter.action?.endsWith(".*")) {
    const actions = actionsLike(db, `${escapeLike(filter.action.slice(0, -1))}%`);
    if (actions) {
      candidates.push({
        clause: "SELECT seq FROM sysctl_audit INDEXED BY sysctl_audit_action " +
          "WHERE action IN (SELECT value FROM json_each(?))",
        values: [JSON.stringify(actions)],
      });
    }
  }
  if (filter.outcome === "failure") {
    candidates.push({
      clause: "SELECT seq FROM sysctl_audit INDEXED BY sysctl_audit_failed " +
        "WHERE exit_code != 0 AND phase IS NULL",
      values: [],
    });
  }
  let best: { clause: Clause; rows: number } | undefined;
  for (const candidate of candidates) {
    const { rows } = db.prepare(
      `SELECT count(*) AS rows FROM (${candidate.clause} LIMIT ${DRIVER_ROWS})`,
    ).get(...candidate.values) as { rows: number };
    if (rows < DRIVER_ROWS && (!best || rows < best.rows)) best = { clause: candidate, rows };
  }
  if (!best) return undefined;
  return { clause: `seq IN (${best.clause.clause})`, values: best.clause.values };
}

/** At most this many distinct actions are looked at for a prefix; more is not an audit trail. */
const MAX_DISTINCT_ACTIONS = 1000;

/** The distinct stored actions matching a LIKE pattern, one index seek each. */
function actionsLike(db: Db, pattern: string): string[] | undefined {
  const next = db.prepare(
    "SELECT action FROM sysctl_audit INDEXED BY sysctl_audit_action WHERE action > ? " +
      "ORDER BY action LIMIT 1",
  );
  const matches = db.prepare("SELECT ? LIKE ? ESCAPE '\\' AS hit");
  const found: string[] = [];
  let previous = "";
  for (let i = 0; i < MAX_DISTINCT_ACTIONS; i++) {
    const row = next.get(previous) as { action: string } | undefined;
    if (!row) return found;
    previous = row.action;
    if ((matches.get(row.action, pattern) as { hit: number }).hit) found.push(row.action);
  }
  return undefined;
}

/**
 * One arm without a time filter. With one: rows in time order (all but the out-of-order
 * ones) whose ts is in range form one seq range, found by two seeks in the ts index; the
 * out-of-order rows outside it are the second arm.
 */
function timeArms(db: Db, filter: AuditFilter): { clauses: string[]; values: SqlValue[] }[] {
  if (!filter.from && !filter.to) return [{ clauses: [], values: [] }];
  const inOrder = "NOT EXISTS (SELECT 1 FROM audit_ts_disorder AS d WHERE d.seq = a.seq)";
  const seek = (bound: string, direction: "ASC" | "DESC", value: string) =>
    (db.prepare(
      `SELECT seq FROM sysctl_audit AS a INDEXED BY sysctl_audit_ts WHERE ts ${bound} ? ` +
        `AND ${inOrder} ORDER BY ts ${direction}, seq ${direction} LIMIT 1`,
    ).get(value) as { seq: number } | undefined)?.seq;
  const low = filter.from ? seek(">=", "ASC", filter.from) : 0;
  const high = filter.to ? seek("<=", "DESC", filter.to) : Number.MAX_SAFE_INTEGER;
  const arms: { clauses: string[]; values: SqlValue[] }[] = [];
  const ordered = low !== undefined && high !== undefined && low <= high;
  if (ordered) arms.push({ clauses: ["seq BETWEEN ? AND ?"], values: [low, high] });
  const disorder = db.prepare("SELECT 1 FROM audit_ts_disorder LIMIT 1").get();
  if (disorder) {
    arms.push(
      ordered
        ? {
          clauses: [
            "seq IN (SELECT seq FROM audit_ts_disorder WHERE seq NOT BETWEEN ? AND ?)",
          ],
          values: [low, high],
        }
        : { clauses: ["seq IN (SELECT seq FROM audit_ts_disorder)"], values: [] },
    );
  }
  // Nothing can match: one arm that says so keeps the statement's shape.
  return arms.length ? arms : [{ clauses: ["0"], values: [] }];
}

function auditWhere(
  filter: AuditFilter,
): { clauses: string[]; values: (SqlValue | typeof CURSOR)[] } {
  const clauses: string[] = [];
  const values: (SqlValue | typeof CURSOR)[] = [];
  if (filter.user) {
    clauses.push("actor = ?");
    values.push(filter.user);
  }
  if (filter.environment) {
    // Rows from before environments existed were all on the local Engine.
    clauses.push(
      filter.environment === "local"
        ? "(environment = ? OR environment IS NULL)"
        : "environment = ?",
    );
    values.push(filter.environment);
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
  // A started row has no outcome yet.
  if (filter.outcome === "success") clauses.push("exit_code = 0 AND phase IS NULL");
  if (filter.outcome === "failure") clauses.push("exit_code != 0 AND phase IS NULL");
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
    values.push(CURSOR);
  }
  // Last: the subquery runs only for rows every other clause let through.
  if (filter.fold) {
    clauses.push(
      `NOT (phase IS NOT NULL AND EXISTS
         (SELECT 1 FROM sysctl_audit AS f WHERE f.started_seq = sysctl_audit.seq))`,
    );
  }
  return { clauses, values };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
