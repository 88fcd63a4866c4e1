/**
 * remove_orphans in the preview: its plan shows the orphans removed, and the deploy with the
 * same body executes exactly that plan.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";

const QUICK = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;
const service = (name: string) => `  ${name}:\n    image: ${TEST_IMAGE}\n    command: ${QUICK}\n`;

Deno.test("a preview with remove_orphans plans the orphans' removal, and the deploy does it", async () => {
  const t = await createTestApp();
  const project = `cmorph${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const first = await deployStack(t, admin, {
      yaml: `services:\n${service("a")}${service("b")}`,
      project,
    });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));

    const body = { yaml: `services:\n${service("a")}`, project, remove_orphans: true };
    const response = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: body,
    });
    assert.equal(response.status, 200);
    const preview = await response.json();
    assert.deepEqual(
      preview.plan.orphans.map((o: { container: string; action: string }) =>
        `${o.container}:${o.action}`
      ),
      [`${project}-b-1:remove`],
    );
    const deployed = await deployStack(t, admin, body);
    assert.equal(deployed.last?.done, true, JSON.stringify(deployed.lines.slice(-3)));
    const result = deployed.last!.result as { plan: unknown; removed_orphans: string[] };
    assert.deepEqual(result.plan, preview.plan);
    assert.deepEqual(result.removed_orphans, [`${project}-b-1`]);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
