import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../../../lib/db/db.ts";
import { appendAudit, listAudit, pruneAudit, verifyAudit } from "../../../lib/sysctl/audit.ts";
import { runMain } from "../../fixtures/server.ts";

async function withDb(fn: (db: DatabaseSync, path: string, dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir({ prefix: "cm-audit-" });
  const path = `${dir}/container-manager.db`;
  const db = openDatabase(path);
  try {
    await fn(db, path, dir);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function fill(db: DatabaseSync, n: number, start = Date.now()) {
  for (let i = 0; i < n; i++) {
    appendAudit(db, {
      actor: i % 2 ? "alice" : "bob",
      action: i % 3 ? "docker.restart" : "docker.rm",
      target: `container-${i}`,
      exitCode: i % 4 ? 0 : 404,
      durationMs: i,
      ts: new Date(start + i * 1000).toISOString(),
    });
  }
}

function runVerify(dataDir: string) {
  return runMain(["audit", "verify", "--data-dir", dataDir]);
}

Deno.test("triggers refuse UPDATE and DELETE on the audit table", () =>
  withDb((db) => {
    fill(db, 3);
    assert.throws(
      () => db.exec("UPDATE sysctl_audit SET actor = 'mallory' WHERE seq = 2"),
      /append-only/,
    );
    assert.throws(() => db.exec("DELETE FROM sysctl_audit WHERE seq = 3"), /append-only/);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 3 });
  }));

Deno.test("audit verify reports OK, then the exact row after one is altered with the triggers dropped", () =>
  withDb(async (db, _path, dir) => {
    fill(db, 20);
    const ok = await runVerify(dir);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^OK: 20 audit rows/);

    db.exec("DROP TRIGGER sysctl_audit_no_update");
    db.exec("UPDATE sysctl_audit SET target = 'innocent' WHERE seq = 13");
    assert.deepEqual(verifyAudit(db), {
      ok: false,
      seq: 13,
      reason: "its contents do not match its hash",
    });
    const broken = await runVerify(dir);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN at sequence 13/);
  }));

Deno.test("a deleted row and a re-hashed row are both caught", () =>
  withDb((db) => {
    fill(db, 10);
    db.exec("DROP TRIGGER sysctl_audit_no_delete");
    db.exec("DROP TRIGGER sysctl_audit_no_update");
    db.exec("DELETE FROM sysctl_audit WHERE seq = 4");
    const gap = verifyAudit(db);
    assert.equal(gap.ok, false);
    assert.equal((gap as { seq: number }).seq, 4);
    // Rewriting row 5's prev_hash to hide the gap breaks row 5's own hash instead.
    const third = db.prepare("SELECT hash FROM sysctl_audit WHERE seq = 3").get() as {
      hash: string;
    };
    db.prepare("UPDATE sysctl_audit SET seq = 4, prev_hash = ? WHERE seq = 5").run(third.hash);
    assert.equal((verifyAudit(db) as { seq: number }).seq, 4);
  }));

Deno.test("retention prunes only the oldest rows and the chain still verifies from the checkpoint", () =>
  withDb(async (db, _path, dir) => {
    const start = Date.now() - 100_000;
    fill(db, 50, start);
    const deleted = pruneAudit(db, { maxAgeMs: 0, maxRows: 20 });
    assert.equal(deleted, 30);
    const seqs =
      (db.prepare("SELECT seq FROM sysctl_audit ORDER BY seq").all() as { seq: number }[]).map((
        r,
      ) => r.seq);
    assert.equal(seqs[0], 31);
    const last = db.prepare("SELECT action, params FROM sysctl_audit ORDER BY seq DESC LIMIT 1")
      .get() as {
        action: string;
        params: string;
      };
    assert.equal(last.action, "audit.prune");
    assert.equal(JSON.parse(last.params).pruned_through, 30);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 21 });
    assert.equal((await runVerify(dir)).code, 0);

    // Age-based: at start+100 s with a 60 s limit, rows stamped before start+40 s (31..40) go.
    const byAge = pruneAudit(db, { maxAgeMs: 60_000, maxRows: 0 }, start + 100_000);
    assert.equal(byAge, 10);
    assert.equal(verifyAudit(db).ok, true);

    // Quietly deleting the oldest remaining row (beyond the checkpoint) is caught.
    db.exec("DROP TRIGGER sysctl_audit_no_delete");
    db.exec("DELETE FROM sysctl_audit WHERE seq = (SELECT MIN(seq) FROM sysctl_audit)");
    assert.equal(verifyAudit(db).ok, false);
  }));

Deno.test("listAudit filters by user, action, target, outcome and time, with a cursor", () =>
  withDb((db) => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    fill(db, 30, start);
    assert.equal(listAudit(db, { user: "alice", limit: 500 }).rows.length, 15);
    assert.ok(
      listAudit(db, { action: "docker.rm", limit: 500 }).rows.every((r) =>
        r.action === "docker.rm"
      ),
    );
    assert.equal(listAudit(db, { action: "docker.*", limit: 500 }).rows.length, 30);
    assert.deepEqual(listAudit(db, { target: "container-17" }).rows.map((r) => r.seq), [18]);
    assert.ok(
      listAudit(db, { outcome: "failure", limit: 500 }).rows.every((r) => r.exit_code !== 0),
    );
    assert.ok(
      listAudit(db, { outcome: "success", limit: 500 }).rows.every((r) => r.exit_code === 0),
    );
    const window = listAudit(db, {
      from: new Date(start + 10_000).toISOString(),
      to: new Date(start + 12_000).toISOString(),
    });
    assert.deepEqual(window.rows.map((r) => r.seq), [13, 12, 11]);

    const seen: number[] = [];
    let cursor: number | undefined;
    do {
      const page = listAudit(db, { limit: 7, cursor });
      seen.push(...page.rows.map((r) => r.seq));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => 30 - i));
  }));
