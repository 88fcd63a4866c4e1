/**
 * Environments over a `unix://` socket that is a symlink to the local Engine's: adding
 * (admin only, connection tested first, refusals in words), routing of the engine-scoped
 * routes under /api/environments/{env}, /ws/environments/{env} and the pages, audit rows
 * naming the environment (and the filter), per-environment stacks folders, closing when
 * idle, unknown environments, auth and Origin on the environment routes.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, ORIGIN } from "../fixtures/app.ts";
import { dockerHost, makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { createApp, createAppEnvironments } from "../../routes/app.ts";
import { verifyAudit } from "../../lib/sysctl/audit.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function setup() {
  const t = await createTestApp();
  const environments = createAppEnvironments(t.deps, {
    idleMs: 300,
    monitor: { upIntervalMs: 500, downIntervalMs: 300 },
  });
  const app = createApp({ ...t.deps, environments });
  const admin = t.cookieFor(await t.addUser("admin", "admin"));
  const viewer = t.cookieFor(await t.addUser("viewer", "viewer"));
  const socket = `${t.dir}/engine.sock`;
  if (dockerHost.kind !== "unix") throw new Error("these tests need the Engine on a unix socket");
  await Deno.symlink(dockerHost.path, socket);
  const request = (
    method: string,
    path: string,
    options: { cookie?: string; json?: unknown; origin?: string | null; headers?: HeadersInit } =
      {},
  ) => {
    const headers = new Headers(options.headers);
    if (options.cookie) headers.set("Cookie", options.cookie);
    const origin = options.origin === undefined
      ? (method === "GET" ? undefined : ORIGIN)
      : options.origin;
    if (origin) headers.set("Origin", origin);
    let body: string | undefined;
    if (options.json !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(options.json);
    }
    return Promise.resolve(app.request(`${ORIGIN}${path}`, { method, headers, body }));
  };
  return {
    t,
    environments,
    request,
    admin,
    viewer,
    socket,
    async [Symbol.asyncDispose]() {
      environments.close();
      await t.close();
    },
  };
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function addSymlinkEnv(s: Awaited<ReturnType<typeof setup>>, name = "Symlinked local") {
  const response = await s.request("POST", "/api/environments", {
    cookie: s.admin,
    json: { name, url: `unix://${s.socket}` },
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  return body as { id: string; name: string; url: string; tls: boolean; engine_version: string };
}

Deno.test("adding an environment: admins only, connection tested, refusals say why; listed with its state", async () => {
  await using s = await setup();
  const viewerAdd = await s.request("POST", "/api/environments", {
    cookie: s.viewer,
    json: { name: "nope", url: `unix://${s.socket}` },
  });
  assert.equal(viewerAdd.status, 403);
  await viewerAdd.body?.cancel();

  const added = await addSymlinkEnv(s);
  assert.equal(added.id, "symlinked-local");
  assert.equal(added.tls, false);
  assert.match(added.engine_version, /^\d+\./);

  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = listener.addr.port;
  listener.close();
  const refusals: [unknown, number, RegExp][] = [
    [{ name: "Gone", url: `unix://${s.t.dir}/missing.sock` }, 400, /no socket at/i],
    [{ name: "Remote", url: "tcp://10.1.2.3:2375" }, 400, /needs mutual TLS/],
    [{ name: "Refused", url: `tcp://127.0.0.1:${closedPort}` }, 400, /connection refused/],
    [{ name: "local", url: `unix://${s.socket}` }, 400, /panel's own Engine/],
    [{ name: "symlinked LOCAL", url: `unix://${s.socket}` }, 409, /already exists/],
    [{ name: "Bad", url: "http://x" }, 400, /unix:\/\/ or tcp:\/\//],
    [{ name: "Relative", url: "unix://run/docker.sock" }, 400, /absolute socket path/],
    [{ name: "Partial", url: "tcp://10.1.2.3:2376", tls: { ca: "x" } }, 400, /not a PEM text/],
  ];
  for (const [json, status, message] of refusals) {
    const response = await s.request("POST", "/api/environments", { cookie: s.admin, json });
    const body = await response.json();
    assert.equal(response.status, status, `${JSON.stringify(json)}: ${JSON.stringify(body)}`);
    assert.match(body.error, message);
  }

  const listed = await until("the environment to be up", async () => {
    const response = await s.request("GET", "/api/environments", { cookie: s.viewer });
    assert.equal(response.status, 200);
    const { environments } = await response.json();
    return environments[1]?.state.status === "up" && environments[0]?.state.status === "up"
      ? environments
      : undefined;
  });
  assert.deepEqual(listed.map((env: { id: string }) => env.id), ["local", "symlinked-local"]);
  assert.equal(listed[0].url, `unix://${dockerHost.kind === "unix" ? dockerHost.path : ""}`);
  const state = listed[1].state;
  assert.equal(typeof state.latency_ms, "number");
  assert.equal(typeof state.containers_total, "number");
  assert.equal(typeof state.images, "number");
  assert.equal(typeof state.swarm.active, "boolean");

  const rows = auditRows(s.t.deps.db).filter((row) => row.action === "environment.add");
  assert.ok(rows.some((row) => row.exit_code === 403 && row.actor === "viewer"));
  assert.ok(rows.some((row) => row.exit_code === 0 && row.target === "Symlinked local"));
  assert.ok(rows.some((row) => row.exit_code === 400 && /connection refused/.test(row.stderr)));
  assert.equal(verifyAudit(s.t.deps.db).ok, true);
});

Deno.test("engine routes under /api/environments/{env} act on that environment and audit it", async () => {
  await using s = await setup();
  await using engine = await testEngine("cmenv");
  const env = await addSymlinkEnv(s);
  const id = await makeTestContainer(engine.docker, engine.prefix, "web", {
    Cmd: ["sleep", "300"],
  }, false);

  const list = await s.request("GET", `/api/environments/${env.id}/containers?all=1`, {
    cookie: s.viewer,
  });
  assert.equal(list.status, 200);
  const listed = await list.json();
  const containers = Array.isArray(listed) ? listed : listed.containers;
  assert.ok(
    containers.some((c: { id?: string; Id?: string }) => (c.id ?? c.Id) === id),
    "the container is listed through the environment",
  );

  const started = await s.request("POST", `/api/environments/${env.id}/containers/${id}/start`, {
    cookie: s.admin,
  });
  assert.equal(started.status, 200, await started.text());
  const stopped = await s.request("POST", `/api/containers/${id}/kill`, { cookie: s.admin });
  assert.equal(stopped.status, 200, await stopped.text());

  const rows = s.t.deps.db.prepare(
    "SELECT action, environment, phase FROM sysctl_audit WHERE target LIKE ? ORDER BY seq",
  ).all(`%${id.slice(0, 12)}%`) as { action: string; environment: string; phase: string | null }[];
  assert.deepEqual(
    rows.filter((row) => row.phase === null).map((row) => [row.action, row.environment]),
    [["docker.start", env.id], ["docker.kill", "local"]],
  );
  const filtered = await s.request("GET", `/api/audit?environment=${env.id}`, { cookie: s.admin });
  const { rows: envRows } = await filtered.json();
  assert.ok(envRows.length > 0);
  assert.ok(envRows.every((row: { environment: string }) => row.environment === env.id));
  const local = await s.request("GET", "/api/audit?environment=local", { cookie: s.admin });
  const { rows: localRows } = await local.json();
  assert.ok(localRows.some((row: { action: string }) => row.action === "docker.kill"));
  assert.ok(localRows.every((row: { environment: string | null }) => row.environment !== env.id));
  const exported = await s.request("GET", "/api/audit/export?format=csv", { cookie: s.admin });
  const csv = await exported.text();
  assert.match(csv.split("\r\n")[0], /,environment$/);
  assert.ok(csv.includes(`,${env.id}\r\n`));

  // A page of the environment, rendered from its Engine, knows its environment.
  const page = await s.request("GET", `/environments/${env.id}/containers`, { cookie: s.viewer });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.ok(
    new RegExp(`<body[^>]*data-env="${env.id}"`).test(html),
    "the body names the environment",
  );

  // Refusals before the dispatcher name the environment too (a bad id in the path).
  const bad = await s.request(
    "POST",
    `/api/environments/${env.id}/containers/${"x".repeat(300)}/start`,
    {
      cookie: s.admin,
    },
  );
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const refused = s.t.deps.db.prepare(
    "SELECT environment FROM sysctl_audit WHERE action = 'request.refused' ORDER BY seq DESC LIMIT 1",
  ).get() as { environment: string };
  assert.equal(refused.environment, env.id);
  assert.equal(verifyAudit(s.t.deps.db).ok, true);
});

Deno.test("an environment's stacks are stored in its own folder; the panel's stay where they were", async () => {
  await using s = await setup();
  const env = await addSymlinkEnv(s);
  const project = `cmenvstack${crypto.randomUUID().slice(0, 6)}`;
  const put = await s.request(
    "PUT",
    `/api/environments/${env.id}/containers/compose/stacks/${project}/files`,
    { cookie: s.admin, json: { path: "app.conf", content: "x\n" } },
  );
  assert.equal(put.status, 200, await put.text());
  const stacks = `${s.t.deps.config.stacksDir}`;
  assert.equal(
    await Deno.readTextFile(`${stacks}/.environments/${env.id}/${project}/app.conf`),
    "x\n",
  );
  await assert.rejects(Deno.stat(`${stacks}/${project}`), Deno.errors.NotFound);
  const row = s.t.deps.db.prepare(
    "SELECT environment FROM sysctl_audit WHERE action = 'compose.file.put' ORDER BY seq DESC",
  ).get() as { environment: string };
  assert.equal(row.environment, env.id);

  // Removing the environment keeps its stacks on disk.
  const removed = await s.request("DELETE", `/api/environments/${env.id}`, { cookie: s.admin });
  assert.equal(removed.status, 200, await removed.text());
  assert.equal(
    await Deno.readTextFile(`${stacks}/.environments/${env.id}/${project}/app.conf`),
    "x\n",
  );
  const after = await s.request("GET", `/api/environments/${env.id}/containers`, {
    cookie: s.admin,
  });
  assert.equal(after.status, 404);
  assert.match((await after.json()).error, /No environment symlinked-local/);
});

Deno.test("an environment's Engine client and hubs open on first use and close when idle", async () => {
  await using s = await setup();
  const env = await addSymlinkEnv(s);
  assert.equal(s.environments.isOpen(env.id), false);
  const list = await s.request("GET", `/api/environments/${env.id}/containers`, {
    cookie: s.admin,
  });
  assert.equal(list.status, 200);
  await list.body?.cancel();
  assert.equal(s.environments.isOpen(env.id), true);
  await until("the idle environment to close", () => !s.environments.isOpen(env.id));

  // An open stream keeps it open; ending the stream lets it close.
  const events = await s.request("GET", `/api/environments/${env.id}/containers/events`, {
    cookie: s.admin,
  });
  assert.equal(events.status, 200);
  const reader = events.body!.getReader();
  await reader.read();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(s.environments.isOpen(env.id), true, "a streaming response keeps it open");
  await reader.cancel();
  await until("the environment to close after its stream", () => !s.environments.isOpen(env.id));
});

Deno.test("removing an environment ends its open streams and closes its hubs", async () => {
  await using s = await setup();
  const env = await addSymlinkEnv(s);
  const events = await s.request("GET", `/api/environments/${env.id}/containers/events`, {
    cookie: s.admin,
  });
  assert.equal(events.status, 200);
  const reader = events.body!.getReader();
  await reader.read();
  assert.equal(s.environments.isOpen(env.id), true);
  const removed = await s.request("DELETE", `/api/environments/${env.id}`, { cookie: s.admin });
  assert.equal(removed.status, 200);
  await removed.body?.cancel();
  assert.equal(s.environments.isOpen(env.id), false);
  // The stream ends (its hub closed) instead of hanging on a removed environment.
  const ended = await until("the stream to end", async () => {
    const { done } = await reader.read();
    return done ? true : undefined;
  });
  assert.equal(ended, true);
});

Deno.test("unknown environments are 404; auth, Origin and roles apply to environment routes", async () => {
  await using s = await setup();
  const env = await addSymlinkEnv(s);
  for (const path of ["/api/environments/nope/containers", "/environments/nope/containers"]) {
    const response = await s.request("GET", path, { cookie: s.admin });
    assert.equal(response.status, 404, path);
    assert.match(await response.text(), /No environment nope/);
  }
  const ws = await s.request("GET", "/ws/environments/nope/containers/abc/exec", {
    cookie: s.admin,
    headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: ORIGIN },
  });
  assert.equal(ws.status, 404);
  await ws.body?.cancel();

  const anonymous = await s.request("GET", `/api/environments/${env.id}/containers`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const anonymousPage = await s.request("GET", `/environments/${env.id}/containers`);
  assert.equal(anonymousPage.status, 302);
  const anonymousWs = await s.request("GET", `/ws/environments/${env.id}/containers/abc/exec`, {
    headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: ORIGIN },
  });
  assert.equal(anonymousWs.status, 403);
  await anonymousWs.body?.cancel();
  const crossSite = await s.request("POST", `/api/environments/${env.id}/containers/abc/start`, {
    cookie: s.admin,
    origin: "https://evil.example",
  });
  assert.equal(crossSite.status, 403);
  await crossSite.body?.cancel();
  const viewerRun = await s.request("POST", `/api/environments/${env.id}/containers/abc/start`, {
    cookie: s.viewer,
  });
  assert.equal(viewerRun.status, 403);
  await viewerRun.body?.cancel();
  // The environment's dispatcher audited the refusal; app.onError does not add a second row.
  const viewerRows = s.t.deps.db.prepare(
    "SELECT action, environment FROM sysctl_audit WHERE actor = 'viewer' AND exit_code = 403",
  ).all() as { action: string; environment: string }[];
  assert.deepEqual(viewerRows.map((row) => [row.action, row.environment]), [
    ["docker.start", env.id],
  ]);
  const viewerRemove = await s.request("DELETE", `/api/environments/${env.id}`, {
    cookie: s.viewer,
  });
  assert.equal(viewerRemove.status, 403);
  await viewerRemove.body?.cancel();
  for (const method of ["PATCH", "DELETE"]) {
    const response = await s.request(method, "/api/environments/local", {
      cookie: s.admin,
      json: method === "PATCH" ? { name: "x" } : undefined,
    });
    assert.equal(response.status, 400, method);
    await response.body?.cancel();
  }
  // Renaming keeps the id, does not reconnect (its deps stay open) and shows on its pages.
  const before = await s.request("GET", `/api/environments/${env.id}/containers`, {
    cookie: s.admin,
  });
  await before.body?.cancel();
  assert.equal(s.environments.isOpen(env.id), true);
  const renamed = await s.request("PATCH", `/api/environments/${env.id}`, {
    cookie: s.admin,
    json: { name: "Renamed" },
  });
  assert.equal(renamed.status, 200, await renamed.clone().text());
  const body = await renamed.json();
  assert.equal(body.name, "Renamed");
  assert.equal(body.id, env.id);
  assert.equal(s.environments.isOpen(env.id), true, "a rename does not reconnect");
  const page = await s.request("GET", `/environments/${env.id}/containers`, { cookie: s.admin });
  assert.ok((await page.text()).includes("Renamed"), "the page shows the new name");
  // A new address reconnects: tested first, then the old deps close.
  await Deno.symlink(s.socket, `${s.socket}.2`);
  const moved = await s.request("PATCH", `/api/environments/${env.id}`, {
    cookie: s.admin,
    json: { url: `unix://${s.socket}.2` },
  });
  assert.equal(moved.status, 200, await moved.clone().text());
  assert.match((await moved.json()).engine_version, /^\d+\./);
  assert.equal(s.environments.isOpen(env.id), false);
  const gone = await s.request("PATCH", `/api/environments/${env.id}`, {
    cookie: s.admin,
    json: { url: `unix://${s.socket}.missing` },
  });
  assert.equal(gone.status, 400);
  assert.match((await gone.json()).error, /no socket/i);
  const listed = await s.request("GET", `/api/environments/${env.id}`, { cookie: s.admin });
  assert.equal((await listed.json()).url, `unix://${s.socket}.2`, "a refused change saves nothing");
});

export type { TestApp };
