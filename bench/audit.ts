/**
 * Audit benchmark at 1 000 000 rows, each measure side by side with its baseline:
 * 1. Every kind of Audit tab filter (user, action, action prefix, target substring,
 *    outcome, time range, combinations, cursor pages): listAudit on the migrated database
 *    against the query the panel ran before migration 4, on a copy without its indexes.
 * 2. Export of every row (CSV and JSON) through the real route, read to the end, in a child
 *    process: RSS growth and time, against the previous export code (one node:sqlite
 *    iterate() with row objects); then a client that stops reading for 2 s.
 * 3. `container-manager audit verify` (the real CLI) against the previous verify (row objects,
 *    node:crypto per row): time and peak RSS.
 * BENCH_AUDIT_ROWS changes the row count.
 */
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../lib/db/db.ts";
import { MIGRATIONS } from "../lib/db/migrations.ts";
import {
  AUDIT_COLUMNS,
  type AuditFilter,
  type AuditRow,
  iterateAudit,
  listAudit,
  rowHash,
} from "../lib/sysctl/audit.ts";
import { MALLOC_ENV, V8_FLAGS } from "../lib/install.ts";
import { seedAudit } from "../tests/fixtures/audit_seed.ts";
import { startPermissions } from "../tests/fixtures/server.ts";
import { reportTarget } from "./report.ts";

const ROOT = new URL("../", import.meta.url);
const ROWS = Number(Deno.env.get("BENCH_AUDIT_ROWS") ?? 1_000_000);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

// ---- the code paths before this change, kept here as the baseline --------------------

function baselineWhere(filter: AuditFilter) {
  const clauses: string[] = [];
  const values: (string | number)[] = [];
  const escape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
  if (filter.user) clauses.push("actor = ?"), values.push(filter.user);
  if (filter.action?.endsWith(".*")) {
    clauses.push("action LIKE ? ESCAPE '\\'");
    values.push(`${escape(filter.action.slice(0, -1))}%`);
  } else if (filter.action) clauses.push("action = ?"), values.push(filter.action);
  if (filter.target) {
    clauses.push("target LIKE ? ESCAPE '\\'");
    values.push(`%${escape(filter.target)}%`);
  }
  if (filter.outcome === "success") clauses.push("exit_code = 0 AND phase IS NULL");
  if (filter.outcome === "failure") clauses.push("exit_code != 0 AND phase IS NULL");
  if (filter.fold) {
    clauses.push(`NOT (phase IS NOT NULL AND EXISTS
         (SELECT 1 FROM sysctl_audit AS f WHERE f.started_seq = sysctl_audit.seq))`);
  }
  if (filter.from) clauses.push("ts >= ?"), values.push(filter.from);
  if (filter.to) clauses.push("ts <= ?"), values.push(filter.to);
  if (filter.cursor !== undefined) clauses.push("seq < ?"), values.push(filter.cursor);
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", values };
}

function baselineList(db: DatabaseSync, filter: AuditFilter): number {
  const { where, values } = baselineWhere({ fold: true, ...filter });
  return db.prepare(`SELECT * FROM sysctl_audit ${where} ORDER BY seq DESC LIMIT 51`)
    .all(...values).length;
}

function baselineVerify(db: DatabaseSync): number {
  let count = 0;
  let prev = "0".repeat(64);
  for (const value of db.prepare("SELECT * FROM sysctl_audit ORDER BY seq").iterate()) {
    const row = value as unknown as AuditRow;
    if (row.prev_hash !== prev || rowHash(row.prev_hash, row) !== row.hash) {
      throw new Error(`Baseline verify: row ${row.seq} does not check out`);
    }
    prev = row.hash;
    count++;
  }
  return count;
}

function baselineExport(db: DatabaseSync, format: string): ReadableStream<Uint8Array> {
  const rows = (function* () {
    for (const row of db.prepare("SELECT * FROM sysctl_audit ORDER BY seq DESC").iterate()) {
      yield row as unknown as AuditRow;
    }
  })();
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      for (let i = 0; i < 200; i++) {
        const next = rows.next();
        if (next.done) {
          controller.enqueue(encoder.encode(format === "json" ? "\n]\n" : ""));
          controller.close();
          return;
        }
        const line = format === "csv"
          ? Object.values(next.value).map((v) => JSON.stringify(v)).join(",") + "\r\n"
          : (first ? "[\n" : ",\n") + JSON.stringify(next.value);
        first = false;
        controller.enqueue(encoder.encode(line));
      }
    },
  });
}

/** The export of the revision before SQLite formatted it (e8bbf49^): batches of row objects. */
function previousExport(db: DatabaseSync, format: string): ReadableStream<Uint8Array> {
  const cell = (value: unknown) => {
    const text = String(value ?? "");
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const rows = iterateAudit(db, {});
  const encoder = new TextEncoder();
  let first = true;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      let text = "";
      for (let i = 0; i < 100; i++) {
        const next = rows.next();
        if (next.done) {
          if (format === "json") text += first ? "[]\n" : "\n]\n";
          controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        const row = next.value;
        if (format === "csv") {
          text += (first ? AUDIT_COLUMNS.join(",") + "\r\n" : "") +
            AUDIT_COLUMNS.map((column) => cell(row[column])).join(",") + "\r\n";
        } else {
          text += (first ? "[\n" : ",\n") + JSON.stringify(row);
        }
        first = false;
      }
      controller.enqueue(encoder.encode(text));
    },
  }, { highWaterMark: 0 });
}

// ---- child processes: one measurement each, so RSS is the measurement's own ------------

async function exportChild(mode: string, dbPath: string, format: string, pauseMs: number) {
  const db = new DatabaseSync(dbPath);
  let body: ReadableStream<Uint8Array>;
  if (mode === "baseline") {
    body = baselineExport(db, format);
  } else if (mode === "previous") {
    body = previousExport(db, format);
  } else {
    const { auditApiRoutes } = await import("../routes/api/audit.ts");
    const app = auditApiRoutes({ db } as unknown as Parameters<typeof auditApiRoutes>[0]);
    const response = await app.request(`/export?format=${format}`);
    body = response.body!;
  }
  const start = Deno.memoryUsage().rss;
  let peak = start;
  let bytes = 0;
  let chunks = 0;
  const started = performance.now();
  const reader = body.getReader();
  let paused: number | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    if (++chunks % 50 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
    if (pauseMs && chunks === 10) {
      // A client that stops reading: nothing more may be read or buffered meanwhile.
      const before = Deno.memoryUsage().rss;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      paused = Deno.memoryUsage().rss - before;
      await reader.cancel();
      break;
    }
  }
  peak = Math.max(peak, Deno.memoryUsage().rss);
  console.log(JSON.stringify({
    ms: performance.now() - started,
    bytes,
    growth: peak - start,
    paused,
  }));
  db.close();
}

function verifyChild(dbPath: string) {
  const db = new DatabaseSync(dbPath);
  const started = performance.now();
  const rows = baselineVerify(db);
  console.log(JSON.stringify({ ms: performance.now() - started, rows }));
}

/** Runs a command, polling its RSS; returns its stdout, time and peak RSS. */
/** The panel's V8 flags and allocator settings (as `deno task start` runs it). */
const PANEL_ENV = Object.fromEntries(MALLOC_ENV.split(" ").map((word) => word.split("=")));

async function measured(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  let peak = 0;
  let first = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const rss = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) * 1024;
      if (!first && rss) first = rss;
      peak = Math.max(peak, rss);
    } catch {
      // exited
    }
  }, 20);
  const output = await child.output();
  clearInterval(timer);
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return { stdout, ms: performance.now() - started, peak, first };
}

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "cm-bench-audit-" });
  try {
    console.log(`## Audit trail with ${ROWS.toLocaleString("en")} rows\n`);
    const basePath = `${dir}/baseline.db`;
    const base = openDatabase(basePath, { migrations: MIGRATIONS.slice(0, 3) });
    let started = performance.now();
    seedAudit(base, ROWS);
    base.close();
    console.log(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await Deno.mkdir(`${dir}/panel`);
    const panelPath = `${dir}/panel/container-manager.db`;
    await Deno.copyFile(basePath, panelPath);
    started = performance.now();
    const db = openDatabase(panelPath);
    console.log(
      `migration 4 on the existing rows: ${((performance.now() - started) / 1000).toFixed(1)} s` +
        ` (once); database ${mb((await Deno.stat(basePath)).size)} → ${
          mb((await Deno.stat(panelPath)).size)
        }\n`,
    );
    const baseline = new DatabaseSync(basePath);
    const newest = (db.prepare("SELECT max(seq) AS s FROM sysctl_audit").get() as { s: number }).s;
    const firstTs = (db.prepare("SELECT ts FROM sysctl_audit ORDER BY seq LIMIT 1").get() as {
      ts: string;
    }).ts;
    const day = (offsetDays: number) =>
      new Date(Date.parse(firstTs) + offsetDays * 86_400_000).toISOString();
    const middle = Math.floor(newest / 2);
    const filters: [string, AuditFilter][] = [
      ["no filter", {}],
      ["user (1 % of rows)", { user: "carol" }],
      ["user (60 %)", { user: "admin" }],
      ["action (0.5 %)", { action: "user.create" }],
      ["action prefix docker.* (60 %)", { action: "docker.*" }],
      ["action prefix registry.* (1 %)", { action: "registry.*" }],
      ["action prefix matching nothing", { action: "nothing.*" }],
      ["target contains (common)", { target: "web-12" }],
      ["target contains (rare)", { target: "team1/app-4321" }],
      ["target contains (absent)", { target: "zzz-not-there" }],
      ["target contains 2 chars", { target: "ab" }],
      ["outcome failure", { outcome: "failure" }],
      ["time: one day, middle", { from: day(150), to: day(151) }],
      ["time: first day", { to: day(1) }],
      ["time: everything", { from: day(-1) }],
      ["time: nothing (future)", { from: day(5000) }],
      ["user + action prefix", { user: "carol", action: "docker.*" }],
      ["user + failure + target", { user: "bob", outcome: "failure", target: "stack" }],
      ["user + rare action", { user: "carol", action: "user.create" }],
      ["prefix + one day", { action: "compose.*", from: day(150), to: day(151) }],
      ["rare target + old time", { target: "web-4999", to: day(30) }],
      ["cursor page (middle), user", { user: "carol", cursor: middle }],
      ["cursor page (middle), prefix", { action: "user.*", cursor: middle }],
      ["cursor page (middle), failure + target", {
        outcome: "failure",
        target: "app-",
        cursor: middle,
      }],
    ];
    console.log("| filter | before (no index) | now | ratio |");
    console.log("|---|---:|---:|---:|");
    let worst = 0;
    let worstBefore = 0;
    for (const [name, filter] of filters) {
      const before: number[] = [];
      const now: number[] = [];
      for (let i = 0; i < 5; i++) {
        let t = performance.now();
        const expected = baselineList(baseline, filter);
        before.push(performance.now() - t);
        t = performance.now();
        const got = listAudit(db, { ...filter, limit: 50 }).rows.length;
        now.push(performance.now() - t);
        if (Math.min(expected, 50) !== got) {
          throw new Error(`${name}: ${got} rows now, ${Math.min(expected, 50)} before`);
        }
      }
      worst = Math.max(worst, median(now));
      worstBefore = Math.max(worstBefore, median(before));
      console.log(
        `| ${name} | ${median(before).toFixed(1)} ms | ${median(now).toFixed(1)} ms | ${
          (median(now) / median(before)).toFixed(2)
        }× |`,
      );
    }
    reportTarget({
      measure: "Audit filters at 1 000 000 rows, the slowest kind",
      target: "under 100 ms",
      baseline: `${worstBefore.toFixed(1)} ms`,
      measured: `${worst.toFixed(1)} ms`,
      ratio: worst / worstBefore,
      met: worst < 100,
    });
    console.log(
      `\nslowest filter: ${worst.toFixed(1)} ms now, ${worstBefore.toFixed(1)} ms before ` +
        `(target: under 100 ms)\n`,
    );
    baseline.close();
    db.close();

    // Each export in its own process, run as the panel runs (its V8 flags and allocator
    // settings); `first` is the oldest export code, `previous` the one before SQLite
    // formatted the rows.
    console.log(
      "| export of every row (time / RSS growth) | first export code | previous | now |",
    );
    console.log("|---|---:|---:|---:|");
    const self = new URL(import.meta.url).pathname;
    const show = (result: { ms: number; growth: number }) =>
      `${(result.ms / 1000).toFixed(1)} s / ${mb(result.growth)}`;
    for (const format of ["csv", "json"]) {
      const run = async (mode: string, path: string, pause = 0) =>
        JSON.parse(
          (await measured([
            "run",
            "-A",
            `--v8-flags=${V8_FLAGS}`,
            self,
            "export-child",
            mode,
            path,
            format,
            String(pause),
          ], PANEL_ENV)).stdout,
        );
      const first = await run("baseline", basePath);
      const previous = await run("previous", panelPath);
      const now = await run("now", panelPath);
      console.log(
        `| ${format} (${mb(now.bytes)}) | ${show(first)} | ${show(previous)} | ${show(now)} |`,
      );
      reportTarget({
        measure: `Audit export of every row, ${format}`,
        target: "RSS growth under 30 MB",
        baseline: mb(first.growth),
        measured: `${mb(now.growth)} (${(now.ms / 1000).toFixed(1)} s)`,
        ratio: now.growth / first.growth,
        met: now.growth < 30 * 1024 * 1024,
      });
      if (format === "csv") {
        const stalled: string[] = [];
        for (const mode of ["baseline", "previous", "now"]) {
          stalled.push(
            mb((await run(mode, mode === "baseline" ? basePath : panelPath, 2000)).paused),
          );
        }
        console.log(`| csv, client stops reading for 2 s (growth) | ${stalled.join(" | ")} |`);
      }
    }
    console.log("\n(target: RSS growth under 30 MB)");

    const before = await measured(["run", "-A", self, "verify-child", basePath]);
    const now = await measured([
      "run",
      ...(await startPermissions()),
      "main.ts",
      "audit",
      "verify",
      "--data-dir",
      `${dir}/panel`,
    ]);
    if (!now.stdout.startsWith("OK:")) throw new Error(`audit verify: ${now.stdout}`);
    console.log("\n| audit verify | time | peak RSS |");
    console.log("|---|---:|---:|");
    console.log(`| before | ${(before.ms / 1000).toFixed(1)} s | ${mb(before.peak)} |`);
    console.log(
      `| now (\`container-manager audit verify\`) | ${(now.ms / 1000).toFixed(1)} s | ${
        mb(now.peak)
      } |`,
    );
    reportTarget({
      measure: "audit verify of 1 000 000 rows",
      target: "under 30 s, flat memory",
      baseline: `${(before.ms / 1000).toFixed(1)} s, peak ${mb(before.peak)}`,
      measured: `${(now.ms / 1000).toFixed(1)} s, peak ${mb(now.peak)}`,
      ratio: now.ms / before.ms,
      met: now.ms < 30_000,
    });
    console.log("\n(target: under 30 s, flat memory; time includes process start)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] === "export-child") {
  await exportChild(Deno.args[1], Deno.args[2], Deno.args[3], Number(Deno.args[4]));
} else if (Deno.args[0] === "verify-child") {
  verifyChild(Deno.args[1]);
} else {
  await main();
}
