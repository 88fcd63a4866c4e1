/**
 * Stopping a compose container honours the service's stop_grace_period (the CLI's timeout):
 * in a recreate, a scale-down and `stop` of the stack. docker.stop takes a validated
 * timeout, kept in its audit row.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, makeTestContainer, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

// `sleep` as pid 1 ignores SIGTERM: only the grace period ends it.
const yamlOf = (tag: string) => `
services:
  web:
    image: ${TEST_IMAGE}
    command: ["sleep", "360${tag}"]
    stop_grace_period: 1s
`;

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** The final audit rows of docker.stop (one per dispatch). */
function stopRows(t: TestApp) {
  return t.deps.db.prepare(
    "SELECT target, params, exit_code FROM sysctl_audit WHERE action = 'docker.stop' AND phase IS NULL ORDER BY seq",
  ).all() as { target: string; params: string | null; exit_code: number }[];
}

Deno.test("a recreate and a stack stop wait the service's stop_grace_period, not 10 s", async () => {
  const t = await createTestApp();
  const project = `cmstop${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const first = await deployStack(t, admin, { yaml: yamlOf("0"), project });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));
    const old = await inspectContainer(t.deps.docker, `${project}-web-1`);

    const started = Date.now();
    const again = await deployStack(t, admin, { yaml: yamlOf("1"), project });
    assert.equal(again.last?.done, true, JSON.stringify(again.lines.slice(-3)));
    // Ten seconds would be the Engine's default; the margin is for a loaded machine.
    assert.ok(Date.now() - started < 8_000, `the recreate took ${Date.now() - started} ms`);
    const stops = stopRows(t);
    assert.equal(stops.length, 1);
    assert.equal(stops[0].target, old.Id);
    assert.deepEqual(JSON.parse(stops[0].params ?? "{}"), { timeout: 1 });

    // The stack's stop uses the container's own StopTimeout (set from stop_grace_period).
    const stopStarted = Date.now();
    const stopped = await t.request("POST", `/api/containers/compose/stacks/${project}/stop`, {
      cookie: admin,
    });
    assert.equal(stopped.status, 200, await stopped.text());
    assert.ok(Date.now() - stopStarted < 8_000, `the stop took ${Date.now() - stopStarted} ms`);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("docker.stop: a timeout outside 0..86400 seconds is a 400 (audited) and stops nothing", async () => {
  await using engine = await testEngine("cmstopv");
  const t = await createTestApp();
  try {
    const id = await makeTestContainer(engine.docker, engine.prefix, "web", {
      Cmd: ["sleep", "3600"],
    });
    const admin = await t.addUser("admin", "admin");
    for (const timeout of [-1, 1.5, "10", 86401]) {
      await assert.rejects(
        t.deps.dispatcher.dispatch({
          verb: "docker.stop",
          target: id,
          params: { timeout },
          actor: { userId: admin, username: "admin", role: "admin", ip: "127.0.0.1" },
          requestId: "test",
        }),
        (error: Error & { status?: number }) =>
          error.status === 400 && /timeout/.test(error.message),
      );
    }
    assert.equal((await inspectContainer(t.deps.docker, id)).State.Running, true);
    const refused = stopRows(t);
    assert.equal(refused.length, 4);
    assert.ok(refused.every((row) => row.exit_code !== 0));
  } finally {
    await t.close();
  }
});

Deno.test("a restart waits the container's own StopTimeout and a stack restart its grace period, not 10 s", async () => {
  await using engine = await testEngine("cmrestart");
  const t = await createTestApp();
  const project = `cmrst${crypto.randomUUID().slice(0, 6)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const id = await makeTestContainer(engine.docker, engine.prefix, "web", {
      Cmd: ["sleep", "3600"],
      StopTimeout: 1,
    });
    const started = Date.now();
    const restarted = await t.request("POST", `/api/containers/${id}/restart`, { cookie: admin });
    assert.equal(restarted.status, 200, await restarted.text());
    // Ten seconds would be the Engine's default; the margin is for a loaded machine.
    assert.ok(Date.now() - started < 8_000, `the restart took ${Date.now() - started} ms`);
    assert.equal((await inspectContainer(t.deps.docker, id)).State.Running, true);

    const deployed = await deployStack(t, admin, { yaml: yamlOf("2"), project });
    assert.equal(deployed.last?.done, true, JSON.stringify(deployed.lines.slice(-3)));
    const stackStarted = Date.now();
    const stack = await t.request("POST", `/api/containers/compose/stacks/${project}/restart`, {
      cookie: admin,
    });
    assert.equal(stack.status, 200, await stack.text());
    assert.ok(
      Date.now() - stackStarted < 8_000,
      `the stack restart took ${Date.now() - stackStarted} ms`,
    );
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
