import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../../../lib/db/db.ts";
import {
  appendAudit,
  listAudit,
  OUTPUT_LIMIT,
  pruneAudit,
  truncateOutput,
  verifyAudit,
} from "../../../lib/sysctl/audit.ts";
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
    const result = verifyAudit(db);
    assert.equal(result.ok, false);
    assert.deepEqual((result as { problems: unknown }).problems, [
      { seq: 13, reason: "its contents do not match its hash" },
    ]);
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
    // 20 rows stay, the audit.prune row included.
    const deleted = pruneAudit(db, { maxAgeMs: 0, maxRows: 20 });
    assert.equal(deleted, 31);
    const seqs =
      (db.prepare("SELECT seq FROM sysctl_audit ORDER BY seq").all() as { seq: number }[]).map((
        r,
      ) => r.seq);
    assert.equal(seqs[0], 32);
    assert.equal(seqs.length, 20);
    const last = db.prepare("SELECT action, params FROM sysctl_audit ORDER BY seq DESC LIMIT 1")
      .get() as {
        action: string;
        params: string;
      };
    assert.equal(last.action, "audit.prune");
    assert.equal(JSON.parse(last.params).pruned_through, 31);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 20 });
    assert.equal((await runVerify(dir)).code, 0);

    // Age-based: at start+100 s with a 60 s limit, rows stamped before start+40 s (32..40) go.
    const byAge = pruneAudit(db, { maxAgeMs: 60_000, maxRows: 0 }, start + 100_000);
    assert.equal(byAge, 9);
    // The audit.prune row is not news, and it never ages out on its own.
    assert.equal(pruneAudit(db, { maxAgeMs: 60_000, maxRows: 0 }, start + 10_000_000), 10);
    assert.equal(pruneAudit(db, { maxAgeMs: 60_000, maxRows: 0 }, start + 20_000_000), 0);
    assert.equal(verifyAudit(db).ok, true);

    // Quietly deleting the oldest remaining row (beyond the checkpoint) is caught.
    db.exec("DROP TRIGGER sysctl_audit_no_delete");
    db.exec("DELETE FROM sysctl_audit WHERE seq = (SELECT MIN(seq) FROM sysctl_audit)");
    assert.equal(verifyAudit(db).ok, false);
  }));

Deno.test("pruning outside retention with plain SQL (oldest rows deleted, checkpoint rewritten) is caught", () =>
  withDb(async (db, _path, dir) => {
    fill(db, 50, Date.now() - 100_000);
    assert.equal(pruneAudit(db, { maxAgeMs: 0, maxRows: 20 }), 31);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 20 });

    // Everything the prune path does, by hand and with the triggers in place: rows 32..35
    // go and the checkpoint is moved to continue from row 35's hash.
    const hashOf = (seq: number) =>
      (db.prepare("SELECT hash FROM sysctl_audit WHERE seq = ?").get(seq) as { hash: string })
        .hash;
    const row35 = hashOf(35);
    db.exec("INSERT INTO audit_prune (upto) VALUES (35)");
    db.exec("DELETE FROM sysctl_audit WHERE seq <= 35");
    db.exec("DELETE FROM audit_prune");
    db.prepare("UPDATE audit_checkpoint SET pruned_through = 35, continues_from = ?").run(row35);
    const caught = verifyAudit(db);
    assert.equal(caught.ok, false);
    assert.equal((caught as { seq: number }).seq, 32, "the first row deleted outside retention");
    assert.match((caught as { reason: string }).reason, /checkpoint \(pruned through 35\)/);
    const cli = await runVerify(dir);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /BROKEN at sequence 32/);
  }));

Deno.test("a checkpoint no audit.prune row records is caught, and a prune record must be the system's", () =>
  withDb((db) => {
    fill(db, 20);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 20 });
    const row5 = (db.prepare("SELECT hash FROM sysctl_audit WHERE seq = 5").get() as {
      hash: string;
    }).hash;
    db.exec("INSERT INTO audit_prune (upto) VALUES (5)");
    db.exec("DELETE FROM sysctl_audit WHERE seq <= 5");
    db.exec("DELETE FROM audit_prune");
    db.prepare(
      "INSERT INTO audit_checkpoint (id, pruned_through, continues_from, created_at) VALUES (1, 5, ?, ?)",
    ).run(row5, new Date().toISOString());
    const caught = verifyAudit(db);
    assert.equal(caught.ok, false);
    assert.equal((caught as { seq: number }).seq, 6);
    assert.match((caught as { reason: string }).reason, /no audit\.prune row records/);

    // A row that only looks like the record (a refused "audit.prune" dispatch) does not count.
    appendAudit(db, {
      actor: "mallory",
      action: "audit.prune",
      params: { pruned_through: 5, continues_from: row5 },
      exitCode: 400,
      durationMs: 0,
    });
    assert.equal(verifyAudit(db).ok, false);
  }));

Deno.test("a legitimate prune after a legitimate prune still verifies", () =>
  withDb((db) => {
    fill(db, 30);
    assert.equal(pruneAudit(db, { maxAgeMs: 0, maxRows: 10 }), 21);
    fill(db, 5);
    // Keeps 3 rows, the new audit.prune row included: the first prune's row goes.
    assert.ok(pruneAudit(db, { maxAgeMs: 0, maxRows: 3 }) > 0);
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 3 });
    const actions = db.prepare("SELECT action FROM sysctl_audit ORDER BY seq").all()
      .map((row) => row.action);
    assert.equal(actions.filter((action) => action === "audit.prune").length, 1);
  }));

Deno.test("outputs are cut at 4096 UTF-8 bytes, never inside a character", () =>
  withDb((db) => {
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    const fits = "x".repeat(OUTPUT_LIMIT);
    assert.equal(truncateOutput(fits), fits);
    const twoByte = "é".repeat(OUTPUT_LIMIT / 2); // exactly 4096 bytes
    assert.equal(truncateOutput(twoByte), twoByte);
    for (
      const [unit, count] of [["x", OUTPUT_LIMIT + 1], ["é", 2049], ["€", 2000], ["😀", 1500], [
        "a😀",
        900,
      ]] as const
    ) {
      const text = unit.repeat(count);
      const cut = truncateOutput(text);
      assert.ok(bytes(cut) <= OUTPUT_LIMIT, `${unit}: ${bytes(cut)} bytes`);
      assert.ok(bytes(cut) > OUTPUT_LIMIT - 20, `${unit}: as much as fits is kept`);
      assert.ok(cut.endsWith("… [truncated]"), unit);
      const kept = cut.slice(0, -"… [truncated]".length);
      assert.ok(text.startsWith(kept), `${unit}: the kept part is a prefix`);
      assert.doesNotMatch(kept, /[\uD800-\uDBFF]$/, `${unit}: no half of a surrogate pair`);
      assert.ok(!new TextDecoder().decode(new TextEncoder().encode(kept)).includes("\uFFFD"));
    }
    // Multi-byte text that is short in UTF-16 units but long in bytes used to slip through.
    const row = appendAudit(db, {
      actor: "alice",
      action: "docker.run",
      stdout: "日本語".repeat(1000), // 3000 units, 9000 bytes
      stderr: "ok",
      exitCode: 0,
      durationMs: 1,
    });
    assert.ok(bytes(row.stdout) <= OUTPUT_LIMIT);
    assert.ok(row.stdout.endsWith("… [truncated]"));
    assert.equal(row.stderr, "ok");
    assert.equal(verifyAudit(db).ok, true);
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
