/**
 * The Audit tab's query planning (migration 4's indexes, lib/sysctl/audit.ts auditQuery)
 * must give exactly the rows a plain scan gives: checked against a reference filter in
 * JavaScript over every row, for each kind of filter, their combinations and cursor pages,
 * with out-of-order timestamps and after retention. Timing lives in bench/audit.ts.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../../../lib/db/db.ts";
import {
  appendAudit,
  type AuditFilter,
  type AuditRow,
  DRIVER_ROWS,
  iterateAudit,
  listAudit,
  pruneAudit,
  verifyAudit,
} from "../../../lib/sysctl/audit.ts";
import { seedAudit } from "../../fixtures/audit_seed.ts";

async function withDb(fn: (db: DatabaseSync) => void) {
  const dir = await Deno.makeTempDir({ prefix: "cm-audit-scale-" });
  const db = openDatabase(`${dir}/container-manager.db`);
  try {
    fn(db);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const lower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** What each filter means, written independently of the SQL. */
function matches(row: AuditRow, filter: AuditFilter, all: Map<number, AuditRow[]>): boolean {
  if (filter.user !== undefined && row.actor !== filter.user) return false;
  if (filter.action !== undefined) {
    if (filter.action.endsWith(".*")) {
      if (!lower(row.action).startsWith(lower(filter.action.slice(0, -1)))) return false;
    } else if (row.action !== filter.action) return false;
  }
  if (filter.target !== undefined && !lower(row.target).includes(lower(filter.target))) {
    return false;
  }
  if (filter.outcome === "success" && (row.exit_code !== 0 || row.phase !== null)) return false;
  if (filter.outcome === "failure" && (row.exit_code === 0 || row.phase !== null)) return false;
  if (filter.from !== undefined && row.ts < filter.from) return false;
  if (filter.to !== undefined && row.ts > filter.to) return false;
  if (filter.fold && row.phase !== null && all.has(row.seq)) return false;
  return true;
}

function allRows(db: DatabaseSync): AuditRow[] {
  return db.prepare("SELECT * FROM sysctl_audit NOT INDEXED ORDER BY seq DESC")
    .all() as unknown as AuditRow[];
}

function checkFilters(db: DatabaseSync, filters: AuditFilter[]) {
  const rows = allRows(db);
  const finals = new Map<number, AuditRow[]>();
  for (const row of rows) {
    if (row.started_seq !== null) finals.set(row.started_seq, [row]);
  }
  for (const filter of filters) {
    const label = JSON.stringify(filter);
    const folded = rows.filter((row) => matches(row, { ...filter, fold: true }, finals));
    const paged: number[] = [];
    let cursor: number | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = listAudit(db, { ...filter, limit: 500, cursor });
      paged.push(...result.rows.map((row) => row.seq));
      if (result.next_cursor === null) break;
      cursor = result.next_cursor;
    }
    assert.deepEqual(paged, folded.map((row) => row.seq), `list ${label}`);
    const exported = [...iterateAudit(db, filter)];
    const unfolded = rows.filter((row) => matches(row, filter, finals));
    assert.deepEqual(exported.map((row) => row.seq), unfolded.map((row) => row.seq), label);
    // Whole rows, not just their numbers.
    if (exported.length) assert.deepEqual(exported[0], { ...unfolded[0] });
  }
}

const FILTERS: AuditFilter[] = [
  {},
  { user: "carol" },
  { user: "admin" },
  { action: "user.create" },
  { action: "docker.*" },
  { action: "user.*" },
  { action: "registry.*" },
  { action: "nothing.*" },
  { action: "DOCKER.*" },
  { target: "web-12" },
  { target: "team7/app-" },
  { target: "STACK-29" },
  { target: "ab" },
  { target: "zzz" },
  { target: "b_1" },
  { target: "%" },
  { target: 'a"b' },
  { target: "web-1%" },
  { target: "ÉCOLE" },
  { outcome: "failure" },
  { outcome: "success" },
  { from: "2025-01-02T00:00:00.000Z", to: "2025-01-02T23:59:59.999Z" },
  { from: "2025-01-03T00:00:00.000Z" },
  { to: "2025-01-01T12:00:00.000Z" },
  { from: "2030-01-01T00:00:00.000Z" },
  { user: "carol", action: "docker.*" },
  { user: "bob", outcome: "failure", target: "stack" },
  { action: "compose.*", from: "2025-01-02T00:00:00.000Z", to: "2025-01-03T00:00:00.000Z" },
  { outcome: "failure", from: "2024-01-01T00:00:00.000Z" },
  { target: "web-4", to: "2025-01-02T00:00:00.000Z", user: "admin" },
];

Deno.test("every audit filter gives exactly the rows a full scan gives, on every page", () =>
  withDb((db) => {
    // Enough rows that some candidate sets are over DRIVER_ROWS and some under.
    seedAudit(db, DRIVER_ROWS * 3, { startMs: Date.parse("2025-01-01T00:00:00Z") });
    // Rows whose time is older than rows before them (a clock step back, imported rows).
    for (const [i, ts] of ["2025-01-02T06:00:00.000Z", "2024-06-01T00:00:00.000Z"].entries()) {
      appendAudit(db, {
        actor: "carol",
        action: "docker.rm",
        target: `late-${i}`,
        exitCode: 1,
        durationMs: 1,
        ts,
      });
    }
    seedAudit(db, 300, { seed: 2, startMs: Date.parse("2025-02-01T00:00:00Z") });
    const disorder = db.prepare("SELECT count(*) AS n FROM audit_ts_disorder").get() as {
      n: number;
    };
    assert.equal(disorder.n, 2);
    checkFilters(db, FILTERS);
    assert.equal(verifyAudit(db).ok, true);
  }));

Deno.test("after retention the filter indexes hold only the kept rows", () =>
  withDb((db) => {
    seedAudit(db, 4000, { startMs: Date.parse("2025-01-01T00:00:00Z") });
    appendAudit(db, {
      actor: "carol",
      action: "docker.rm",
      target: "late",
      exitCode: 0,
      durationMs: 1,
      ts: "2024-01-01T00:00:00.000Z",
    });
    seedAudit(db, 1000, { seed: 3, startMs: Date.parse("2025-03-01T00:00:00Z") });
    assert.ok(pruneAudit(db, { maxAgeMs: 0, maxRows: 900 }) > 0);
    db.exec("INSERT INTO sysctl_audit_target (sysctl_audit_target) VALUES ('integrity-check')");
    const indexed = db.prepare(
      "SELECT count(*) AS n FROM sysctl_audit_target WHERE target LIKE '%web-%'",
    )
      .get() as { n: number };
    const stored = db.prepare("SELECT count(*) AS n FROM sysctl_audit WHERE target LIKE '%web-%'")
      .get() as { n: number };
    assert.equal(indexed.n, stored.n);
    const disorder = db.prepare("SELECT count(*) AS n FROM audit_ts_disorder").get() as {
      n: number;
    };
    assert.equal(disorder.n, 0, "the pruned out-of-order row left the index");
    checkFilters(db, FILTERS.slice(0, 12));
    assert.equal(verifyAudit(db).ok, true);
  }));

Deno.test("verify walks a large trail in batches and still names each altered row", () =>
  withDb((db) => {
    seedAudit(db, 2500);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 2500 });
    db.exec("DROP TRIGGER sysctl_audit_no_update");
    // Rows on both sides of a batch boundary and deep in the trail.
    for (const seq of [100, 101, 2001]) {
      db.prepare("UPDATE sysctl_audit SET target = 'tampered' WHERE seq = ?").run(seq);
    }
    const result = verifyAudit(db);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.deepEqual(result.problems.map((p) => p.seq), [100, 101, 2001]);
      assert.equal(result.rows, 2500);
    }
  }));
