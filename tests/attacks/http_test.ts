/**
 * Attack cases on the HTTP surface (hardening issue items 8, 10 and 17): malformed
 * percent-encoding, what the public health route discloses, Engine statuses passed on as
 * the panel's own, DNS rebinding through a foreign Host, and deeply nested JSON bodies.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, ORIGIN } from "../fixtures/app.ts";
import { startFakeEngine, withVersion } from "../fixtures/fake_engine.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import { startPanel } from "../fixtures/server.ts";

Deno.test("attack 8: malformed percent-encoding is a 400 anywhere, never a 500 with a stack", async () => {
  const t = await createTestApp();
  try {
    const cookie = t.cookieFor(await t.addUser("pct-admin", "admin"));
    for (
      const path of [
        "/static/%E0%A4%A",
        "/static/%",
        "/api/containers/%E0%A4%A",
        "/api/containers?all=%E0%A4%A",
        "/login?next=%C0",
      ]
    ) {
      const response = await t.request("GET", path, { cookie });
      assert.equal(response.status, 400, `${path} answers 400`);
      const body = await response.json();
      assert.match(body.error, /percent-encoding/i, `${path} says what was wrong`);
    }
    assert.ok(
      !t.logs.some((line) => line.includes("URIError") || line.includes("    at ")),
      `no stack trace was logged: ${t.logs.join("\n")}`,
    );
  } finally {
    await t.close();
  }
});

Deno.test("attack 8: the public /api/health tells anonymous callers only up or down", async () => {
  const t = await createTestApp();
  try {
    const anonymous = await (await t.request("GET", "/api/health")).json();
    assert.deepEqual(anonymous, { ok: true, docker: { reachable: true } });
    const cookie = t.cookieFor(await t.addUser("health-viewer", "viewer"));
    const signedIn = await (await t.request("GET", "/api/health", { cookie })).json();
    assert.equal(signedIn.docker.reachable, true);
    assert.equal(typeof signedIn.docker.version, "string", "signed-in users see the version");
  } finally {
    await t.close();
  }
});

Deno.test("attack 8: an Engine 401 or 403 is never passed on as the panel's own status", async () => {
  const engine = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    // The container exists (a stop reads its own stop timeout first); "missing" does not.
    if (request.method === "GET" && path.endsWith("/containers/abc123/json")) {
      return Response.json({
        Id: "abc123",
        Name: "/abc123",
        State: { Status: "running", Running: true },
        Config: { Labels: {} },
      });
    }
    if (path.endsWith("/start")) {
      return Response.json({ message: "authorization denied by plugin" }, { status: 403 });
    }
    if (path.endsWith("/stop")) return Response.json({ message: "unauthorized" }, { status: 401 });
    return Response.json({ message: "not found" }, { status: 404 });
  }));
  const docker = createDockerClient(engine.host);
  const t = await createTestApp({ docker });
  try {
    const cookie = t.cookieFor(await t.addUser("engine-401-admin", "admin"));
    for (const action of ["start", "stop"]) {
      const response = await t.request("POST", `/api/containers/abc123/${action}`, { cookie });
      assert.equal(response.status, 502, `an Engine refusal of ${action} is a bad gateway`);
      const body = await response.json();
      assert.match(body.error, /Docker Engine refused/);
    }
    const me = await t.request("GET", "/api/auth/me", { cookie });
    assert.equal(me.status, 200, "the browser stays signed in");
    const missing = await t.request("GET", "/api/containers/missing", { cookie });
    assert.equal(missing.status, 404, "an Engine 404 stays a 404");
  } finally {
    await t.close();
    docker.close();
    await engine.close();
  }
});

Deno.test("attack 17: a foreign Host (DNS rebinding) is refused on every route, public ones too", async () => {
  const t = await createTestApp();
  try {
    for (
      const [method, path] of [
        ["GET", "/api/health"],
        ["GET", "/login"],
        ["POST", "/api/auth/login"],
        ["GET", "/static/styles.css"],
      ] as const
    ) {
      const response = await t.app.request(`http://rebind.evil.example:8080${path}`, {
        method,
        headers: {
          Origin: "http://rebind.evil.example:8080",
          "Content-Type": "application/json",
        },
        body: method === "POST" ? JSON.stringify({ username: "admin", password: "x" }) : undefined,
      });
      assert.equal(response.status, 403, `${method} ${path} with a foreign Host`);
      assert.match((await response.json()).error, /host/i);
    }
    assert.equal(auditRows(t.deps.db).length, 0, "nothing reached the login handler");
    const own = await t.request("GET", "/api/health");
    assert.equal(own.status, 200, "the panel's own origin still works");
  } finally {
    await t.close();
  }
});

Deno.test("attack 17: the real panel answers its listen address and localhost, not a rebound name", async () => {
  await using panel = await startPanel();
  const ask = async (host: string) => {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: panel.port });
    try {
      await connection.write(
        new TextEncoder().encode(
          `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let text = "";
      const buffer = new Uint8Array(4096);
      while (!text.includes("\r\n")) {
        const n = await connection.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      return Number(text.split(" ")[1]);
    } finally {
      connection.close();
    }
  };
  assert.equal(await ask(`127.0.0.1:${panel.port}`), 200);
  assert.equal(await ask(`localhost:${panel.port}`), 200);
  assert.equal(await ask(`attacker.example:${panel.port}`), 403);
});

Deno.test("attack 10: a deeply nested body is a 400 with an audit row, for a viewer too", async () => {
  const t = await createTestApp();
  try {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    for (const role of ["viewer", "admin"] as const) {
      const cookie = t.cookieFor(await t.addUser(`deep-${role}`, role));
      const before = auditRows(t.deps.db).length;
      const response = await t.app.request(`${ORIGIN}/api/containers/run`, {
        method: "POST",
        headers: { Cookie: cookie, Origin: ORIGIN, "Content-Type": "application/json" },
        body: `{"image":"x","cmd":${deep}}`,
      });
      assert.equal(response.status, 400, `${role}: deep JSON is refused`);
      assert.match((await response.json()).error, /nested/i);
      const rows = auditRows(t.deps.db).slice(before);
      assert.equal(rows.length, 1, `${role}: exactly one audit row for the refusal`);
      assert.equal(rows[0].actor, `deep-${role}`);
      assert.equal(rows[0].exit_code, 400);
      assert.match(rows[0].target, /POST \/api\/containers\/run/);
    }
  } finally {
    await t.close();
  }
});

Deno.test("attack 10: a refusal a route makes before dispatching is audited once", async () => {
  const t = await createTestApp();
  try {
    const cookie = t.cookieFor(await t.addUser("refusal-admin", "admin"));
    const before = auditRows(t.deps.db).length;
    const response = await t.request("DELETE", "/api/containers/bad%20id", { cookie });
    assert.equal(response.status, 400);
    const rows = auditRows(t.deps.db).slice(before);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].exit_code, 400);
    // A refusal the dispatcher audits itself (a viewer's start) gets no second row.
    const viewer = t.cookieFor(await t.addUser("refusal-viewer", "viewer"));
    const mark = auditRows(t.deps.db).length;
    const refused = await t.request("POST", "/api/containers/abc/start", { cookie: viewer });
    assert.equal(refused.status, 403);
    assert.equal(auditRows(t.deps.db).length, mark + 1);
  } finally {
    await t.close();
  }
});
