/**
 * deploy.replicas as the CLI applies it outside swarm mode: N containers numbered 1..N,
 * scaling down removes the highest numbers, and the preview's plan shows it per container.
 * Compared with Debian's docker-compose 1.29 (which names them <project>_<service>_<n>).
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";
import { composeCli } from "../fixtures/compose_cli.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import type { DockerClient } from "../../lib/docker/client.ts";

const QUICK = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;

const yamlOf = (replicas: number) => `
services:
  web:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    deploy:
      replicas: ${replicas}
`;

/** "number:state" of each container of the project's service, by number. */
async function replicas(docker: DockerClient, project: string) {
  const list = await listContainers(docker, {
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  return list.map((c) => ({
    number: Number(c.Labels?.["com.docker.compose.container-number"]),
    state: c.State,
    name: (c.Names?.[0] ?? "").replace(/^\//, ""),
  })).sort((a, b) => a.number - b.number);
}

Deno.test("deploy.replicas: N numbered containers, scaled down from the top, as docker-compose does", async () => {
  const t = await createTestApp();
  const project = `cmrepl${crypto.randomUUID().slice(0, 6)}`;
  const cliProject = `${project}cli`;
  const cliDir = await Deno.makeTempDir();
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));

    const first = await deployStack(t, admin, { yaml: yamlOf(3), project });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));
    const ours = await replicas(t.deps.docker, project);
    assert.deepEqual(
      ours.map((c) => `${c.name}:${c.number}:${c.state}`),
      [1, 2, 3].map((n) => `${project}-web-${n}:${n}:running`),
    );

    await Deno.writeTextFile(`${cliDir}/docker-compose.yml`, yamlOf(3));
    const up = await composeCli(["-p", cliProject, "up", "-d"], cliDir);
    assert.equal(up.code, 0, up.stderr);
    const theirs = await replicas(t.deps.docker, cliProject);
    assert.deepEqual(theirs.map((c) => c.number), ours.map((c) => c.number));

    // Scaling down: the preview's plan says which container goes, the deploy does it.
    const shown = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml: yamlOf(2), project },
    });
    const plan = (await shown.json()).plan;
    assert.deepEqual(
      plan.services.map((s: { container: string; action: string }) => `${s.container}:${s.action}`),
      [`${project}-web-1:unchanged`, `${project}-web-2:unchanged`, `${project}-web-3:remove`],
    );
    const down = await deployStack(t, admin, { yaml: yamlOf(2), project });
    assert.equal(down.last?.done, true, JSON.stringify(down.lines.slice(-3)));
    const result = (down.last!.result as { services: { container: string; action: string }[] })
      .services.map((s) => `${s.container}:${s.action}`);
    assert.deepEqual(result, [
      `${project}-web-1:unchanged`,
      `${project}-web-2:unchanged`,
      `${project}-web-3:removed`,
    ]);

    await Deno.writeTextFile(`${cliDir}/docker-compose.yml`, yamlOf(2));
    const scaled = await composeCli(["-p", cliProject, "up", "-d"], cliDir);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.deepEqual(
      (await replicas(t.deps.docker, project)).map((c) => c.number),
      (await replicas(t.deps.docker, cliProject)).map((c) => c.number),
    );
    assert.deepEqual((await replicas(t.deps.docker, project)).map((c) => c.number), [1, 2]);
  } finally {
    await composeCli(["-p", cliProject, "down", "-v", "-t", "1"], cliDir).catch(() => {});
    await cleanupComposeProject(t.deps.docker, cliProject);
    await cleanupComposeProject(t.deps.docker, project);
    await Deno.remove(cliDir, { recursive: true }).catch(() => {});
    await t.close();
  }
});
