import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../../../lib/db/db.ts";
import {
  appendAudit,
  capText,
  FIELD_BYTES,
  INTERRUPTED,
  listAudit,
  OUTPUT_LIMIT,
  pruneAudit,
  recordInterrupted,
  rowHash,
  truncateOutput,
  verifyAudit,
} from "../../../lib/sysctl/audit.ts";
import { MIGRATIONS } from "../../../lib/db/migrations.ts";
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

Deno.test("text is made well-formed and capped in UTF-8 bytes before it is hashed", () =>
  withDb((db) => {
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    const row = appendAudit(db, {
      actor: "\ud800" + "é".repeat(300),
      clientIp: "\udfff",
      action: "a".repeat(127) + "😀",
      target: "t".repeat(1023) + "😀",
      requestId: "\ud83d",
      stderr: "half \ud83d",
      exitCode: 1,
      durationMs: 1,
    });
    assert.equal(row.actor[0], "\ufffd");
    assert.ok(bytes(row.actor) <= FIELD_BYTES.actor);
    assert.equal(row.client_ip, "\ufffd");
    assert.equal(row.action, "a".repeat(127), "an emoji that does not fit whole goes whole");
    assert.equal(row.target, "t".repeat(1023));
    assert.equal(row.stderr, "half \ufffd");
    const stored = db.prepare("SELECT * FROM sysctl_audit WHERE seq = ?").get(row.seq) as Record<
      string,
      unknown
    >;
    for (const field of ["actor", "client_ip", "action", "target", "request_id", "stderr"]) {
      assert.equal(stored[field], row[field as keyof typeof row], field);
    }
    assert.equal(capText("😀😀", 5), "😀");
    assert.equal(capText("ab\ud800", 10), "ab\ufffd");
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 1 });
  }));

Deno.test("restart sweep: each started row without a final row gets one, once", () =>
  withDb(async (db, _path, dir) => {
    const started = appendAudit(db, {
      actor: "alice",
      clientIp: "10.0.0.1",
      action: "docker.pull",
      target: "team/app",
      params: { reference: "team/app" },
      requestId: "r1",
      phase: "started",
      exitCode: 0,
      durationMs: 0,
    });
    const done = appendAudit(db, {
      actor: "bob",
      action: "docker.stop",
      target: "web",
      phase: "started",
      exitCode: 0,
      durationMs: 0,
    });
    appendAudit(db, {
      actor: "bob",
      action: "docker.stop",
      target: "web",
      startedSeq: done.seq,
      exitCode: 0,
      durationMs: 12,
    });
    const swept = recordInterrupted(db);
    assert.equal(swept.length, 1);
    assert.deepEqual(
      [swept[0].actor, swept[0].client_ip, swept[0].action, swept[0].target, swept[0].request_id],
      ["alice", "10.0.0.1", "docker.pull", "team/app", "r1"],
    );
    assert.equal(swept[0].started_seq, started.seq);
    assert.equal(swept[0].exit_code, 503);
    assert.equal(swept[0].stderr, INTERRUPTED);
    assert.equal(swept[0].params, started.params);
    assert.deepEqual(recordInterrupted(db), [], "a second start finds nothing");
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 4 });
    // The list folds each started row into its final row.
    assert.deepEqual(listAudit(db, {}).rows.map((row) => row.seq), [4, 3]);
    assert.equal(listAudit(db, { fold: false }).rows.length, 4);
    assert.equal((await runVerify(dir)).code, 0);
  }));

Deno.test("a final row must refer to an earlier unfinished started row of its action; phase and started_seq are hashed", () =>
  withDb((db) => {
    const started = appendAudit(db, {
      actor: "a",
      action: "docker.pull",
      phase: "started",
      exitCode: 0,
      durationMs: 0,
    });
    appendAudit(db, {
      actor: "a",
      action: "docker.rm",
      startedSeq: started.seq,
      exitCode: 0,
      durationMs: 0,
    });
    appendAudit(db, {
      actor: "a",
      action: "docker.pull",
      startedSeq: 99,
      exitCode: 0,
      durationMs: 0,
    });
    const result = verifyAudit(db);
    assert.equal(result.ok, false);
    assert.deepEqual(
      (result as { problems: { seq: number; reason: string }[] }).problems.map((p) => p.seq),
      [2, 3],
    );
    db.exec("DROP TRIGGER sysctl_audit_no_update");
    db.exec("UPDATE sysctl_audit SET phase = NULL WHERE seq = 1");
    assert.ok(
      (verifyAudit(db) as { problems: { seq: number; reason: string }[] }).problems.some((p) =>
        p.seq === 1 && /contents/.test(p.reason)
      ),
    );
  }));

Deno.test("rows written before the started-row migration keep verifying after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-audit-" });
  const path = `${dir}/container-manager.db`;
  try {
    const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, 2) });
    const insert = old.prepare(
      `INSERT INTO sysctl_audit (seq, ts, actor, client_ip, action, target, params, exit_code,
         duration_ms, stdout, stderr, request_id, prev_hash, hash)
       VALUES (?, ?, 'alice', '', 'docker.rm', ?, '{}', 0, 1, '', '', '', ?, ?)`,
    );
    let prev = "0".repeat(64);
    for (let seq = 1; seq <= 3; seq++) {
      const fields = {
        seq,
        ts: new Date(seq * 1000).toISOString(),
        actor: "alice",
        client_ip: "",
        action: "docker.rm",
        target: `c${seq}`,
        params: "{}",
        exit_code: 0,
        duration_ms: 1,
        stdout: "",
        stderr: "",
        request_id: "",
      };
      const hash = rowHash(prev, fields);
      insert.run(seq, fields.ts, fields.target, prev, hash);
      prev = hash;
    }
    old.close();
    const db = openDatabase(path);
    try {
      assert.deepEqual(verifyAudit(db), { ok: true, rows: 3 });
      appendAudit(db, {
        actor: "a",
        action: "docker.pull",
        phase: "started",
        exitCode: 0,
        durationMs: 0,
      });
      assert.deepEqual(verifyAudit(db), { ok: true, rows: 4 });
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
