/**
 * The audit export's exact text: SQLite formats it (lib/sysctl/audit.ts exportAuditText), so
 * it is checked byte for byte against the rows as objects: JSON.stringify of each row, and
 * the CSV rules (formula-looking cells quoted with ', cells with quotes, commas or line
 * breaks quoted), across read batches, with a filter and with nothing to export.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import {
  appendAudit,
  AUDIT_COLUMNS,
  type AuditEntry,
  type AuditRow,
  iterateAudit,
} from "../../lib/sysctl/audit.ts";

/** The CSV rules, as plainly as they can be said. */
function referenceCell(value: unknown): string {
  const text = String(value ?? "");
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function referenceCsv(rows: AuditRow[]): string {
  return AUDIT_COLUMNS.join(",") + "\r\n" +
    rows.map((row) => AUDIT_COLUMNS.map((column) => referenceCell(row[column])).join(",") + "\r\n")
      .join("");
}

function referenceJson(rows: AuditRow[]): string {
  return rows.length ? `[\n${rows.map((row) => JSON.stringify(row)).join(",\n")}\n]\n` : "[]\n";
}

const AWKWARD = [
  '=HYPERLINK("http://x")',
  "-1",
  "+sum",
  "@cmd",
  "\tindented",
  "\rreturn",
  "a,b",
  "two\nlines",
  "crlf\r\nline",
  'say "hi"',
  "é ü 😀 \u2028",
  "ctrl \u0001\u001f \\ /",
  "",
  "plain",
];

Deno.test("the audit export's CSV and JSON are exactly the rows, across batches", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("exporter", "admin"));
    const db = t.deps.db;
    for (const [i, text] of AWKWARD.entries()) {
      const entry: AuditEntry = {
        actor: i % 2 ? "alice" : text || "bob",
        clientIp: i % 3 ? "127.0.0.1" : text,
        action: "docker.restart",
        target: text,
        params: { text, n: i, nested: { quote: '"', list: [1, null] } },
        exitCode: i % 4 === 0 ? -1 : i,
        durationMs: i * 7,
        stdout: text,
        stderr: i % 2 ? "" : `${text},${text}`,
        requestId: text,
        environment: i % 2 ? undefined : "local",
      };
      const started = appendAudit(db, { ...entry, phase: "started", exitCode: 0 });
      appendAudit(db, { ...entry, startedSeq: started.seq });
    }
    // More than two read batches (100 rows each) in all.
    for (let i = 0; i < 230; i++) {
      appendAudit(db, {
        actor: i % 5 ? "carol" : "dave",
        action: "docker.start",
        target: `web-${i}`,
        exitCode: 0,
        durationMs: i,
      });
    }

    const exported = async (query: Record<string, string>) => {
      const response = await t.request(
        "GET",
        `/api/audit/export?${new URLSearchParams(query)}`,
        { cookie: admin },
      );
      assert.equal(response.status, 200);
      return await response.text();
    };
    const cases: [Record<string, string>, Parameters<typeof iterateAudit>[1]][] = [
      [{}, {}],
      [{ user: "carol" }, { user: "carol" }],
      [{ target: "e" }, { target: "e" }],
      [{ user: "nobody" }, { user: "nobody" }],
      [{ environment: "local" }, { environment: "local" }],
    ];
    for (const [query, filter] of cases) {
      const rows = [...iterateAudit(db, filter)];
      const csv = await exported({ ...query, format: "csv" });
      const json = await exported({ ...query, format: "json" });
      assert.deepEqual([...iterateAudit(db, filter)], rows, "no row was written meanwhile");
      const label = JSON.stringify(query);
      assert.equal(csv, referenceCsv(rows), `csv ${label}`);
      assert.equal(json, referenceJson(rows), `json ${label}`);
      assert.deepEqual(JSON.parse(json), rows.map((row) => ({ ...row })), `parsed ${label}`);
    }
    const everything = [...iterateAudit(db, {})];
    assert.ok(everything.length > 250, `${everything.length} rows`);
  } finally {
    await t.close();
  }
});
