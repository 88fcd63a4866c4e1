import assert from "node:assert/strict";
import { auditRows, createTestApp, sessionCookieOf, TEST_PASSWORD } from "../fixtures/app.ts";
import { LOGIN_LIMITS } from "../../lib/auth/throttle.ts";

function login(
  t: Awaited<ReturnType<typeof createTestApp>>,
  username: string,
  password: string,
  cookie?: string,
) {
  return t.request("POST", "/api/auth/login", { json: { username, password }, cookie });
}

Deno.test("login sets a fresh HttpOnly SameSite=Strict cookie; the token changes at every login", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("alice", "admin");
    const first = await login(t, "alice", TEST_PASSWORD);
    assert.equal(first.status, 200);
    assert.deepEqual((await first.json()).user.username, "alice");
    const setCookie = first.headers.getSetCookie().find((line) => line.startsWith("cm_session="))!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, "plain HTTP gets no Secure flag");
    const cookie1 = sessionCookieOf(first)!;

    // Fixation: a login that presents a planted (or old) cookie gets a new token, and the old one dies.
    const second = await login(t, "alice", TEST_PASSWORD, cookie1);
    const cookie2 = sessionCookieOf(second)!;
    assert.notEqual(cookie2, cookie1);
    assert.equal((await t.request("GET", "/api/auth/me", { cookie: cookie1 })).status, 401);
    assert.equal((await t.request("GET", "/api/auth/me", { cookie: cookie2 })).status, 200);

    // Only the hash of the token is stored.
    const token = cookie2.split("=")[1];
    const stored = t.deps.db.prepare("SELECT token_hash FROM sessions").all().map((r) =>
      r.token_hash
    );
    assert.ok(!stored.includes(token));
    assert.ok(stored.every((hash) => /^[0-9a-f]{64}$/.test(String(hash))));
  } finally {
    await t.close();
  }
});

Deno.test("logout invalidates the session and is audited", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("bob", "viewer");
    const cookie = sessionCookieOf(await login(t, "bob", TEST_PASSWORD))!;
    const out = await t.request("POST", "/api/auth/logout", { cookie });
    assert.equal(out.status, 200);
    assert.match(out.headers.getSetCookie().join(), /cm_session=;/);
    assert.equal((await t.request("GET", "/api/auth/me", { cookie })).status, 401);
    assert.equal((await t.request("GET", "/containers", { cookie })).status, 302);
    const actions = auditRows(t.deps.db).map((row) => `${row.action}:${row.exit_code}`);
    assert.deepEqual(actions, ["auth.login:0", "auth.logout:0"]);
  } finally {
    await t.close();
  }
});

Deno.test("unknown-user and wrong-password responses are identical", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("carol", "admin");
    const wrong = await login(t, "carol", "not the password");
    const unknown = await login(t, "nobody-here", "not the password");
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, wrong.status);
    assert.equal(await unknown.text(), await wrong.text());
    const headersOf = (response: Response) =>
      [...response.headers].filter(([name]) => name !== "x-request-id" && name !== "date");
    assert.deepEqual(headersOf(unknown), headersOf(wrong));
    const rows = auditRows(t.deps.db);
    assert.deepEqual(rows.map((row) => [row.action, row.target, row.exit_code]), [
      ["auth.login_failed", "carol", 401],
      ["auth.login_failed", "nobody-here", 401],
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("an unknown user costs a password hash too", async () => {
  const t = await createTestApp();
  try {
    // No warm-up: creating the auth routes started the dummy hash in the background.
    await t.addUser("dave", "admin");
    const time = async (username: string) => {
      const started = performance.now();
      await (await login(t, username, "wrong password")).body?.cancel();
      return performance.now() - started;
    };
    const known = await time("dave");
    const unknown = await time("nobody");
    // Both run scrypt (hundreds of ms); an unknown user without the dummy hash would take ~1 ms.
    // (Only this lower bound is checked: an upper one would be a timing test on a busy CI box.)
    assert.ok(
      unknown > known * 0.5,
      `unknown ${unknown.toFixed(0)} ms vs known ${known.toFixed(0)} ms`,
    );
  } finally {
    await t.close();
  }
});

Deno.test("ten failures per account lock it with 429 and Retry-After, even for the right password", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("erin", "admin");
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () => login(t, "erin", "wrong password")),
    );
    assert.deepEqual(attempts.map((r) => r.status), Array(10).fill(401));
    const locked = await login(t, "erin", TEST_PASSWORD);
    assert.equal(locked.status, 429);
    const retryAfter = Number(locked.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    assert.match((await locked.json()).error, /Too many failed attempts/);
    const last = auditRows(t.deps.db).at(-1)!;
    assert.equal(last.action, "auth.login_failed");
    assert.equal(last.exit_code, 429);
  } finally {
    await t.close();
  }
});

Deno.test("idle and absolute timeouts end sessions", async () => {
  const t = await createTestApp({ args: ["--session-idle", "1m", "--session-max", "5m"] });
  try {
    const userId = await t.addUser("frank", "admin");
    const { createSession } = await import("../../lib/auth/sessions.ts");
    const idle = createSession(t.deps.db, userId, "ip", Date.now() - 61_000);
    assert.equal(
      (await t.request("GET", "/api/auth/me", { cookie: `cm_session=${idle.token}` })).status,
      401,
    );
    const old = createSession(t.deps.db, userId, "ip", Date.now() - 6 * 60_000);
    t.deps.db.prepare("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?").run(
      Date.now(),
      old.tokenHash,
    );
    assert.equal(
      (await t.request("GET", "/api/auth/me", { cookie: `cm_session=${old.token}` })).status,
      401,
    );
    const fresh = createSession(t.deps.db, userId, "ip");
    assert.equal(
      (await t.request("GET", "/api/auth/me", { cookie: `cm_session=${fresh.token}` })).status,
      200,
    );
  } finally {
    await t.close();
  }
});

Deno.test("bad login bodies get a 400 naming the problem", async () => {
  const t = await createTestApp();
  try {
    const notJson = await t.request("POST", "/api/auth/login", {
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(notJson.status, 400);
    const missing = await t.request("POST", "/api/auth/login", { json: { username: "x" } });
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), { error: "password is required", field: "password" });
  } finally {
    await t.close();
  }
});

Deno.test("failures from one address up to its limit lock that address across accounts", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("gina", "admin");
    // In batches of ten: more in parallel would also meet the password hashing queue's bound.
    for (let batch = 0; batch < LOGIN_LIMITS.perAddress / 10; batch++) {
      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, i) => login(t, `guess-${batch}-${i}`, "wrong password")),
      );
      assert.deepEqual(attempts.map((r) => r.status), Array(10).fill(401));
    }
    const locked = await login(t, "gina", TEST_PASSWORD);
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get("retry-after")) > 0);
  } finally {
    await t.close();
  }
});
