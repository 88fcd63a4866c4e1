/**
 * A failed deploy leaves the stack's stored files (compose.yaml, .env, profiles) as they
 * were, so they keep matching the containers that run, and the result says so.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const QUICK = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;

const yamlOf = (extra = "") => `
services:
  web:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    environment: {A: $A}
${extra}
  extra:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    profiles: [debug]
`;

async function stored(t: TestApp, cookie: string, project: string) {
  const response = await t.request("GET", `/api/containers/compose/stacks/${project}`, { cookie });
  return { status: response.status, body: await response.json() };
}

Deno.test("a redeploy that fails keeps the stored file, .env and profiles of what runs", async () => {
  const t = await createTestApp();
  const project = `cmfst${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const first = await deployStack(t, admin, { yaml: yamlOf(), env: "A=1\n", project });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));

    const failed = await deployStack(t, admin, {
      yaml: yamlOf("    cap_add: [CAP_BOGUS]"),
      env: "A=2\n",
      profiles: ["debug"],
      project,
    });
    assert.equal(failed.last?.done, false, JSON.stringify(failed.lines.slice(-3)));
    assert.match(String(failed.last?.error), /stored files are the previous deploy's again/);

    const now = await stored(t, admin, project);
    assert.equal(now.status, 200);
    assert.equal(now.body.yaml, yamlOf());
    assert.equal(now.body.env, "A=1\n");
    assert.deepEqual(now.body.profiles, []);
    const web = await inspectContainer(t.deps.docker, `${project}-web-1`);
    assert.ok(web.Config.Env?.includes("A=1"), "the old container still runs");
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("a first deploy that fails stores no file", async () => {
  const t = await createTestApp();
  const project = `cmfst${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const failed = await deployStack(t, admin, {
      yaml: yamlOf("    cap_add: [CAP_BOGUS]"),
      env: "A=1\n",
      project,
    });
    assert.equal(failed.last?.done, false, JSON.stringify(failed.lines.slice(-3)));
    assert.match(String(failed.last?.error), /no file was stored for the stack/);
    assert.equal((await stored(t, admin, project)).status, 404);
    // Nor an empty folder that would list as a stack.
    await assert.rejects(Deno.stat(`${t.dir}/stacks/${project}`), Deno.errors.NotFound);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
