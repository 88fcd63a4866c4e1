/**
 * The route walks, under an environment: every engine-scoped route (and engine page) of the
 * app, moved below /api/environments/{env}, /ws/environments/{env} or /environments/{env},
 * refuses a missing or bad session exactly as its local path does, refuses a foreign Origin
 * on every mutation and WebSocket upgrade, and never lets a viewer mutate.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../fixtures/app.ts";
import { dockerHost } from "../fixtures/engine.ts";
import { createApp, createAppEnvironments } from "../../routes/app.ts";
import { ENGINE_PAGES } from "../../routes/engine_routes.ts";

const ENGINE_PREFIXES = [
  "/api/containers",
  "/api/docker",
  "/api/swarm",
  "/api/live",
  "/ws/containers",
];

/** The app's engine-scoped routes as concrete paths, local and under environment `env`. */
function engineRoutes(app: ReturnType<typeof createApp>, env: string) {
  const seen = new Set<string>();
  const routes: { method: string; local: string; remote: string }[] = [];
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const local = route.path.replace(/:\w+(\{[^}]*\})?/g, "x1").replace(/\*$/, "x1");
    let remote: string | undefined;
    const prefix = ENGINE_PREFIXES.find((p) => local === p || local.startsWith(`${p}/`));
    if (prefix) {
      const [root] = prefix.slice(1).split("/");
      remote = `/${root}/environments/${env}${local.slice(root.length + 1)}`;
    } else if (ENGINE_PAGES.some((page) => local === `/${page}`)) {
      remote = `/environments/${env}${local}`;
    }
    const key = `${route.method} ${local}`;
    if (!remote || seen.has(key)) continue;
    seen.add(key);
    routes.push({ method: route.method, local, remote });
  }
  return routes;
}

async function setup() {
  const t = await createTestApp();
  const environments = createAppEnvironments(t.deps);
  const app = createApp({ ...t.deps, environments });
  const admin = t.cookieFor(await t.addUser("walk-admin", "admin"));
  const viewer = t.cookieFor(await t.addUser("walk-viewer", "viewer"));
  if (dockerHost.kind !== "unix") throw new Error("these tests need the Engine on a unix socket");
  const socket = `${t.dir}/engine.sock`;
  await Deno.symlink(dockerHost.path, socket);
  const send = async (
    method: string,
    path: string,
    options: { cookie?: string; origin?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers = new Headers(options.headers);
    if (options.cookie) headers.set("Cookie", options.cookie);
    const origin = options.origin === undefined
      ? (method === "GET" ? undefined : ORIGIN)
      : options.origin;
    if (origin) headers.set("Origin", origin);
    const body = method === "GET" ? undefined : "{}";
    if (body) headers.set("Content-Type", "application/json");
    const response = await app.request(`${ORIGIN}${path}`, { method, headers, body });
    await response.body?.cancel();
    return response.status;
  };
  const added = await send("POST", "/api/environments", { cookie: admin });
  assert.equal(added, 400, "an empty body is refused");
  const response = await app.request(`${ORIGIN}/api/environments`, {
    method: "POST",
    headers: { Cookie: admin, Origin: ORIGIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "walk", url: `unix://${socket}` }),
  });
  assert.equal(response.status, 201, await response.text());
  return {
    app,
    send,
    admin,
    viewer,
    env: "walk",
    async [Symbol.asyncDispose]() {
      environments.close();
      await t.close();
    },
  };
}

Deno.test("every engine route under an environment refuses no session or a bad one as its local path does", async () => {
  await using s = await setup();
  const routes = engineRoutes(s.app, s.env);
  assert.ok(routes.length >= 40, `expected the engine routes, found ${routes.length}`);
  for (const { method, local, remote } of routes) {
    for (const cookie of [undefined, "cm_session=garbage"]) {
      for (const upgrade of [false, true]) {
        const headers: Record<string, string> = upgrade
          ? { Upgrade: "websocket", Connection: "Upgrade" }
          : {};
        const expected = await s.send(method, local, { cookie, headers });
        const status = await s.send(method, remote, { cookie, headers });
        assert.ok([401, 302, 403].includes(status), `${method} ${remote}: ${status}`);
        assert.equal(status, expected, `${method} ${remote} (${cookie ?? "no cookie"})`);
      }
    }
  }
});

Deno.test("every mutation and upgrade under an environment needs the panel's Origin; viewers never mutate", async () => {
  await using s = await setup();
  const routes = [
    ...engineRoutes(s.app, s.env),
    // The environments API itself.
    ...["POST /api/environments", "PATCH /api/environments/walk", "DELETE /api/environments/walk"]
      .map((line) => {
        const [method, path] = line.split(" ");
        return { method, local: path, remote: path };
      }),
  ];
  for (const { method, remote } of routes) {
    if (method !== "GET") {
      for (const origin of ["https://evil.example", null]) {
        const status = await s.send(method, remote, { cookie: s.admin, origin });
        assert.equal(status, 403, `${method} ${remote} with Origin ${origin}`);
      }
      const viewer = await s.send(method, remote, { cookie: s.viewer });
      assert.ok(viewer >= 400, `${method} ${remote} as a viewer answered ${viewer}`);
    } else if (remote.startsWith("/ws/")) {
      const status = await s.send(method, remote, {
        cookie: s.admin,
        origin: "https://evil.example",
        headers: { Upgrade: "websocket", Connection: "Upgrade" },
      });
      assert.equal(status, 403, `${remote} upgrade with a foreign Origin`);
    }
  }
});
