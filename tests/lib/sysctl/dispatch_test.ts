import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openDatabase } from "../../../lib/db/db.ts";
import {
  type Actor,
  AUDITED_MEMORY,
  createDispatcher,
  type Handlers,
  LONG_VERBS,
  type Verb,
  VERBS,
} from "../../../lib/sysctl/dispatch.ts";
import { recordInterrupted, verifyAudit } from "../../../lib/sysctl/audit.ts";
import { HttpError } from "../../../lib/errors.ts";
import { DockerError } from "../../../lib/docker/errors.ts";

async function tempDb() {
  const dir = await Deno.makeTempDir({ prefix: "cm-dispatch-" });
  const path = `${dir}/test.db`;
  const db = openDatabase(path);
  return {
    db,
    path,
    rows: () =>
      db.prepare("SELECT * FROM sysctl_audit ORDER BY seq").all() as Record<string, unknown>[],
    /** Final rows only: a long verb's started row is left out. */
    finals: () =>
      db.prepare("SELECT * FROM sysctl_audit WHERE phase IS NULL ORDER BY seq").all() as Record<
        string,
        unknown
      >[],
    async close() {
      db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const ADMIN: Actor = {
  username: "root-admin",
  role: "admin",
  ip: "10.1.1.1",
  userId: 1,
  sessionHash: "abc",
};
const VIEWER: Actor = { username: "just-looking", role: "viewer", ip: "10.1.1.2", userId: 2 };
const ALL_VERBS = Object.keys(VERBS) as Verb[];

Deno.test("every verb writes exactly one final row on success and on failure; long verbs a started row first", async () => {
  const t = await tempDb();
  try {
    let fail = false;
    const handlers: Handlers = Object.fromEntries(ALL_VERBS.map((verb) => [verb, () => {
      if (fail) return Promise.reject(new DockerError(409, `conflict in ${verb}`));
      return Promise.resolve({ done: verb });
    }]));
    const dispatcher = createDispatcher(t.db, handlers);
    for (const verb of ALL_VERBS) {
      fail = false;
      const long = LONG_VERBS.has(verb);
      const before = t.rows().length;
      assert.deepEqual(await dispatcher.dispatch({ verb, target: "t1", actor: ADMIN }), {
        done: verb,
      });
      const written = t.rows().slice(before);
      assert.equal(written.length, long ? 2 : 1, `${verb} success`);
      if (long) {
        assert.equal(written[0].phase, "started");
        assert.equal(written[0].action, verb);
        assert.equal(written[0].target, "t1");
        assert.equal(written[1].started_seq, written[0].seq);
      }
      const success = written.slice(long ? 1 : 0);
      assert.equal(success[0].action, verb);
      assert.equal(success[0].exit_code, 0);
      assert.equal(success[0].actor, "root-admin");
      assert.equal(success[0].client_ip, "10.1.1.1");
      assert.equal(success[0].target, "t1");
      assert.match(String(success[0].stdout), new RegExp(verb.replace(".", "\\.")));

      fail = true;
      await assert.rejects(dispatcher.dispatch({ verb, target: "t2", actor: ADMIN }), DockerError);
      const failure = t.rows().slice(before + written.length + (long ? 1 : 0));
      assert.equal(failure.length, 1, `${verb} failure`);
      assert.equal(failure[0].phase, null);
      assert.equal(failure[0].exit_code, 409);
      assert.equal(failure[0].stderr, `conflict in ${verb}`);
    }
    assert.deepEqual(verifyAudit(t.db), {
      ok: true,
      rows: (ALL_VERBS.length + LONG_VERBS.size) * 2,
    });
  } finally {
    await t.close();
  }
});

Deno.test("a viewer calling a mutating verb is refused with 403 and audited", async () => {
  const t = await tempDb();
  try {
    let ran = 0;
    const dispatcher = createDispatcher(t.db, {
      "docker.stop": () => Promise.resolve(ran++),
      "docker.rm": () => Promise.resolve(ran++),
      "user.create": () => Promise.resolve(ran++),
    });
    for (const verb of ["docker.stop", "docker.rm", "user.create"]) {
      await assert.rejects(
        dispatcher.dispatch({ verb, target: "web", actor: VIEWER }),
        (error: unknown) => {
          assert.ok(error instanceof HttpError);
          assert.equal(error.status, 403);
          return true;
        },
      );
    }
    assert.equal(ran, 0, "no handler ran");
    const rows = t.rows();
    assert.deepEqual(rows.map((row) => [row.action, row.actor, row.exit_code]), [
      ["docker.stop", "just-looking", 403],
      ["docker.rm", "just-looking", 403],
      ["user.create", "just-looking", 403],
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("an unknown verb is refused, and the refusal is audited", async () => {
  const t = await tempDb();
  try {
    const dispatcher = createDispatcher(t.db, {});
    await assert.rejects(
      dispatcher.dispatch({ verb: "docker.system.prune", target: "", actor: ADMIN }),
      /Unknown action/,
    );
    await assert.rejects(
      dispatcher.dispatch({ verb: "__proto__", target: "", actor: ADMIN }),
      /Unknown action/,
    );
    const rows = t.rows();
    assert.deepEqual(rows.map((row) => [row.action, row.exit_code]), [
      ["docker.system.prune", 400],
      ["__proto__", 400],
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("an anonymous actor may only use the public verbs", async () => {
  const t = await tempDb();
  try {
    const dispatcher = createDispatcher(t.db, { "auth.logout": () => Promise.resolve(1) });
    await assert.rejects(
      dispatcher.dispatch({
        verb: "auth.logout",
        target: "",
        actor: { username: "x", role: "anonymous", ip: "" },
      }),
      (error: unknown) => error instanceof HttpError && error.status === 401,
    );
    assert.equal(t.rows().length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("secrets never reach the audit row: passwords, env values, cookies, tokens", async () => {
  const t = await tempDb();
  try {
    const canary = "canary-Zq8w-secret";
    const dispatcher = createDispatcher(t.db, {
      "docker.run": () => Promise.resolve({ id: "abc", token: canary }),
      "registry.upsert": () => Promise.reject(new HttpError(400, "registry said no")),
    });
    await dispatcher.dispatch({
      verb: "docker.run",
      target: "web",
      actor: ADMIN,
      params: { image: "x", env: [`DB_PASSWORD=${canary}`, "PLAIN"], labels: { cookie: canary } },
    });
    await dispatcher.dispatch({
      verb: "docker.run",
      target: "web2",
      actor: ADMIN,
      params: { image: "x", env: { API_KEY: canary } },
    });
    await assert.rejects(dispatcher.dispatch({
      verb: "registry.upsert",
      target: "localhost:5000",
      actor: ADMIN,
      params: { server_address: "localhost:5000", username: "u", password: canary },
    }));
    for (const row of t.rows()) {
      assert.ok(!JSON.stringify(row).includes(canary), JSON.stringify(row));
    }
    const rows = t.finals();
    assert.deepEqual(JSON.parse(String(rows[0].params)).env, ["DB_PASSWORD=[redacted]", "PLAIN"]);
    assert.deepEqual(JSON.parse(String(rows[1].params)).env, { API_KEY: "[redacted]" });
    assert.equal(JSON.parse(String(rows[2].params)).username, "u");
  } finally {
    await t.close();
  }
});

Deno.test("200 concurrent mutations produce 200 rows and no 'database is locked'", async () => {
  const t = await tempDb();
  try {
    const dispatcher = createDispatcher(t.db, {
      "docker.restart": async ({ target }) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
        if (Number(target.slice(1)) % 7 === 0) throw new HttpError(404, "No such container");
        return { restarted: target };
      },
    });
    const results = await Promise.allSettled(
      Array.from(
        { length: 200 },
        (_, i) => dispatcher.dispatch({ verb: "docker.restart", target: `c${i}`, actor: ADMIN }),
      ),
    );
    const rejected = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.ok(
      rejected.every((r) => /No such container/.test(r.reason.message)),
      "only the expected failures",
    );
    // docker.restart is long: a started row each, and each final row names its own.
    const finals = t.finals();
    assert.equal(finals.length, 200);
    assert.equal(new Set(finals.map((row) => row.target)).size, 200);
    const started = new Map(
      t.rows().filter((row) => row.phase === "started").map((row) => [row.seq, row.target]),
    );
    assert.equal(started.size, 200);
    for (const row of finals) assert.equal(started.get(row.started_seq), row.target);
    assert.deepEqual(verifyAudit(t.db), { ok: true, rows: 400 });
  } finally {
    await t.close();
  }
});

Deno.test("a shutdown that cannot wait audits what is still running, once", async () => {
  const t = await tempDb();
  try {
    let finishPull!: () => void;
    const dispatcher = createDispatcher(t.db, {
      "docker.pull": () => new Promise((resolve) => finishPull = () => resolve({ ok: true })),
      "docker.start": () => Promise.resolve({ state: "running" }),
    });
    const pull = dispatcher.dispatch({
      verb: "docker.pull",
      target: "team/app",
      actor: ADMIN,
      params: { reference: "team/app" },
    });
    await dispatcher.dispatch({ verb: "docker.start", target: "c1", actor: ADMIN });
    assert.equal(dispatcher.abandon("The panel shut down before this finished"), 1);
    const rows = t.rows();
    assert.deepEqual(rows.map((row) => [row.action, row.phase, row.exit_code]), [
      ["docker.pull", "started", 0],
      ["docker.start", null, 0],
      ["docker.pull", null, 503],
    ]);
    assert.equal(rows[2].stderr, "The panel shut down before this finished");
    assert.equal(rows[2].target, "team/app");
    assert.equal(rows[2].started_seq, rows[0].seq);
    assert.equal(dispatcher.abandon("again"), 0, "nothing left to abandon");
    // Should the handler still return, it writes no second final row.
    finishPull();
    await pull;
    assert.equal(t.rows().length, 3);
    assert.equal(verifyAudit(t.db).ok, true);
  } finally {
    await t.close();
  }
});

Deno.test("hasAudited remembers the request ids that got a row, up to its bound", async () => {
  const t = await tempDb();
  try {
    const dispatcher = createDispatcher(t.db, {
      "docker.start": () => Promise.resolve({ state: "running" }),
    });
    assert.equal(dispatcher.hasAudited("req-1"), false);
    await dispatcher.dispatch({
      verb: "docker.start",
      target: "c",
      actor: ADMIN,
      requestId: "req-1",
    });
    await assert.rejects(
      dispatcher.dispatch({ verb: "docker.start", target: "c", actor: VIEWER, requestId: "req-2" }),
    );
    assert.equal(dispatcher.hasAudited("req-1"), true);
    assert.equal(dispatcher.hasAudited("req-2"), true, "a refusal has its row too");
    assert.equal(dispatcher.hasAudited("req-3"), false);
    for (let i = 0; i < AUDITED_MEMORY; i++) {
      await assert.rejects(
        dispatcher.dispatch({ verb: "nope", target: "", actor: ADMIN, requestId: `fill-${i}` }),
      );
    }
    assert.equal(dispatcher.hasAudited("req-1"), false, "the oldest ids are forgotten");
    assert.equal(dispatcher.hasAudited(`fill-${AUDITED_MEMORY - 1}`), true);
  } finally {
    await t.close();
  }
});

Deno.test("nothing acts when its audit row cannot be written first: 503, and the handler never runs", async () => {
  const t = await tempDb();
  try {
    let ran = 0;
    const dispatcher = createDispatcher(t.db, {
      "docker.start": () => Promise.resolve(ran++),
      "docker.pull": () => Promise.resolve(ran++),
    }, { log: () => {} });
    t.db.exec("PRAGMA busy_timeout = 50");
    const other = new DatabaseSync(t.path);
    other.exec("BEGIN IMMEDIATE");
    try {
      for (
        const [verb, actor] of [["docker.start", ADMIN], ["docker.pull", ADMIN], [
          "docker.pull",
          VIEWER,
        ]] as const
      ) {
        await assert.rejects(
          dispatcher.dispatch({ verb, target: "x", actor }),
          (error: unknown) => {
            assert.ok(error instanceof HttpError, String(error));
            assert.equal(error.status, 503);
            assert.match(error.message, /audit trail cannot be written.*nothing was done/);
            return true;
          },
          `${verb} as ${actor.role}`,
        );
      }
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    assert.equal(ran, 0);
    assert.equal(t.rows().length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("a final row that cannot be written at once is retried; if it never can, the started row stays for the restart sweep", async () => {
  const t = await tempDb();
  try {
    const logs: string[] = [];
    let other: DatabaseSync | undefined;
    const lock = () => {
      other = new DatabaseSync(t.path);
      other.exec("BEGIN IMMEDIATE");
    };
    const unlock = () => {
      other?.exec("ROLLBACK");
      other?.close();
      other = undefined;
    };
    const dispatcher = createDispatcher(t.db, {
      "docker.pull": ({ params }) => {
        lock();
        // Released while the dispatcher is retrying, or not at all.
        if (params.release) setTimeout(unlock, 100);
        return Promise.resolve({ pulled: true });
      },
    }, { log: (message) => logs.push(message) });
    t.db.exec("PRAGMA busy_timeout = 20");

    assert.deepEqual(
      await dispatcher.dispatch({
        verb: "docker.pull",
        target: "a",
        actor: ADMIN,
        params: { release: true },
      }),
      { pulled: true },
    );
    assert.deepEqual(t.rows().map((row) => [row.target, row.phase, row.exit_code]), [
      ["a", "started", 0],
      ["a", null, 0],
    ]);
    assert.deepEqual(logs, []);

    // Never released: the caller still gets the handler's answer; the failure is logged.
    assert.deepEqual(
      await dispatcher.dispatch({ verb: "docker.pull", target: "b", actor: ADMIN, params: {} }),
      { pulled: true },
    );
    unlock();
    assert.equal(logs.length, 1);
    assert.match(logs[0], /Could not write the audit row of docker\.pull .*started row 3 stays/);
    assert.deepEqual(recordInterrupted(t.db).map((row) => [row.target, row.started_seq]), [[
      "b",
      3,
    ]]);
    assert.equal(verifyAudit(t.db).ok, true);
  } finally {
    await t.close();
  }
});
