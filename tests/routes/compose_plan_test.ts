/**
 * Plan, lock, execute (issue 11): the preview's plan is what deploy does, one mutation of a
 * project at a time, recreates as the CLI makes them, no half-configured container, and
 * `down` removing whatever a project left. Against the real Engine.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject as cleanupProject } from "../fixtures/compose.ts";
import { inspectContainer, listContainers } from "../../lib/docker/containers.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { DockerError } from "../../lib/docker/errors.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
type Line = Record<string, unknown>;

/** Exits on TERM, so a stop is quick (sleep as pid 1 would wait out the timeout). */
const QUICK = `["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]`;

async function deploy(t: TestApp, cookie: string, body: Record<string, unknown>) {
  const response = await t.request("POST", "/api/containers/compose/deploy", {
    cookie,
    json: body,
  });
  if (response.headers.get("content-type") !== "application/x-ndjson") {
    return { status: response.status, error: await response.json(), lines: [] as Line[] };
  }
  const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
  return { status: response.status, lines, last: lines.at(-1) as Line | undefined };
}

async function preview(t: TestApp, cookie: string, body: Record<string, unknown>) {
  const response = await t.request("POST", "/api/containers/compose/preview", {
    cookie,
    json: body,
  });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

async function projectContainers(docker: DockerClient, project: string) {
  return await listContainers(docker, {
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
}

async function projectNetworks(docker: DockerClient, project: string) {
  const filters = JSON.stringify({ label: [`com.docker.compose.project=${project}`] });
  return await docker.json<{ Id: string; Name: string }[]>("GET", "/networks", {
    query: { filters },
  });
}

function finalRows(t: TestApp, action: string) {
  return t.deps.db.prepare(
    "SELECT target, exit_code, stdout, stderr FROM sysctl_audit WHERE action = ? AND phase IS NULL ORDER BY seq",
  ).all(action) as { target: string; exit_code: number; stdout: string; stderr: string }[];
}

async function exists(docker: DockerClient, path: string) {
  try {
    await docker.json("GET", path);
    return true;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return false;
    throw error;
  }
}

async function withApp(tag: string, fn: (t: TestApp, admin: string, project: string) => unknown) {
  const t = await createTestApp();
  const project = `${tag}${crypto.randomUUID().slice(0, 8)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser(`admin-${tag}`, "admin"));
    await fn(t, admin, project);
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
  }
}

function webYaml(extra = "", command = QUICK) {
  return `
services:
  web:
    image: ${TEST_IMAGE}
    command: ${command}
    volumes: ["/cache"]
${extra}`;
}

Deno.test("a redeploy the Engine refuses leaves the old container running unchanged, and says nothing was replaced", async () => {
  await withApp("cmref", async (t, admin, project) => {
    const first = await deploy(t, admin, { yaml: webYaml(), project });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));
    const before = await inspectContainer(t.deps.docker, `${project}-web-1`);

    // An unknown capability: the Engine refuses the container at create.
    const refused = await deploy(t, admin, {
      yaml: webYaml("    cap_add: [CAP_BOGUS]\n"),
      project,
    });
    assert.equal(refused.last?.done, false, JSON.stringify(refused.lines.slice(-3)));
    const error = String(refused.last?.error);
    assert.match(error, /^Service "web": .*unknown capability/i);
    assert.match(error, /no service was changed/);
    assert.match(error, /web not replaced: the new container could not be created/);
    assert.match(error, new RegExp(`now: web: ${project}-web-1 running\\]$`));

    const after = await inspectContainer(t.deps.docker, `${project}-web-1`);
    assert.equal(after.Id, before.Id, "the old container is the one that runs");
    assert.equal(after.State.Running, true);
    assert.deepEqual(
      (await t.deps.docker.json<{ HostConfig: { CapAdd: string[] | null } }>(
        "GET",
        `/containers/${after.Id}/json`,
      )).HostConfig.CapAdd ?? [],
      [],
      "with its old configuration",
    );
    // Nothing else of the project exists: no replacement under its temporary name.
    assert.deepEqual(
      (await projectContainers(t.deps.docker, project)).map((c) => c.Id),
      [before.Id],
    );
    const rows = finalRows(t, "compose.deploy");
    assert.equal(rows.length, 2);
    assert.notEqual(rows[1].exit_code, 0);
    assert.equal(rows[1].stderr, error, "the audit row says what the result says");
    assert.doesNotMatch(rows[1].stderr, /\brecreated\b/);
  });
});

Deno.test("a changed service is replaced as the CLI does it: created as <id12>_<name>, old one gone, renamed", async () => {
  await withApp("cmrec", async (t, admin, project) => {
    const first = await deploy(t, admin, { yaml: webYaml(), project });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));
    const old = await inspectContainer(t.deps.docker, `${project}-web-1`);
    const anonymous = old.Mounts.find((m) => m.Destination === "/cache")?.Name;
    assert.ok(anonymous, "an anonymous volume at /cache");

    const changed = await deploy(t, admin, {
      yaml: webYaml("    environment: {CHANGED: '1'}\n"),
      project,
    });
    assert.equal(changed.last?.done, true, JSON.stringify(changed.lines.slice(-3)));
    const result = changed.last!.result as { services: { service: string; action: string }[] };
    assert.deepEqual(result.services.map((s) => `${s.service}:${s.action}`), ["web:recreated"]);

    const now = await inspectContainer(t.deps.docker, `${project}-web-1`);
    assert.notEqual(now.Id, old.Id);
    assert.equal(now.Name, `/${project}-web-1`);
    assert.equal(now.State.Running, true);
    assert.ok(now.Config.Env?.includes("CHANGED=1"));
    assert.equal(await exists(t.deps.docker, `/containers/${old.Id}/json`), false, "old is gone");
    // The replacement keeps the old one's anonymous volume, as the CLI's does.
    assert.equal(now.Mounts.find((m) => m.Destination === "/cache")?.Name, anonymous);
    assert.deepEqual(
      (await projectContainers(t.deps.docker, project)).map((c) => c.Names[0]),
      [`/${project}-web-1`],
    );
    // The audit trail shows the CLI's sequence: create under the temporary name, stop, rm,
    // rename, start.
    const rows = t.deps.db.prepare(
      "SELECT action, target, params FROM sysctl_audit WHERE phase IS NULL AND action LIKE 'docker.%' ORDER BY seq",
    ).all() as { action: string; target: string; params: string }[];
    const temporary = `${old.Id.slice(0, 12)}_${project}-web-1`;
    const created = rows.findLast((row) => row.action === "docker.create")!;
    assert.equal(created.target, temporary);
    const newId = now.Id;
    assert.deepEqual(rows.slice(rows.indexOf(created) + 1).map((row) => [row.action, row.target]), [
      ["docker.stop", old.Id],
      ["docker.rm", old.Id],
      ["docker.rename", newId],
      ["docker.start", newId],
    ]);
    assert.equal(JSON.parse(rows.at(-2)!.params).name, `${project}-web-1`);
  });
});

Deno.test("a network connect that fails (API < 1.44) removes the new container: nothing half-configured stays", async () => {
  await withApp("cmnet", async (t, admin, project) => {
    const apiVersion = await t.deps.docker.apiVersion();
    assert.ok(
      Number(apiVersion.split(".")[1]) < 44,
      `this test covers the connect path; the Engine speaks ${apiVersion}`,
    );
    // The primary network is the project's default; joining "host" afterwards is refused.
    const yaml = `
services:
  web:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    networks: [default, hostnet]
networks:
  hostnet:
    external: true
    name: host
`;
    const result = await deploy(t, admin, { yaml, project, acknowledge_risks: true });
    assert.equal(result.last?.done, false, JSON.stringify(result.lines.slice(-3)));
    const error = String(result.last?.error);
    assert.match(error, /Connecting container ".*" to network "host" failed/);
    assert.match(error, /the container was removed again/);
    assert.match(error, /now: web: no container\]$/);
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);

    // The same for a recreate: the old container stays, no replacement is left behind.
    const plain = `
services:
  web:
    image: ${TEST_IMAGE}
    command: ${QUICK}
`;
    assert.equal((await deploy(t, admin, { yaml: plain, project })).last?.done, true);
    const old = await inspectContainer(t.deps.docker, `${project}-web-1`);
    const again = await deploy(t, admin, { yaml, project, acknowledge_risks: true });
    assert.equal(again.last?.done, false);
    assert.deepEqual(
      (await projectContainers(t.deps.docker, project)).map((c) => `${c.Id}:${c.State}`),
      [`${old.Id}:running`],
    );
  });
});

Deno.test("a deploy executes exactly the plan its preview showed for the same file and Engine state", async () => {
  await withApp("cmpln", async (t, admin, project) => {
    const yaml = (greeting: string) => `
services:
  db:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    environment: {GREETING: ${greeting}}
  web:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    depends_on:
      db: {condition: service_started, restart: true}
  side:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    network_mode: service:db
  idle:
    image: ${TEST_IMAGE}
    command: ${QUICK}
`;
    const check = async (text: string) => {
      const shown = await preview(t, admin, { yaml: text, project });
      const done = await deploy(t, admin, { yaml: text, project });
      assert.equal(done.last?.done, true, JSON.stringify(done.lines.slice(-3)));
      const result = done.last!.result as {
        plan: unknown;
        services: { service: string; action: string }[];
      };
      assert.deepEqual(result.plan, shown.plan);
      const past: Record<string, string> = {
        create: "created",
        recreate: "recreated",
        unchanged: "unchanged",
        start: "started",
        restart: "restarted",
      };
      assert.deepEqual(
        result.services.map((s) => `${s.service}:${s.action}`),
        shown.plan.services.map((s: { service: string; action: string }) =>
          `${s.service}:${past[s.action]}`
        ),
      );
      return shown.plan;
    };
    const first = await check(yaml("one"));
    assert.deepEqual(
      first.services.map((s: { action: string; reason: string }) => `${s.action}: ${s.reason}`),
      [
        "create: no container yet",
        "create: no container yet",
        "create: no container yet",
        "create: no container yet",
      ],
    );
    assert.deepEqual(
      first.networks.map((n: { key: string; action: string }) => `${n.key}:${n.action}`),
      ["default:create"],
    );
    // Stop one, change db: db recreated, side follows it, web restarts, idle is started.
    await t.deps.docker.json("POST", `/containers/${project}-idle-1/stop`, { query: { t: 1 } });
    const second = await check(yaml("two"));
    const reasons = Object.fromEntries(
      second.services.map((s: { service: string; action: string; reason: string }) => [
        s.service,
        `${s.action}: ${s.reason}`,
      ]),
    );
    assert.deepEqual(reasons, {
      db: "recreate: its configuration changed",
      web: "restart: it depends on db with restart: true, which is renewed",
      side: "recreate: it shares the network stack of db, which is replaced",
      idle: "start: unchanged; its container is exited",
    });
    const third = await check(yaml("two"));
    assert.ok(
      third.services.every((s: { action: string }) => s.action === "unchanged"),
      JSON.stringify(third.services),
    );
  });
});

/** A deploy that takes a couple of seconds: web waits for db to become healthy. */
function slowYaml(tag: string) {
  return `
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; (sleep 2; touch /tmp/ok) & sleep 3600 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 500ms
      retries: 30
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo ${tag}; sleep 3600 & wait"]
    depends_on:
      db: {condition: service_healthy}
`;
}

Deno.test("two concurrent deploys of one project: one runs, the other is a 409 (audited), and the stored file is what runs", async () => {
  await withApp("cmlck", async (t, admin, project) => {
    const [a, b] = await Promise.all([
      deploy(t, admin, { yaml: slowYaml("alpha"), project }),
      deploy(t, admin, { yaml: slowYaml("beta"), project }),
    ]);
    const outcomes = [a, b].map((r) => r.status).sort();
    assert.deepEqual(outcomes, [200, 409], JSON.stringify([a.error, b.error]));
    const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
    const winnerTag = a.status === 200 ? "alpha" : "beta";
    assert.equal(winner.last?.done, true, JSON.stringify(winner.lines.slice(-3)));
    assert.match(
      loser.error.error,
      new RegExp(
        `^A deploy of "${project}" is running, started by admin-cmlck at \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    const rows = finalRows(t, "compose.deploy");
    assert.deepEqual(rows.map((row) => row.exit_code).sort(), [0, 409]);

    const web = await inspectContainer(t.deps.docker, `${project}-web-1`);
    assert.ok(web.Config.Cmd?.join(" ").includes(`echo ${winnerTag}`));
    const stored = await Deno.readTextFile(`${t.deps.config.stacksDir}/${project}/compose.yaml`)
      .catch(() => Deno.readTextFile(`${t.dir}/stacks/${project}/compose.yaml`));
    assert.equal(stored, slowYaml(winnerTag), "the stored file is the one that runs");
  });
});

Deno.test("deploy vs down: the second is a 409 while the first runs; down then removes everything", async () => {
  await withApp("cmdvd", async (t, admin, project) => {
    // The deploy answers once it has started (its NDJSON stream), and runs on for ~2 s.
    const response = await t.request("POST", "/api/containers/compose/deploy", {
      cookie: admin,
      json: { yaml: slowYaml("one"), project },
    });
    assert.equal(response.headers.get("content-type"), "application/x-ndjson");
    const down = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
    });
    assert.equal(down.status, 409, await down.clone().text());
    assert.match((await down.json()).error, new RegExp(`^A deploy of "${project}" is running`));
    const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(lines.at(-1).done, true, JSON.stringify(lines.slice(-3)));
    assert.deepEqual(
      finalRows(t, "compose.stack.down").map((row) => [row.target, row.exit_code]),
      [[project, 409]],
      "the refusal is audited",
    );
    // Every container is as deployed: the refused down interleaved with nothing.
    assert.deepEqual(
      (await projectContainers(t.deps.docker, project)).map((c) => c.State),
      ["running", "running"],
    );

    // Down first, deploy second: the lock works both ways (a down held by hand here).
    const stop = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
    });
    assert.equal(stop.status, 200, await stop.clone().text());
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);
    assert.deepEqual(await projectNetworks(t.deps.docker, project), []);
  });
});

Deno.test("down removes what a failed deploy left (a network, no container), and with volumes the anonymous ones", async () => {
  await withApp("cmdwn", async (t, admin, project) => {
    const missing = `/tmp/cm-compose-missing-${crypto.randomUUID()}`;
    const failing = `
services:
  a:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    volumes:
      - type: bind
        source: ${missing}
        target: /x
        bind: {create_host_path: false}
`;
    const result = await deploy(t, admin, { yaml: failing, project });
    assert.equal(result.last?.done, false);
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);
    assert.deepEqual(
      (await projectNetworks(t.deps.docker, project)).map((n) => n.Name),
      [`${project}_default`],
      "the failed deploy left its network",
    );
    const down = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
    });
    assert.equal(down.status, 200, await down.clone().text());
    assert.deepEqual((await down.json()).networks, [`${project}_default`]);
    assert.deepEqual(await projectNetworks(t.deps.docker, project), []);
    const nothing = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
    });
    assert.equal(nothing.status, 404);

    // down -v: the named volume and the anonymous one of the container go, as with the CLI.
    const withVolumes = `
services:
  a:
    image: ${TEST_IMAGE}
    command: ${QUICK}
    volumes: ["/anon", "named:/named"]
volumes:
  named: {}
`;
    assert.equal((await deploy(t, admin, { yaml: withVolumes, project })).last?.done, true);
    // A recreate hands the anonymous volume to the new container by name, which `rm -v`
    // alone would then keep: down -v removes it all the same.
    const changed = withVolumes.replace(
      "    command:",
      "    environment: {CHANGED: '1'}\n    command:",
    );
    assert.equal((await deploy(t, admin, { yaml: changed, project })).last?.done, true);
    const mounts = (await inspectContainer(t.deps.docker, `${project}-a-1`)).Mounts;
    const anonymous = mounts.find((m) => m.Destination === "/anon")!.Name!;
    const downV = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
      json: { volumes: true },
    });
    assert.equal(downV.status, 200, await downV.clone().text());
    assert.equal(await exists(t.deps.docker, `/volumes/${anonymous}`), false, "anonymous volume");
    assert.equal(await exists(t.deps.docker, `/volumes/${project}_named`), false, "named volume");

    // The CLI does the same with the same file.
    const dir = await Deno.makeTempDir({ prefix: "cm-compose-downv-" });
    const cliProject = `${project}cli`;
    try {
      await Deno.writeTextFile(`${dir}/compose.yaml`, withVolumes);
      const run = async (...args: string[]) => {
        const out = await new Deno.Command("docker-compose", {
          args: ["-f", `${dir}/compose.yaml`, "-p", cliProject, ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      };
      await run("up", "-d");
      const cliMounts = (await inspectContainer(t.deps.docker, `${cliProject}_a_1`).catch(() =>
        inspectContainer(t.deps.docker, `${cliProject}-a-1`)
      )).Mounts;
      const cliAnonymous = cliMounts.find((m) =>
        m.Destination === "/anon"
      )!.Name!;
      await run("down", "-v");
      assert.equal(await exists(t.deps.docker, `/volumes/${cliAnonymous}`), false);
    } finally {
      await cleanupProject(t.deps.docker, cliProject);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a viewer's deploy is refused by the dispatcher (403, audited) before its file is parsed", async () => {
  await withApp("cmvwr", async (t, _admin, project) => {
    const viewer = t.cookieFor(await t.addUser("viewer-cmvwr", "viewer"));
    const refused = await deploy(t, viewer, { yaml: webYaml(), project });
    assert.equal(refused.status, 403, JSON.stringify(refused.error));
    const rows = t.deps.db.prepare(
      "SELECT actor, exit_code FROM sysctl_audit WHERE action = 'compose.deploy'",
    ).all() as { actor: string; exit_code: number }[];
    assert.deepEqual(rows.map((row) => ({ ...row })), [{ actor: "viewer-cmvwr", exit_code: 403 }]);
    await assert.rejects(Deno.stat(`${t.dir}/stacks/${project}`), Deno.errors.NotFound);
  });
});
