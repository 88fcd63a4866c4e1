import assert from "node:assert/strict";
import { createSession, hashToken } from "../../../lib/auth/sessions.ts";
import { createSessionStreams } from "../../../lib/auth/streams.ts";
import { createTestApp } from "../../fixtures/app.ts";

Deno.test("logout closes the session's streams; deleting a user closes theirs", async () => {
  const t = await createTestApp();
  try {
    const adminId = await t.addUser("stream-admin", "admin");
    const viewerId = await t.addUser("stream-viewer", "viewer");
    const adminCookie = t.cookieFor(adminId);
    const adminHash = hashToken(adminCookie.split("=")[1]);
    const viewerSession = createSession(t.deps.db, viewerId, "ip");

    const adminStream = new AbortController();
    const otherAdminStream = new AbortController();
    const viewerStream = new AbortController();
    t.deps.streams.register(adminHash, adminId, adminStream);
    t.deps.streams.register("another-session", adminId, otherAdminStream);
    t.deps.streams.register(viewerSession.tokenHash, viewerId, viewerStream);
    assert.equal(t.deps.streams.count(), 3);

    assert.equal(
      (await t.request("POST", "/api/auth/logout", { cookie: adminCookie })).status,
      200,
    );
    assert.equal(adminStream.signal.aborted, true, "the logged-out session's stream closed");
    assert.equal(otherAdminStream.signal.aborted, false, "another session of the same user stays");

    const admin2 = t.cookieFor(adminId);
    assert.equal(
      (await t.request("DELETE", `/api/users/${viewerId}`, { cookie: admin2 })).status,
      200,
    );
    assert.equal(viewerStream.signal.aborted, true, "the deleted user's stream closed");
    assert.equal(t.deps.streams.count(), 1);
  } finally {
    await t.close();
  }
});

Deno.test("users API: roles, resets and the last admin are handled; viewers may not manage", async () => {
  const t = await createTestApp();
  try {
    const adminId = await t.addUser("boss", "admin");
    const viewerId = await t.addUser("peer", "viewer");
    const admin = t.cookieFor(adminId);
    const viewer = t.cookieFor(viewerId);

    const denied = await t.request("POST", "/api/users", {
      cookie: viewer,
      json: { username: "sneaky", password: "long enough password", role: "admin" },
    });
    assert.equal(denied.status, 403);
    const audit = t.deps.db.prepare("SELECT action, actor, exit_code FROM sysctl_audit").all();
    assert.deepEqual(audit.map((r) => ({ ...r })), [{
      action: "user.create",
      actor: "peer",
      exit_code: 403,
    }]);

    const bad = await t.request("POST", "/api/users", {
      cookie: admin,
      json: { username: "x y", password: "short" },
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).field, "username");
    const short = await t.request("POST", "/api/users", {
      cookie: admin,
      json: { username: "ok", password: "short" },
    });
    assert.equal((await short.json()).field, "password");

    const promote = await t.request("PATCH", `/api/users/${viewerId}`, {
      cookie: admin,
      json: { role: "admin" },
    });
    assert.equal((await promote.json()).user.role, "admin");
    const selfDemote = await t.request("PATCH", `/api/users/${adminId}`, {
      cookie: admin,
      json: { role: "viewer" },
    });
    assert.equal(selfDemote.status, 409);
    const selfDelete = await t.request("DELETE", `/api/users/${adminId}`, { cookie: admin });
    assert.equal(selfDelete.status, 409);

    const reset = await t.request("PATCH", `/api/users/${viewerId}`, {
      cookie: admin,
      json: { password: "a brand new password" },
    });
    assert.equal(reset.status, 200);
    assert.equal(
      (await t.request("GET", "/api/auth/me", { cookie: viewer })).status,
      401,
      "their sessions ended",
    );

    const wrongCurrent = await t.request("POST", "/api/auth/password", {
      cookie: admin,
      json: { current_password: "nope", new_password: "another long password" },
    });
    assert.equal(wrongCurrent.status, 400);
    assert.equal((await wrongCurrent.json()).field, "current_password");
  } finally {
    await t.close();
  }
});

Deno.test("the expiry sweep closes the streams of sessions that are no longer live, then stops", async () => {
  const streams = createSessionStreams();
  const stop = new AbortController();
  const live = new Set(["a", "b"]);
  streams.watchExpiry((hash) => live.has(hash), stop.signal, 20);
  const a = new AbortController();
  const b = new AbortController();
  streams.register("a", 1, a);
  const releaseB = streams.register("b", 2, b);
  live.delete("a");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(a.signal.aborted, true, "the expired session's stream closed");
  assert.equal(b.signal.aborted, false);
  releaseB(); // no stream left: the timer stops (the test's sanitizer would see a leak)
  assert.equal(streams.count(), 0);
  stop.abort();
});

Deno.test("a session check that throws closes nothing", async () => {
  const streams = createSessionStreams();
  const stop = new AbortController();
  streams.watchExpiry(
    () => {
      throw new Error("database is closing");
    },
    stop.signal,
    10,
  );
  const stream = new AbortController();
  const release = streams.register("x", 1, stream);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(stream.signal.aborted, false);
  stop.abort(); // stops the timer although a stream is still registered
  release();
});
