/**
 * The audit trail's environment column (migration 6): rows written before it keep their
 * hashes and the chain still verifies after the upgrade; a row without an environment hashes
 * exactly as before; a row with one hashes it (changing it breaks the chain); the filter.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openDatabase } from "../../../lib/db/db.ts";
import { MIGRATIONS } from "../../../lib/db/migrations.ts";
import {
  appendAudit,
  GENESIS_HASH,
  listAudit,
  rowHash,
  verifyAudit,
} from "../../../lib/sysctl/audit.ts";

const entry = { actor: "admin", action: "docker.start", target: "abc", exitCode: 0, durationMs: 1 };

Deno.test("rows from before migration 6 keep their hashes, and the upgraded chain verifies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-audit-env-" });
  try {
    const old = openDatabase(`${dir}/db.sqlite`, { migrations: MIGRATIONS.slice(0, 5) });
    // Rows as the panel wrote them before migration 6 (no environment column yet).
    let prev = GENESIS_HASH;
    for (const [seq, action, phase] of [[1, "docker.start", null], [2, "docker.stop", "started"]]) {
      const row = {
        seq: seq as number,
        ts: `2026-11-30T10:00:0${seq}.000Z`,
        actor: "admin",
        client_ip: "",
        action: action as string,
        target: "abc",
        params: "{}",
        exit_code: 0,
        duration_ms: 1,
        stdout: "",
        stderr: "",
        request_id: "",
        phase: phase as string | null,
        started_seq: null,
      };
      const hash = rowHash(prev, row);
      old.prepare(
        `INSERT INTO sysctl_audit (seq, ts, actor, client_ip, action, target, params, exit_code,
           duration_ms, stdout, stderr, request_id, prev_hash, hash, phase, started_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
        prev,
        hash,
        row.phase,
        row.started_seq,
      );
      prev = hash;
    }
    const before = old.prepare("SELECT seq, hash FROM sysctl_audit ORDER BY seq").all();
    old.close();
    const db = openDatabase(`${dir}/db.sqlite`);
    try {
      assert.deepEqual(db.prepare("SELECT seq, hash FROM sysctl_audit ORDER BY seq").all(), before);
      appendAudit(db, { ...entry, environment: "node-1" });
      appendAudit(db, { ...entry, environment: "local" });
      assert.deepEqual(verifyAudit(db), { ok: true, rows: 4 });
      const envRows = listAudit(db, { environment: "node-1" }).rows;
      assert.deepEqual(envRows.map((row) => row.seq), [3]);
      // Rows from before environments were on the panel's own Engine.
      const local = listAudit(db, { environment: "local", fold: false }).rows;
      assert.deepEqual(local.map((row) => row.seq), [4, 2, 1]);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a row without an environment hashes as before; one with it is covered by its hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-audit-env-" });
  const db = openDatabase(`${dir}/db.sqlite`);
  try {
    const plain = appendAudit(db, { ...entry, ts: "2026-11-30T10:00:00.000Z" });
    const fields = [
      plain.seq,
      plain.ts,
      plain.actor,
      plain.client_ip,
      plain.action,
      plain.target,
      plain.params,
      plain.exit_code,
      plain.duration_ms,
      plain.stdout,
      plain.stderr,
      plain.request_id,
    ];
    const expected = createHash("sha256").update(plain.prev_hash).update(JSON.stringify(fields))
      .digest("hex");
    assert.equal(plain.hash, expected);
    const tagged = appendAudit(db, { ...entry, environment: "node-1" });
    assert.equal(tagged.environment, "node-1");
    assert.deepEqual(verifyAudit(db), { ok: true, rows: 2 });
    // Moving a row to another environment is tampering.
    db.exec("DROP TRIGGER sysctl_audit_no_update");
    db.prepare("UPDATE sysctl_audit SET environment = 'local' WHERE seq = ?").run(tagged.seq);
    const result = verifyAudit(db);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.seq, tagged.seq);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
