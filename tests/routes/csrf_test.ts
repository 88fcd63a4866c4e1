/** CSRF and cross-site WebSocket hijacking: a foreign or missing Origin is refused before any effect. */
import assert from "node:assert/strict";
import { auditRows, createTestApp, ORIGIN } from "../fixtures/app.ts";
import {
  ensureTestImage,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import {
  createContainer,
  inspectContainer,
  listContainers,
  startContainer,
} from "../../lib/docker/containers.ts";

const BAD_ORIGINS: [string, string | null][] = [
  ["a foreign origin", "https://evil.example"],
  ["Origin: null", "null"],
  ["no Origin", null],
  ["the same host on another port", "http://panel.test:8081"],
  ["the same host over https", "https://panel.test"],
];

Deno.test("mutations with a bad Origin get 403 and leave no success row and no effect", async () => {
  const t = await createTestApp();
  try {
    const adminId = await t.addUser("csrf-admin", "admin");
    const cookie = t.cookieFor(adminId);
    for (const [label, origin] of BAD_ORIGINS) {
      const before = auditRows(t.deps.db).length;
      const create = await t.request("POST", "/api/users", {
        cookie,
        origin,
        json: { username: "csrf-victim", password: "long enough password", role: "admin" },
      });
      assert.equal(create.status, 403, `create user with ${label}`);
      const logout = await t.request("POST", "/api/auth/logout", { cookie, origin });
      assert.equal(logout.status, 403, `logout with ${label}`);
      const login = await t.request("POST", "/api/auth/login", {
        origin,
        json: { username: "csrf-admin", password: "x" },
      });
      assert.equal(login.status, 403, `login with ${label}`);
      assert.equal(auditRows(t.deps.db).length, before, `no audit row at all for ${label}`);
    }
    const users = await (await t.request("GET", "/api/users", { cookie })).json();
    assert.ok(
      !users.users.some((u: { username: string }) => u.username === "csrf-victim"),
      "no user was created",
    );
    const me = await t.request("GET", "/api/auth/me", { cookie });
    assert.equal(me.status, 200, "the session was not logged out");

    const ok = await t.request("POST", "/api/users", {
      cookie,
      origin: ORIGIN,
      json: { username: "real-user", password: "long enough password", role: "viewer" },
    });
    assert.equal(ok.status, 201, "the same request from the panel's own origin works");
  } finally {
    await t.close();
  }
});

Deno.test("WebSocket upgrades with a bad Origin get 403, with or without a session", async () => {
  const t = await createTestApp();
  try {
    const cookie = t.cookieFor(await t.addUser("ws-admin", "admin"));
    for (const [label, origin] of BAD_ORIGINS) {
      for (const path of ["/ws/containers/abc/exec", "/api/containers/events"]) {
        const response = await t.request("GET", path, {
          cookie,
          origin,
          headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13" },
        });
        await response.body?.cancel();
        assert.equal(response.status, 403, `${path} upgrade with ${label}`);
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("a configured allow-list origin (reverse proxy) is accepted", async () => {
  const t = await createTestApp({ args: ["--allowed-origins", "https://panel.example.org"] });
  try {
    const cookie = t.cookieFor(await t.addUser("proxy-admin", "admin"));
    const response = await t.request("POST", "/api/auth/logout", {
      cookie,
      origin: "https://panel.example.org",
    });
    assert.equal(response.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("a Docker mutation with a bad Origin gets 403 and the Engine never sees it", async () => {
  const t = await createTestApp();
  const docker = t.deps.docker;
  const prefix = uniquePrefix("cmcsrf");
  try {
    await ensureTestImage(docker);
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}target`);
    await startContainer(docker, Id);
    const cookie = t.cookieFor(await t.addUser("csrf-docker-admin", "admin"));
    for (const [label, origin] of BAD_ORIGINS) {
      const before = auditRows(t.deps.db).length;
      const stop = await t.request("POST", `/api/containers/${Id}/stop`, { cookie, origin });
      assert.equal(stop.status, 403, `stop with ${label}`);
      const remove = await t.request("DELETE", `/api/containers/${Id}`, { cookie, origin });
      assert.equal(remove.status, 403, `remove with ${label}`);
      const run = await t.request("POST", "/api/containers/run", {
        cookie,
        origin,
        json: { image: TEST_IMAGE, name: `${prefix}planted`, cmd: ["sleep", "30"] },
      });
      assert.equal(run.status, 403, `run with ${label}`);
      assert.equal(auditRows(t.deps.db).length, before, `no audit row for ${label}`);
    }
    assert.equal((await inspectContainer(docker, Id)).State.Running, true, "still running");
    const planted = await listContainers(docker, {
      all: true,
      filters: { name: [`${prefix}planted`] },
    });
    assert.equal(planted.length, 0, "nothing was run");
  } finally {
    await removeTestContainers(docker, prefix);
    await t.close();
  }
});
