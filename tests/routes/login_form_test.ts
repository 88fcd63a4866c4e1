/**
 * Sign-in and setup as plain HTML form posts (before or without the page's scripts):
 * `POST /login` and `POST /setup`, form-encoded. A 303 with the session cookie on success;
 * otherwise the page again with the error in words, never a JSON page. The Origin check and
 * the throttle apply as to the JSON sign-in.
 */
import assert from "node:assert/strict";
import { ORIGIN, sessionCookieOf, TEST_PASSWORD, type TestApp } from "../fixtures/app.ts";
import { createTestApp } from "../fixtures/app.ts";

function post(t: TestApp, path: string, fields: Record<string, string>, origin = ORIGIN) {
  return t.app.request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
    body: new URLSearchParams(fields).toString(),
  });
}

async function page(response: Response): Promise<string> {
  assert.match(response.headers.get("Content-Type") ?? "", /^text\/html/);
  const html = await response.text();
  assert.doesNotMatch(html, /^\s*[{[]/, "an HTML page, not JSON");
  return html;
}

Deno.test("form sign-in: POST /login answers 303 with the cookie, or the form with the error", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("formuser", "admin");
    const refused = await post(t, "/login", { username: "formuser", password: "wrong" });
    assert.equal(refused.status, 401);
    const html = await page(refused);
    assert.match(html, /Invalid username or password/);
    assert.match(html, /action="\/login"/, "the form posts to /login again");
    assert.match(html, /value="formuser"/, "the username is kept");
    assert.equal(sessionCookieOf(refused), undefined);

    const ok = await post(t, "/login", {
      username: "formuser",
      password: TEST_PASSWORD,
      next: "/images",
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), "/images");
    const cookie = sessionCookieOf(ok);
    assert.ok(cookie);
    const me = await t.request("GET", "/api/auth/me", { cookie });
    assert.equal(me.status, 200);
    await me.body?.cancel();

    // An offsite next is not followed.
    const offsite = await post(t, "/login", {
      username: "formuser",
      password: TEST_PASSWORD,
      next: "//evil.example/",
    });
    assert.equal(offsite.status, 303);
    assert.equal(offsite.headers.get("Location"), "/containers");
  } finally {
    await t.close();
  }
});

Deno.test("form sign-in: a foreign Origin is refused; the throttle applies and says so in words", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("throttled", "admin");
    const foreign = await post(
      t,
      "/login",
      { username: "throttled", password: TEST_PASSWORD },
      "http://evil.example",
    );
    assert.equal(foreign.status, 403);
    assert.equal(sessionCookieOf(foreign), undefined);
    await foreign.body?.cancel();

    let last: Response | undefined;
    for (let i = 0; i < 30; i++) {
      last = await post(t, "/login", { username: "throttled", password: "wrong" });
      if (last.status === 429) break;
      await last.body?.cancel();
    }
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers.get("Retry-After")) > 0);
    assert.match(await page(last!), /class="form-error"/);
  } finally {
    await t.close();
  }
});

Deno.test("form setup: POST /setup answers the form with the error, then 303 with the cookie", async () => {
  const t = await createTestApp();
  try {
    t.deps.setup.token = "a".repeat(48);
    const mismatch = await post(t, "/setup", {
      token: "a".repeat(48),
      username: "first",
      password: "a long enough password",
      confirm: "another long password",
    });
    assert.equal(mismatch.status, 400);
    const html = await page(mismatch);
    assert.match(html, /do not match/);
    assert.match(html, /action="\/setup"/);

    const wrongToken = await post(t, "/setup", {
      token: "b".repeat(48),
      username: "first",
      password: "a long enough password",
      confirm: "a long enough password",
    });
    assert.equal(wrongToken.status, 403);
    assert.match(await page(wrongToken), /setup token is not correct/);

    const ok = await post(t, "/setup", {
      token: "a".repeat(48),
      username: "first",
      password: "a long enough password",
      confirm: "a long enough password",
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), "/containers");
    assert.ok(sessionCookieOf(ok));

    const again = await post(t, "/setup", {
      token: "a".repeat(48),
      username: "second",
      password: "a long enough password",
      confirm: "a long enough password",
    });
    assert.equal(again.status, 409);
    assert.match(await page(again), /already set up/);
  } finally {
    await t.close();
  }
});

Deno.test("form sign-in: the JSON API stays JSON (a form posted to it gets a JSON error)", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("jsononly", "admin");
    const response = await post(t, "/api/auth/login", {
      username: "jsononly",
      password: TEST_PASSWORD,
    });
    assert.ok(response.status >= 400, String(response.status));
    assert.match(response.headers.get("Content-Type") ?? "", /application\/json/);
    assert.equal(sessionCookieOf(response), undefined);
    await response.body?.cancel();
  } finally {
    await t.close();
  }
});
