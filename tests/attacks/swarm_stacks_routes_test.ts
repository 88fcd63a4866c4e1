/**
 * The swarm stack routes walked for auth, CSRF and viewers, and fed hostile input. None of
 * these requests reaches a swarm: they are refused before (the local Engine is not a
 * manager, which the last check relies on).
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";

const BASE = "/api/swarm/stacks";
const ROUTES: [string, string][] = [
  ["GET", BASE],
  ["POST", `${BASE}/preview`],
  ["POST", `${BASE}/deploy`],
  ["GET", `${BASE}/web`],
  ["DELETE", `${BASE}/web`],
];
const MUTATIONS = ROUTES.filter(([method, path]) => method !== "GET" && !path.endsWith("preview"));
const FILE = "services:\n  a:\n    image: busybox\n";

Deno.test("swarm stack routes: no session 401, foreign Origin 403, viewers never mutate", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("stack-admin", "admin"));
    const viewer = t.cookieFor(await t.addUser("stack-viewer", "viewer"));
    for (const [method, path] of ROUTES) {
      const json = method === "GET" ? undefined : { name: "web", compose: FILE };
      const anonymous = await t.request(method, path, { json });
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      await anonymous.body?.cancel();
      if (method !== "GET") {
        const foreign = await t.request(method, path, {
          cookie: admin,
          json,
          origin: "https://evil.example",
        });
        assert.equal(foreign.status, 403, `${method} ${path} foreign origin`);
        await foreign.body?.cancel();
      }
    }
    for (const [method, path] of MUTATIONS) {
      const response = await t.request(method, path, {
        cookie: viewer,
        json: { name: "web", compose: FILE },
      });
      assert.equal(response.status, 403, `${method} ${path} as a viewer`);
      await response.body?.cancel();
    }
    const refusals = auditRows(t.deps.db).filter((row) => row.action.startsWith("swarm.stack."));
    assert.deepEqual(refusals.map((row) => [row.action, row.exit_code]), [
      ["swarm.stack.deploy", 403],
      ["swarm.stack.remove", 403],
    ]);
  } finally {
    await t.close();
  }
});

Deno.test("swarm stack routes: hostile names, paths and bodies get a 4xx naming the field", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("stack-admin", "admin"));
    const cases: [unknown, number, RegExp][] = [
      [{ name: "../../etc", compose: FILE }, 400, /stack name/],
      [
        { name: "web", compose: FILE, files: { "../outside": "x" } },
        400,
        /inside the stack's folder/,
      ],
      [
        { name: "web", compose: FILE, files: { "/etc/passwd": "x" } },
        400,
        /inside the stack's folder/,
      ],
      [{ name: "web", compose: FILE, files: { "compose.yaml": "x" } }, 400, /stack's own file/],
      [{ name: "web", compose: FILE, files: ["a"] }, 400, /map of path to text/],
      [{ name: "web", compose: 42 }, 400, /compose is required/],
      [{ name: "web", compose: FILE, env: {} }, 400, /env/],
      [
        {
          name: "web",
          compose:
            "services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    file: /etc/shadow\n",
        },
        400,
        /inside the stack's folder/,
      ],
      [
        {
          name: "web",
          compose: `services:\n  a:\n    image: busybox\n${"#".repeat(1024 * 1024)}\n`,
        },
        413,
        /larger than/,
      ],
    ];
    for (const [json, status, message] of cases) {
      const response = await t.request("POST", `${BASE}/preview`, { cookie: admin, json });
      assert.equal(response.status, status, JSON.stringify(json).slice(0, 120));
      if (status !== 413 || response.headers.get("content-type")?.includes("json")) {
        assert.match((await response.json()).error, message);
      } else await response.body?.cancel();
    }
    for (const name of ["..", "a%2F..%2Fb", "x".repeat(80), "-lead"]) {
      const response = await t.request("GET", `${BASE}/${name}`, { cookie: admin });
      assert.ok([400, 404].includes(response.status), `${name}: ${response.status}`);
      await response.body?.cancel();
    }
    // A valid request reaches the Engine check: the local Engine is not a swarm manager.
    const list = await t.request("GET", BASE, { cookie: admin });
    assert.equal(list.status, 409);
    assert.match((await list.json()).error, /not a swarm manager/);
  } finally {
    await t.close();
  }
});
