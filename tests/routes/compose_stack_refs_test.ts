/**
 * `include:` and `extends: {file:}` naming files added to the stack directory through the
 * files API: the preview and the deploy read them from there (the Compose tab sends only
 * the compose file), never a secret file, and only for admins.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const QUICK = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;

async function putFile(
  t: TestApp,
  cookie: string,
  project: string,
  body: Record<string, unknown>,
) {
  const response = await t.request("PUT", `/api/containers/compose/stacks/${project}/files`, {
    cookie,
    json: body,
  });
  assert.equal(response.status, 200, await response.text());
}

async function preview(t: TestApp, cookie: string, body: Record<string, unknown>) {
  const response = await t.request("POST", "/api/containers/compose/preview", {
    cookie,
    json: body,
  });
  return { status: response.status, body: await response.json() };
}

const BASE_YAML = `
services:
  base:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    environment:
      FROM_BASE: "yes"
`;

const OTHER_YAML = `
services:
  side:
    image: ${TEST_IMAGE}
    command: ${QUICK}
`;

const MAIN_YAML = `
include: [other.yaml]
services:
  web:
    extends: {file: conf/base.yaml, service: base}
`;

Deno.test("include: and extends: {file:} read the stack directory's files in preview and deploy", async () => {
  const t = await createTestApp();
  const project = `cmrefs${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    await putFile(t, admin, project, { path: "other.yaml", content: OTHER_YAML });
    await putFile(t, admin, project, { path: "conf/base.yaml", content: BASE_YAML });

    // The body carries only the compose file, as the Compose tab sends it.
    const shown = await preview(t, admin, { yaml: MAIN_YAML, project });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    const services = shown.body.services as { name: string; env_keys: string[] }[];
    assert.deepEqual(services.map((s) => s.name).sort(), ["side", "web"]);
    assert.deepEqual(services.find((s) => s.name === "web")!.env_keys, ["FROM_BASE"]);

    // Without a project in the body, the file's own name: names the stack directory.
    const byName = await preview(t, admin, { yaml: `name: ${project}\n${MAIN_YAML}` });
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.equal(byName.body.services.length, 2);

    const deployed = await deployStack(t, admin, { yaml: MAIN_YAML, project });
    assert.equal(deployed.last?.done, true, JSON.stringify(deployed.lines.slice(-3)));
    const web = await inspectContainer(t.deps.docker, `${project}-web-1`);
    assert.ok(web.Config.Env?.includes("FROM_BASE=yes"), JSON.stringify(web.Config.Env));
    const side = await inspectContainer(t.deps.docker, `${project}-side-1`);
    assert.equal(side.State.Running, true);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("a secret file is never read as a compose file, and a viewer's preview reads no stack file", async () => {
  const t = await createTestApp();
  const project = `cmrefs${crypto.randomUUID().slice(0, 6)}`;
  try {
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const viewer = t.cookieFor(await t.addUser("viewer", "viewer"));
    await putFile(t, admin, project, {
      path: "hidden.yaml",
      content: "services:\n  leak:\n    image: secret-value\n",
      secret: true,
    });
    const refused = await preview(t, admin, {
      yaml: `include: [hidden.yaml]\nservices: {}\n`,
      project,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /hidden\.yaml.*not in the stack directory/);
    assert.equal(JSON.stringify(refused.body).includes("secret-value"), false);

    await putFile(t, admin, project, { path: "other.yaml", content: OTHER_YAML });
    const asViewer = await preview(t, viewer, {
      yaml: `include: [other.yaml]\nservices:\n  web:\n    image: ${TEST_IMAGE}\n`,
      project,
    });
    assert.equal(asViewer.status, 400, JSON.stringify(asViewer.body));
    assert.match(asViewer.body.error, /other\.yaml/);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
