/**
 * Attacks on the audit trail (issue 10, items 3, 4, 7, 9 and 10): text that SQLite stores
 * differently from what was hashed, retention that eats the trail, a crash that leaves no
 * evidence, a locked database that lets a mutation through unaudited, and a housekeeping
 * error that kills the process.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { runMain, startPanel } from "../fixtures/server.ts";
import { openDatabase } from "../../lib/db/db.ts";
import { appendAudit, pruneAudit, verifyAudit } from "../../lib/sysctl/audit.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";
import { createDispatcher } from "../../lib/sysctl/dispatch.ts";
import { HttpError } from "../../lib/errors.ts";

function verifyCli(dataDir: string) {
  return runMain(["audit", "verify", "--data-dir", dataDir]);
}

Deno.test("a lone surrogate or an emoji cut in half leaves a chain that verifies", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("surrogate-admin", "admin"));
    // A lone high surrogate is valid JSON; it is hashed and stored the same way.
    const login = await t.request("POST", "/api/auth/login", {
      json: { username: "\ud800", password: "whatever it is" },
    });
    assert.equal(login.status, 401);
    // The route cuts the registry address at 200 UTF-16 units: inside the emoji.
    const registry = await t.request("POST", "/api/containers/registries", {
      cookie: admin,
      json: { server_address: `${"r".repeat(199)}😀`, username: "u", password: "p" },
    });
    assert.equal(registry.status, 400);
    // The target field is capped: a name whose emoji straddles the cap.
    for (const length of [511, 1023]) {
      const run = await t.request("POST", "/api/containers/run", {
        cookie: admin,
        json: { image: "cm-test/busybox:latest", name: `${"n".repeat(length)}😀😀` },
      });
      assert.equal(run.status, 400);
    }
    const rows = auditRows(t.deps.db);
    assert.ok(rows.length >= 4, JSON.stringify(rows.map((row) => row.action)));
    assert.deepEqual(verifyAudit(t.deps.db), { ok: true, rows: rows.length });
    for (const row of rows) {
      for (const field of [row.actor, row.target, row.params, row.stderr]) {
        assert.ok(field.isWellFormed(), `row ${row.seq} holds no lone surrogate`);
      }
    }
    const verify = await verifyCli(t.dir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^OK: /);
  } finally {
    await t.close();
  }
});

Deno.test("audit verify reports every altered row, not only the first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-attack-audit-" });
  const db = openDatabase(`${dir}/container-manager.db`);
  try {
    for (let i = 0; i < 12; i++) {
      appendAudit(db, {
        actor: "alice",
        action: "docker.stop",
        target: `c${i}`,
        exitCode: 0,
        durationMs: 1,
      });
    }
    db.exec("DROP TRIGGER sysctl_audit_no_update");
    db.exec("UPDATE sysctl_audit SET target = 'innocent' WHERE seq = 4");
    db.exec("UPDATE sysctl_audit SET actor = 'nobody' WHERE seq = 9");
    const result = verifyAudit(db);
    assert.equal(result.ok, false);
    assert.deepEqual(
      (result as { problems: { seq: number }[] }).problems.map((problem) => problem.seq),
      [4, 9],
    );
    const cli = await verifyCli(dir);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /BROKEN at sequence 4:/);
    assert.match(cli.stdout, /BROKEN at sequence 9:/);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention with a cap of 5 keeps exactly 5 rows, and idle passes delete nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-attack-audit-" });
  const db = openDatabase(`${dir}/container-manager.db`);
  const seqs = () =>
    (db.prepare("SELECT seq FROM sysctl_audit ORDER BY seq").all() as { seq: number }[])
      .map((row) => row.seq);
  try {
    for (let i = 0; i < 12; i++) {
      appendAudit(db, {
        actor: "alice",
        action: "docker.stop",
        target: `c${i}`,
        exitCode: 0,
        durationMs: 1,
      });
    }
    const policy = { maxAgeMs: 0, maxRows: 5 };
    assert.ok(pruneAudit(db, policy) > 0, "the first pass prunes the backlog");
    assert.equal(seqs().length, 5);
    const kept = seqs();
    for (let pass = 0; pass < 6; pass++) {
      assert.equal(pruneAudit(db, policy), 0, `idle pass ${pass + 1} deletes nothing`);
      assert.deepEqual(seqs(), kept, `idle pass ${pass + 1} changes nothing`);
    }
    appendAudit(db, {
      actor: "alice",
      action: "docker.start",
      target: "new",
      exitCode: 0,
      durationMs: 1,
    });
    assert.ok(pruneAudit(db, policy) > 0, "a new row is news");
    assert.equal(seqs().length, 5);
    assert.equal(verifyAudit(db).ok, true);
    const verify = await verifyCli(dir);
    assert.equal(verify.code, 0, verify.stdout);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention never deletes the started row of an operation still running", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-attack-audit-" });
  const db = openDatabase(`${dir}/container-manager.db`);
  try {
    const started = appendAudit(db, {
      actor: "alice",
      action: "docker.pull",
      target: "big/image",
      phase: "started",
      exitCode: 0,
      durationMs: 0,
    });
    for (let i = 0; i < 12; i++) {
      appendAudit(db, {
        actor: "bob",
        action: "docker.start",
        target: `c${i}`,
        exitCode: 0,
        durationMs: 1,
      });
    }
    pruneAudit(db, { maxAgeMs: 0, maxRows: 5 });
    const kept = db.prepare("SELECT seq FROM sysctl_audit WHERE seq = ?").get(started.seq);
    assert.ok(kept, "the running pull's started row is still there");
    // Once the pull has its final row, retention catches up to the cap.
    appendAudit(db, {
      actor: "alice",
      action: "docker.pull",
      target: "big/image",
      startedSeq: started.seq,
      exitCode: 0,
      durationMs: 5,
    });
    pruneAudit(db, { maxAgeMs: 0, maxRows: 5 });
    const count = db.prepare("SELECT COUNT(*) AS n FROM sysctl_audit").get() as { n: number };
    assert.equal(count.n, 5);
    assert.equal(verifyAudit(db).ok, true);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the housekeeping pass survives an SQLite error and logs it", async () => {
  const { housekeep } = await import("../../lib/db/housekeeping.ts");
  const dir = await Deno.makeTempDir({ prefix: "cm-attack-audit-" });
  const path = `${dir}/container-manager.db`;
  const db = openDatabase(path);
  const logs: string[] = [];
  const policy = {
    sessions: { idleMs: 60_000, absoluteMs: 60_000 },
    retention: { maxAgeMs: 0, maxRows: 2 },
    log: (message: string) => logs.push(message),
  };
  try {
    for (let i = 0; i < 4; i++) {
      appendAudit(db, {
        actor: "alice",
        action: "docker.stop",
        target: `c${i}`,
        exitCode: 0,
        durationMs: 1,
      });
    }
    db.exec("PRAGMA busy_timeout = 50");
    const other = new DatabaseSync(path);
    other.exec("BEGIN EXCLUSIVE");
    try {
      housekeep(db, policy); // must not throw
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    assert.ok(
      logs.some((line) => /housekeeping/i.test(line) && /locked|busy/i.test(line)),
      logs.join("\n"),
    );
    logs.length = 0;
    db.close();
    housekeep(db, policy); // a closed database: logged, not thrown
    assert.ok(logs.length > 0);
  } finally {
    try {
      db.close();
    } catch {
      // closed above
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with the database locked, a start does not start the container and answers 503", async () => {
  await using engine = await testEngine("cmlock");
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("lock-admin", "admin"));
    const id = await makeTestContainer(engine.docker, engine.prefix, "idle", {
      Cmd: ["sleep", "300"],
    }, false);
    t.deps.db.exec("PRAGMA busy_timeout = 200");
    const before = auditRows(t.deps.db).length;
    const other = new DatabaseSync(`${t.dir}/container-manager.db`);
    other.exec("BEGIN IMMEDIATE");
    let response: Response;
    try {
      response = await t.request("POST", `/api/containers/${id}/start`, { cookie: admin });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    const body = await response.json();
    assert.equal(response.status, 503, JSON.stringify(body));
    assert.match(body.error, /audit/i);
    const info = await inspectContainer(engine.docker, id);
    assert.equal(info.State.Running, false, "the container was not started");
    assert.equal(auditRows(t.deps.db).length, before, "nothing happened, so nothing to record");
  } finally {
    await t.close();
  }
});

Deno.test("deeply nested params and results are audited with a marker instead of crashing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-attack-audit-" });
  const db = openDatabase(`${dir}/container-manager.db`);
  try {
    let nested: unknown = "bottom";
    for (let i = 0; i < 20_000; i++) nested = { a: [nested] };
    const dispatcher = createDispatcher(db, {
      "docker.run": () => Promise.resolve({ result: nested }),
    });
    const viewer = { username: "v", role: "viewer" as const, ip: "127.0.0.1", userId: 2 };
    const admin = { username: "a", role: "admin" as const, ip: "127.0.0.1", userId: 1 };
    await assert.rejects(
      dispatcher.dispatch({
        verb: "docker.run",
        target: "deep",
        params: { labels: nested },
        actor: viewer,
      }),
      (error: unknown) => error instanceof HttpError && error.status === 403,
    );
    await dispatcher.dispatch({
      verb: "docker.run",
      target: "deep",
      params: { labels: nested },
      actor: admin,
    });
    const rows = db.prepare(
      "SELECT exit_code, params, stdout FROM sysctl_audit WHERE phase IS NOT 'started' ORDER BY seq",
    )
      .all() as { exit_code: number; params: string; stdout: string }[];
    assert.deepEqual(rows.map((row) => row.exit_code), [403, 0]);
    for (const row of rows) assert.match(row.params, /too deep/);
    assert.match(rows[1].stdout, /too deep/);
    assert.equal(verifyAudit(db).ok, true);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kill -9 during a pull: after a restart the audit shows it started and then interrupted", async () => {
  const { engineClient, uniquePrefix } = await import("../fixtures/engine.ts");
  const { pushToRegistry, startRegistry, startSlowProxy } = await import("../fixtures/registry.ts");
  const { randomPayloadTar } = await import("../fixtures/tar.ts");
  const { importImage, listImages } = await import("../../lib/docker/images.ts");
  const docker = await engineClient();
  const prefix = uniquePrefix("cmkill");
  const registry = await startRegistry();
  // 8 MB at 500 kB/s: the pull is still running when the panel is killed.
  const proxy = startSlowProxy(registry, 500_000);
  const dataDir = await Deno.makeTempDir({ prefix: "cm-panel-kill-" });
  const first = await startPanel({ dataDir });
  try {
    const local = `${prefix}src/payload:1`;
    await importImage(docker, local, randomPayloadTar(prefix, 8_000_000));
    await pushToRegistry(docker, local, registry, `${prefix}slow/payload`);
    await docker.json("DELETE", `/images/${local}`);
    const headers = { Cookie: await first.login(), Origin: first.url };
    const saved = await fetch(`${first.url}/api/containers/registries`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        server_address: proxy.address,
        username: registry.username,
        password: registry.password,
      }),
    });
    assert.equal(saved.status, 200, await saved.text());
    const pull = await fetch(`${first.url}/api/containers/images/pull`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ reference: `${proxy.address}/${prefix}slow/payload:latest` }),
    });
    const reader = pull.body!.getReader();
    await reader.read(); // the pull has started
    first.child.kill("SIGKILL");
    await first.child.status;
    await reader.cancel().catch(() => {});
    await first.stop();

    const second = await startPanel({ dataDir });
    try {
      assert.match(second.output(), /1 operation.* interrupted/i);
      const cookie = await second.login();
      const listed = await fetch(`${second.url}/api/audit?action=docker.pull`, {
        headers: { Cookie: cookie },
      });
      const { rows } = await listed.json() as {
        rows: { seq: number; phase: string | null; started_seq: number | null; stderr: string }[];
      };
      assert.equal(rows.length, 1, "the Audit tab shows the pull once, folded");
      assert.match(rows[0].stderr, /interrupted by a panel restart/i);
    } finally {
      await second.stop();
    }
    const db = openDatabase(`${dataDir}/container-manager.db`);
    const pulls = db.prepare(
      "SELECT seq, phase, started_seq, exit_code, stderr FROM sysctl_audit WHERE action = 'docker.pull' ORDER BY seq",
    ).all().map((row) => ({ ...row }));
    db.close();
    assert.equal(pulls.length, 2, JSON.stringify(pulls));
    assert.equal(pulls[0].phase, "started");
    assert.equal(pulls[1].started_seq, pulls[0].seq);
    assert.notEqual(pulls[1].exit_code, 0);
    assert.match(String(pulls[1].stderr), /interrupted by a panel restart/i);
    const verify = await verifyCli(dataDir);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    try {
      first.child.kill("SIGKILL");
    } catch {
      // already gone
    }
    for (const image of await listImages(docker)) {
      for (const tag of (image.RepoTags ?? []).filter((tag) => tag.includes(prefix))) {
        await docker.json("DELETE", `/images/${tag}`).catch(() => {});
      }
    }
    await proxy.stop();
    await registry.stop();
    docker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
