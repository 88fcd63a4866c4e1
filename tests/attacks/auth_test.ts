/**
 * Attacks on sign-in, setup and the users API (hardening issue items 1, 2, 5, 15, 16, 17).
 * Each case failed on the code before the fix.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, ORIGIN, TEST_PASSWORD } from "../fixtures/app.ts";
import { delay, startPanel } from "../fixtures/server.ts";
import { safeNextPath } from "../../lib/auth/next.ts";
import { LOGIN_LIMITS } from "../../lib/auth/throttle.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** A login as if it came from `address` (the in-process app reads the peer from the env). */
async function loginFrom(t: TestApp, address: string, username: string, password: string) {
  return await t.app.request(`${ORIGIN}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: ORIGIN },
    body: JSON.stringify({ username, password }),
  }, { remoteAddr: { hostname: address, port: 40000, transport: "tcp" } });
}

function readStatusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
}

const MB = 1024;
const RSS_CAP_KB = 400 * MB;

Deno.test("item 1+2: 50 parallel unknown-user logins stay under 400 MB and the throttle's limits", async () => {
  await using panel = await startPanel();
  const pid = panel.child.pid;
  // Let startup (the admin's hash and the dummy hash) finish before the baseline.
  await delay(2000);
  let peakKb = readStatusKb(pid, "VmRSS");
  let killed = false;
  // A watchdog: before the fix this run grew by gigabytes; stop it at the cap, not later.
  const watchdog = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, readStatusKb(pid, "VmRSS"));
      if (peakKb > RSS_CAP_KB && !killed) {
        killed = true;
        panel.child.kill("SIGKILL");
      }
    } catch {
      // the process is gone
    }
  }, 10);
  const accounts = 5;
  const attempts = Array.from({ length: 50 }, (_, i) => `ghost-${i % accounts}`);
  let responses: { username: string; status: number; retryAfter: string | null }[] = [];
  try {
    responses = await Promise.all(attempts.map(async (username) => {
      try {
        const response = await fetch(`${panel.url}/api/auth/login`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Origin: panel.url },
          body: JSON.stringify({ username, password: "a guessed password" }),
        });
        await response.body?.cancel();
        return {
          username,
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
        };
      } catch {
        return { username, status: 0, retryAfter: null };
      }
    }));
    if (!killed) peakKb = Math.max(peakKb, readStatusKb(pid, "VmHWM"));
  } finally {
    clearInterval(watchdog);
  }
  assert.ok(!killed && peakKb < RSS_CAP_KB, `peak RSS ${Math.round(peakKb / MB)} MB`);

  const verified = responses.filter((r) => r.status === 401);
  const refused = responses.filter((r) => r.status === 429);
  assert.equal(
    verified.length + refused.length,
    50,
    JSON.stringify(responses.map((r) => r.status)),
  );
  assert.ok(verified.length >= 1, "some attempts were verified");
  assert.ok(
    verified.length <= LOGIN_LIMITS.perAddress,
    `${verified.length} verified from one address (limit ${LOGIN_LIMITS.perAddress})`,
  );
  for (let i = 0; i < accounts; i++) {
    const forAccount = verified.filter((r) => r.username === `ghost-${i}`).length;
    assert.ok(forAccount <= LOGIN_LIMITS.perPair, `${forAccount} verified for ghost-${i}`);
  }
  assert.ok(refused.every((r) => Number(r.retryAfter) > 0), "every 429 has a Retry-After");
});

Deno.test("item 2: 40 parallel guesses for one account are counted before verifying", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("target", "admin");
    const statuses = await Promise.all(
      Array.from(
        { length: 40 },
        () => loginFrom(t, "198.51.100.7", "target", "wrong password").then((r) => r.status),
      ),
    );
    const verified = statuses.filter((status) => status === 401).length;
    assert.ok(verified <= LOGIN_LIMITS.perPair, `${verified} of 40 verified`);
    assert.equal(statuses.filter((status) => status === 429).length, 40 - verified);
    // Every attempt, verified or refused, has its audit row.
    const rows = auditRows(t.deps.db).filter((row) => row.action === "auth.login_failed");
    assert.equal(rows.length, 40);
    assert.equal(rows.filter((row) => row.exit_code === 401).length, verified);
  } finally {
    await t.close();
  }
});

Deno.test("item 16: failures for admin from one address do not lock admin out elsewhere", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("admin", "admin");
    for (let i = 0; i < LOGIN_LIMITS.perPair + 5; i++) {
      const response = await loginFrom(t, "203.0.113.66", "admin", `guess ${i}`);
      assert.ok([401, 429].includes(response.status));
    }
    const attacker = await loginFrom(t, "203.0.113.66", "admin", TEST_PASSWORD);
    assert.equal(attacker.status, 429, "the guessing address is throttled");
    const owner = await loginFrom(t, "192.0.2.10", "admin", TEST_PASSWORD);
    assert.equal(owner.status, 200, "the owner signs in from another address");
    // IPv6: a whole /64 counts as one address, so rotating within it does not help.
    for (let i = 0; i < LOGIN_LIMITS.perPair; i++) {
      await loginFrom(t, `2001:db8:1:2::${(i + 1).toString(16)}`, "admin", `guess ${i}`);
    }
    const rotated = await loginFrom(t, "2001:db8:1:2:ffff::1", "admin", TEST_PASSWORD);
    assert.equal(rotated.status, 429);
    const otherNet = await loginFrom(t, "2001:db8:1:3::1", "admin", TEST_PASSWORD);
    assert.equal(otherNet.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("item 5: PATCH with a role and a too-short password changes nothing", async () => {
  const t = await createTestApp();
  try {
    const adminId = await t.addUser("boss", "admin");
    const viewerId = await t.addUser("peer", "viewer");
    const admin = t.cookieFor(adminId);
    const viewer = t.cookieFor(viewerId);
    const before = t.deps.db.prepare("SELECT * FROM users WHERE id = ?").get(viewerId);
    const response = await t.request("PATCH", `/api/users/${viewerId}`, {
      cookie: admin,
      json: { role: "admin", password: "short" },
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).field, "password");
    const after = t.deps.db.prepare("SELECT * FROM users WHERE id = ?").get(viewerId);
    assert.deepEqual({ ...after }, { ...before }, "role, hash and timestamps unchanged");
    assert.equal((await t.request("GET", "/api/auth/me", { cookie: viewer })).status, 200);
    const last = auditRows(t.deps.db).at(-1)!;
    assert.equal(last.action, "user.update");
    assert.equal(last.exit_code, 400);
  } finally {
    await t.close();
  }
});

Deno.test("item 5: two concurrent setups with the one-time token create exactly one admin", async () => {
  const t = await createTestApp();
  try {
    const token = "a".repeat(48);
    t.deps.setup.token = token;
    const setup = (username: string) =>
      t.request("POST", "/api/auth/setup", {
        json: { token, username, password: "a long enough password" },
      });
    const [first, second] = await Promise.all([setup("first"), setup("second")]);
    const statuses = [first.status, second.status].sort();
    assert.equal(statuses[0], 200);
    assert.ok([403, 409].includes(statuses[1]), `the other answered ${statuses[1]}`);
    const users = t.deps.db.prepare("SELECT username, role FROM users").all();
    assert.equal(users.length, 1);
    assert.equal(users[0].role, "admin");
  } finally {
    await t.close();
  }
});

Deno.test("item 5: a setup that fails validation leaves the token usable", async () => {
  const t = await createTestApp();
  try {
    const token = "b".repeat(48);
    t.deps.setup.token = token;
    const short = await t.request("POST", "/api/auth/setup", {
      json: { token, username: "owner", password: "short" },
    });
    assert.equal(short.status, 400);
    const ok = await t.request("POST", "/api/auth/setup", {
      json: { token, username: "owner", password: "a long enough password" },
    });
    assert.equal(ok.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("item 17: user ids are decimal only and audited as parsed", async () => {
  const t = await createTestApp();
  try {
    const adminId = await t.addUser("boss", "admin");
    const victim = await t.addUser("victim", "viewer");
    const admin = t.cookieFor(adminId);
    const forms = [
      `0x${victim.toString(16)}`,
      `${victim}.0`,
      `+${victim}`,
      `%20${victim}`,
      `0${victim}`,
      `${victim}e0`,
    ];
    for (const form of forms) {
      const response = await t.request("DELETE", `/api/users/${form}`, { cookie: admin });
      assert.equal(response.status, 400, `${form} is refused`);
      assert.equal((await response.json()).field, "id");
    }
    const patched = await t.request("PATCH", `/api/users/0x${victim.toString(16)}`, {
      cookie: admin,
      json: { role: "admin" },
    });
    assert.equal(patched.status, 400);
    assert.ok(t.deps.db.prepare("SELECT 1 FROM users WHERE id = ?").get(victim), "still there");
    assert.equal(
      t.deps.db.prepare("SELECT role FROM users WHERE id = ?").get(victim)?.role,
      "viewer",
    );
    const rows = auditRows(t.deps.db);
    assert.ok(rows.every((row) => row.exit_code === 400), "every refusal audited as a 400");
    const deleted = await t.request("DELETE", `/api/users/${victim}`, { cookie: admin });
    assert.equal(deleted.status, 200);
    const last = auditRows(t.deps.db).at(-1)!;
    assert.deepEqual([last.action, last.target, last.exit_code], ["user.delete", `${victim}`, 0]);
  } finally {
    await t.close();
  }
});

Deno.test("item 17: a viewer's user list holds only themselves", async () => {
  const t = await createTestApp();
  try {
    const viewerId = await t.addUser("looker", "viewer");
    await t.addUser("boss", "admin");
    await t.addUser("other", "viewer");
    const response = await t.request("GET", "/api/users", { cookie: t.cookieFor(viewerId) });
    assert.equal(response.status, 200);
    const { users } = await response.json();
    assert.deepEqual(users.map((u: { username: string }) => u.username), ["looker"]);
  } finally {
    await t.close();
  }
});

const HOSTILE_NEXT = [
  "//evil.example",
  "/\\evil.example",
  "/%09/evil.example",
  "/\t/evil.example",
  "/\n/evil.example",
  "\t//evil.example",
  "https://evil.example",
  "http:evil.example",
  "/\\/evil.example",
  "javascript:alert(1)",
  " /evil",
];

Deno.test("item 15: the login page never hands the form an off-origin next", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("someone", "admin");
    for (const next of HOSTILE_NEXT) {
      const page = await t.request("GET", `/login?${new URLSearchParams({ next })}`);
      assert.equal(page.status, 200);
      const html = await page.text();
      const props = html.match(/data-island="LoginForm"[^>]*data-props="([^"]*)"/)?.[1];
      assert.ok(props !== undefined, "the login form is rendered");
      const parsed = JSON.parse(props.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
      assert.equal(parsed.next, undefined, `next ${JSON.stringify(next)} is dropped`);
    }
    const good = await t.request("GET", "/login?next=%2Fimages%3Ftab%3D1");
    assert.match(await good.text(), /&quot;next&quot;:&quot;\/images\?tab=1&quot;/);
  } finally {
    await t.close();
  }
});

Deno.test("item 15: safeNextPath keeps same-origin paths and refuses everything else", () => {
  for (const next of HOSTILE_NEXT) {
    const safe = safeNextPath(next);
    assert.ok(
      safe === undefined || new URL(safe, ORIGIN).origin === ORIGIN,
      `${JSON.stringify(next)} → ${safe}`,
    );
    assert.equal(safe, undefined, `${JSON.stringify(next)} is refused`);
  }
  assert.equal(safeNextPath("/containers"), "/containers");
  assert.equal(safeNextPath("/images?tab=1#x"), "/images?tab=1#x");
  assert.equal(safeNextPath(undefined), undefined);
  assert.equal(safeNextPath("/" + "a".repeat(3000)), undefined, "overlong");
});

Deno.test("item 2: guessing the current password through a password change is throttled too", async () => {
  const t = await createTestApp();
  try {
    const id = await t.addUser("pw-guess", "admin");
    const cookie = t.cookieFor(id);
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMITS.perPair + 2; i++) {
      const path = i % 2 ? "/api/auth/password" : `/api/users/${id}`;
      const response = await t.request(i % 2 ? "POST" : "PATCH", path, {
        cookie,
        json: i % 2
          ? { current_password: `guess ${i}`, new_password: "another long password" }
          : { current_password: `guess ${i}`, password: "another long password" },
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(
      statuses.slice(0, LOGIN_LIMITS.perPair),
      Array(LOGIN_LIMITS.perPair).fill(400),
      "wrong guesses are 400s up to the limit",
    );
    assert.deepEqual(
      statuses.slice(LOGIN_LIMITS.perPair),
      [429, 429],
      "then refused before hashing",
    );
    const refused = auditRows(t.deps.db).filter((row) => row.exit_code === 429);
    assert.equal(refused.length, 2, "each throttled attempt is audited");
    // The right password is refused too while throttled (no oracle), and works again later.
    const right = await t.request("POST", "/api/auth/password", {
      cookie,
      json: { current_password: TEST_PASSWORD, new_password: "another long password" },
    });
    assert.equal(right.status, 429);
  } finally {
    await t.close();
  }
});
