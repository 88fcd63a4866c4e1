/**
 * Deny by default: every registered route (pages, API, SSE, WebSocket) refuses a request
 * without a valid session, except the short public list. Adding a route without
 * protection makes this fail.
 */
import assert from "node:assert/strict";
import { PUBLIC_ROUTES } from "../../routes/middleware/auth.ts";
import { createSession } from "../../lib/auth/sessions.ts";
import { createTestApp } from "../fixtures/app.ts";

const REFUSED = new Set([401, 302, 403]);
const EXPECTED_PUBLIC = [
  "GET /login",
  "GET /setup",
  "POST /login",
  "POST /setup",
  "POST /api/auth/login",
  "POST /api/auth/setup",
  "GET /api/health",
  "GET /static/*",
];

Deno.test("the public list is short and named", () => {
  assert.deepEqual(
    PUBLIC_ROUTES.map((route) => `${route.method} ${route.path}${route.prefix ? "*" : ""}`),
    EXPECTED_PUBLIC,
  );
});

Deno.test("every route refuses no cookie, a garbage cookie and an expired session", async () => {
  const t = await createTestApp({ args: ["--session-idle", "1m"] });
  try {
    const userId = await t.addUser("enum-admin", "admin");
    const expired = createSession(t.deps.db, userId, "127.0.0.1", Date.now() - 2 * 60_000);
    const credentials: [string, string | undefined][] = [
      ["no cookie", undefined],
      ["garbage cookie", "cm_session=garbage"],
      ["well-formed unknown token", `cm_session=${"A".repeat(43)}`],
      ["expired session", `cm_session=${expired.token}`],
    ];
    const routes = t.app.routes.filter((route) => route.method !== "ALL");
    assert.ok(routes.length >= 15, `expected many routes, found ${routes.length}`);
    const seen = new Set<string>();
    for (const route of routes) {
      const path = route.path.replace(/:\w+(\{[^}]*\})?/g, "x1").replace(/\*$/, "x.css");
      const key = `${route.method} ${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const isPublic = PUBLIC_ROUTES.some((p) =>
        p.method === route.method && (p.prefix ? path.startsWith(p.path) : p.path === route.path)
      );
      for (const [label, cookie] of credentials) {
        for (const variant of ["plain", "sse", "websocket"] as const) {
          const headers: Record<string, string> = {};
          if (variant === "sse") headers.Accept = "text/event-stream";
          if (variant === "websocket") {
            Object.assign(headers, { Upgrade: "websocket", Connection: "Upgrade" });
          }
          const response = await t.request(route.method, path, {
            cookie,
            headers,
            json: route.method === "GET" ? undefined : {},
          });
          await response.body?.cancel();
          if (isPublic) continue;
          assert.ok(
            REFUSED.has(response.status),
            `${key} (${label}, ${variant}) answered ${response.status}, expected 401, 302 or 403`,
          );
          // Pages redirect, API and SSE get 401, a WebSocket upgrade 403; nothing else.
          const expected = variant === "websocket" || path.startsWith("/ws/")
            ? 403
            : path.startsWith("/api/") || variant === "sse" || route.method !== "GET"
            ? 401
            : 302;
          assert.equal(response.status, expected, `${key} (${label}, ${variant})`);
        }
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("unauthenticated pages redirect to /login with where to come back", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("someone", "admin");
    const response = await t.request("GET", "/containers?q=1");
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/login?next=%2Fcontainers%3Fq%3D1");
  } finally {
    await t.close();
  }
});

Deno.test("only the cookie counts: a bearer header or ?token= is ignored", async () => {
  const t = await createTestApp();
  try {
    const userId = await t.addUser("bearer", "admin");
    const token = t.cookieFor(userId).split("=")[1];
    const bearer = await t.request("GET", "/api/auth/me", {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(bearer.status, 401);
    const query = await t.request("GET", `/api/auth/me?token=${token}`);
    assert.equal(query.status, 401);
    const cookie = await t.request("GET", "/api/auth/me", { cookie: `cm_session=${token}` });
    assert.equal(cookie.status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("security headers are on every response, public or not", async () => {
  const t = await createTestApp();
  try {
    for (
      const path of [
        "/api/health",
        "/login",
        "/containers",
        "/api/audit",
        "/static/styles.css",
        "/nope",
      ]
    ) {
      const response = await t.request("GET", path);
      await response.body?.cancel();
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'/, path);
      assert.doesNotMatch(csp, /unsafe-inline/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(response.headers.get("referrer-policy"), "same-origin", path);
    }
  } finally {
    await t.close();
  }
});

Deno.test("bodies over 1 MiB answer 413 before parsing", async () => {
  const t = await createTestApp();
  try {
    const big = "x".repeat(1024 * 1024 + 10);
    const response = await t.request("POST", "/api/auth/login", {
      headers: { "Content-Type": "application/json" },
      json: { username: big, password: "y" },
    });
    assert.equal(response.status, 413);
  } finally {
    await t.close();
  }
});

Deno.test("only a WebSocket upgrade gets the 403: another Upgrade header is an API call (401)", async () => {
  const t = await createTestApp();
  try {
    await t.addUser("someone", "admin");
    const h2c = await t.request("GET", "/api/containers", { headers: { Upgrade: "h2c" } });
    assert.equal(h2c.status, 401);
    const ws = await t.request("GET", "/api/containers", { headers: { Upgrade: "WebSocket" } });
    assert.equal(ws.status, 403);
  } finally {
    await t.close();
  }
});
