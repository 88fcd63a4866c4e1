/** Compose deploys against the real Engine, and interoperability with the docker-compose CLI. */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { freePort } from "../fixtures/registry.ts";
import { inspectContainer, listContainers, removeContainer } from "../../lib/docker/containers.ts";
import type { DockerClient } from "../../lib/docker/client.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

function stackYaml(port: number, bindDir: string, workerCommand = "sleep 3600") {
  // No top-level name: Debian's docker-compose (1.29) would refuse the file; the request names it.
  return `
services:
  web:
    image: ${TEST_IMAGE}
    command: httpd -f -p 80 -h /www
    ports:
      - "127.0.0.1:${port}:80"
    volumes:
      - data:/data
      - ${bindDir}:/www:ro
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost/"]
      interval: 1s
      timeout: 2s
      retries: 20
  api:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    environment:
      API_TOKEN: \${TOKEN:-unset}
    depends_on:
      web:
        condition: service_healthy
  worker:
    image: ${TEST_IMAGE}
    command: ${workerCommand}
    networks:
      - backend
      - default
networks:
  backend: {}
volumes:
  data: {}
`;
}

async function deploy(t: TestApp, cookie: string, body: Record<string, unknown>) {
  const response = await t.request("POST", "/api/containers/compose/deploy", {
    cookie,
    json: body,
  });
  if (response.headers.get("content-type") !== "application/x-ndjson") {
    return {
      status: response.status,
      error: await response.json(),
      lines: [] as Record<string, unknown>[],
    };
  }
  const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
  return { status: response.status, lines, last: lines.at(-1) };
}

async function projectContainers(docker: DockerClient, project: string) {
  return await listContainers(docker, {
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
}

async function cleanupProject(docker: DockerClient, project: string) {
  for (const container of await projectContainers(docker, project)) {
    await removeContainer(docker, container.Id, { force: true, volumes: true }).catch(() => {});
  }
  const filters = JSON.stringify({ label: [`com.docker.compose.project=${project}`] });
  for (
    const network of await docker.json<{ Id: string }[]>("GET", "/networks", { query: { filters } })
  ) {
    await docker.json("DELETE", `/networks/${network.Id}`).catch(() => {});
  }
  const volumes = await docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", {
    query: { filters },
  });
  for (const volume of volumes.Volumes ?? []) {
    await docker.json("DELETE", `/volumes/${volume.Name}`).catch(() => {});
  }
}

async function execOutput(docker: DockerClient, container: string, cmd: string[]) {
  const exec = await docker.json<{ Id: string }>("POST", `/containers/${container}/exec`, {
    json: { AttachStdout: true, AttachStderr: true, Tty: true, Cmd: cmd },
  });
  const stream = await docker.hijack(`/exec/${exec.Id}/start`, { Detach: false, Tty: true });
  let output = "";
  for await (const chunk of stream.readable) output += new TextDecoder().decode(chunk);
  return output;
}

async function compose(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command("docker-compose", {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("a 3-service stack deploys as a real compose project; redeploys recreate only what changed", async () => {
  const t = await createTestApp();
  const project = `cmct${crypto.randomUUID().slice(0, 8)}`;
  const bindDir = await Deno.makeTempDir({ prefix: "cm-compose-www-" });
  const port = freePort();
  try {
    await ensureTestImage(t.deps.docker);
    await Deno.writeTextFile(`${bindDir}/index.html`, "hello from web\n");
    const admin = t.cookieFor(await t.addUser("compose-admin", "admin"));
    const yaml = stackYaml(port, bindDir);

    const preview = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml, project, env: "TOKEN=from-dotenv\n" },
    });
    assert.equal(preview.status, 200, await preview.clone().text());
    const plan = await preview.json();
    assert.equal(plan.project, project);
    assert.deepEqual(plan.services.map((s: { name: string }) => s.name), ["web", "api", "worker"]);
    assert.ok(plan.services.every((s: { action: string }) => s.action === "create"));
    const api = plan.services.find((s: { name: string }) => s.name === "api");
    assert.deepEqual(api.env_keys, ["API_TOKEN"]);
    assert.ok(!JSON.stringify(plan).includes("from-dotenv"), "env values never leave the server");
    assert.deepEqual(plan.services[0].ports, [`127.0.0.1:${port}:80/tcp`]);

    const first = await deploy(t, admin, { yaml, project, env: "TOKEN=from-dotenv\n" });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));
    assert.ok(first.lines.some((line) => line.service === "api" && line.status === "waiting"));

    const containers = await projectContainers(t.deps.docker, project);
    const byName = Object.fromEntries(containers.map((c) => [c.Names[0].slice(1), c]));
    assert.deepEqual(Object.keys(byName).sort(), [
      `${project}-api-1`,
      `${project}-web-1`,
      `${project}-worker-1`,
    ]);
    const web = await inspectContainer(t.deps.docker, `${project}-web-1`);
    const labels = web.Config.Labels!;
    assert.equal(labels["com.docker.compose.project"], project);
    assert.equal(labels["com.docker.compose.service"], "web");
    assert.equal(labels["com.docker.compose.container-number"], "1");
    assert.equal(labels["com.docker.compose.oneoff"], "False");
    assert.match(labels["com.docker.compose.config-hash"], /^[0-9a-f]{64}$/);
    assert.equal(
      labels["com.docker.compose.project.config_files"],
      `${labels["com.docker.compose.project.working_dir"]}/compose.yaml`,
    );
    assert.equal(await Deno.readTextFile(labels["com.docker.compose.project.config_files"]), yaml);
    assert.deepEqual(Object.keys(web.NetworkSettings.Networks), [`${project}_default`]);
    assert.ok(web.NetworkSettings.Networks[`${project}_default`].Aliases?.includes("web"));
    const worker = await inspectContainer(t.deps.docker, `${project}-worker-1`);
    assert.deepEqual(Object.keys(worker.NetworkSettings.Networks).sort(), [
      `${project}_backend`,
      `${project}_default`,
    ]);
    const apiInfo = await inspectContainer(t.deps.docker, `${project}-api-1`);
    assert.ok(apiInfo.Config.Env?.includes("API_TOKEN=from-dotenv"));
    assert.equal(web.Mounts.find((m) => m.Destination === "/data")?.Name, `${project}_data`);
    const volume = await t.deps.docker.json<{ Labels: Record<string, string> }>(
      "GET",
      `/volumes/${project}_data`,
    );
    assert.equal(volume.Labels["com.docker.compose.volume"], "data");
    const network = await t.deps.docker.json<{ Labels: Record<string, string> }>(
      "GET",
      `/networks/${project}_backend`,
    );
    assert.equal(network.Labels["com.docker.compose.network"], "backend");
    assert.equal(network.Labels["com.docker.compose.config-hash"], undefined);

    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "hello from web\n");
    assert.match(
      await execOutput(t.deps.docker, `${project}-api-1`, ["wget", "-q", "-O-", "http://web/"]),
      /hello from web/,
    );

    const ids = Object.fromEntries(containers.map((c) => [c.Names[0].slice(1), c.Id]));
    const again = await deploy(t, admin, { yaml, project, env: "TOKEN=from-dotenv\n" });
    assert.equal(again.last?.done, true);
    assert.deepEqual(
      (again.last!.result as { services: { action: string }[] }).services.map((s) => s.action),
      ["unchanged", "unchanged", "unchanged"],
    );
    const changed = await deploy(t, admin, {
      yaml: stackYaml(port, bindDir, "sleep 3601"),
      project,
      env: "TOKEN=from-dotenv\n",
    });
    assert.equal(changed.last?.done, true, JSON.stringify(changed.lines.slice(-3)));
    assert.deepEqual(
      (changed.last!.result as { services: { service: string; action: string }[] }).services
        .map((s) => `${s.service}:${s.action}`),
      ["web:unchanged", "api:unchanged", "worker:recreated"],
    );
    const after = Object.fromEntries(
      (await projectContainers(t.deps.docker, project)).map((c) => [c.Names[0].slice(1), c.Id]),
    );
    assert.equal(after[`${project}-web-1`], ids[`${project}-web-1`]);
    assert.notEqual(after[`${project}-worker-1`], ids[`${project}-worker-1`]);

    const audit = t.deps.db.prepare(
      "SELECT action, exit_code, params, stdout FROM sysctl_audit WHERE action = 'compose.deploy'",
    )
      .all() as { exit_code: number; params: string; stdout: string }[];
    assert.equal(audit.length, 3);
    assert.ok(audit.every((row) => row.exit_code === 0 && !row.params.includes("from-dotenv")));
    // Interpolated values never reach any audit row (the create bodies travel unaudited).
    const everything = JSON.stringify(t.deps.db.prepare("SELECT * FROM sysctl_audit").all());
    assert.ok(
      !everything.includes("from-dotenv"),
      "an interpolated secret reached the audit trail",
    );
    assert.ok(
      everything.includes('"action":"docker.create"'),
      "each container creation is audited",
    );
    assert.match(audit[0].stdout, /"service":"worker"/);

    // The compose CLI sees the project as its own.
    const stackDir = labels["com.docker.compose.project.working_dir"];
    const ps = await compose(["-f", `${stackDir}/compose.yaml`, "-p", project, "ps", "-q"]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.deepEqual(ps.stdout.trim().split("\n").sort(), Object.values(after).sort());
    const down = await compose(["-f", `${stackDir}/compose.yaml`, "-p", project, "down"]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);

    // Down keeps the stored file (the stack stays listed, to redeploy); forgetting deletes it.
    const listed = async () =>
      (await (await t.request("GET", "/api/containers/compose/stacks", { cookie: admin })).json())
        .stacks
        .find((stack: { name: string }) => stack.name === project);
    assert.deepEqual({ ours: (await listed()).ours, containers: (await listed()).containers }, {
      ours: true,
      containers: 0,
    });
    const forget = await t.request("DELETE", `/api/containers/compose/stacks/${project}`, {
      cookie: admin,
    });
    assert.equal(forget.status, 200, await forget.clone().text());
    assert.equal(await listed(), undefined);
    await assert.rejects(Deno.stat(stackDir), Deno.errors.NotFound);
    assert.equal(
      (await t.request("DELETE", `/api/containers/compose/stacks/${project}`, { cookie: admin }))
        .status,
      404,
    );
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
    await Deno.remove(bindDir, { recursive: true });
  }
});

Deno.test("a stack created by the docker-compose CLI shows up in the Stacks list and can be brought down", async () => {
  const t = await createTestApp();
  const project = `cmcli${crypto.randomUUID().slice(0, 8)}`;
  const dir = await Deno.makeTempDir({ prefix: "cm-compose-cli-" });
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("compose-admin2", "admin"));
    await Deno.writeTextFile(
      `${dir}/docker-compose.yml`,
      `version: "3.8"\nservices:\n  one:\n    image: ${TEST_IMAGE}\n    command: sleep 3600\n`,
    );
    const up = await compose(["-f", `${dir}/docker-compose.yml`, "-p", project, "up", "-d"]);
    assert.equal(up.code, 0, up.stderr);
    const stacks =
      (await (await t.request("GET", "/api/containers/compose/stacks", { cookie: admin })).json())
        .stacks;
    const stack = stacks.find((s: { name: string }) => s.name === project);
    assert.deepEqual({ ...stack, working_dir: undefined }, {
      name: project,
      services: ["one"],
      containers: 1,
      running: 1,
      ours: false,
      working_dir: undefined,
    });
    const early = await t.request("DELETE", `/api/containers/compose/stacks/${project}`, {
      cookie: admin,
    });
    assert.equal(early.status, 409, "a stack with containers cannot be forgotten");
    const down = await t.request("POST", `/api/containers/compose/stacks/${project}/down`, {
      cookie: admin,
    });
    assert.equal(down.status, 200, await down.clone().text());
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad compose input is a 400 with a message, and nothing is created", async () => {
  const t = await createTestApp();
  const project = `cmbad${crypto.randomUUID().slice(0, 8)}`;
  try {
    const admin = t.cookieFor(await t.addUser("compose-admin3", "admin"));
    const cases: [string, string][] = [
      ["non-YAML", "services: [unclosed"],
      ["a list at top level", "- a\n- b\n"],
      ["no services", "name: x\n"],
      ["neither image nor build", "services:\n  a:\n    command: x\n"],
      ["an invalid port", `services:\n  a:\n    image: ${TEST_IMAGE}\n    ports: ["99999:80"]\n`],
      [
        "an undefined named volume",
        `services:\n  a:\n    image: ${TEST_IMAGE}\n    volumes: ["nope:/x"]\n`,
      ],
      ["an undefined network", `services:\n  a:\n    image: ${TEST_IMAGE}\n    networks: [nope]\n`],
      ["a missing :? variable", `services:\n  a:\n    image: \${IMAGE:?set IMAGE first}\n`],
    ];
    for (const [label, yaml] of cases) {
      for (const path of ["preview", "deploy"]) {
        const response = await t.request("POST", `/api/containers/compose/${path}`, {
          cookie: admin,
          json: { yaml, project },
        });
        const body = await response.json();
        assert.equal(response.status, 400, `${label} (${path}): ${JSON.stringify(body)}`);
        assert.ok(body.error.length > 5, label);
      }
    }
    const risky =
      `services:\n  a:\n    image: ${TEST_IMAGE}\n    privileged: true\n    volumes: ["/var/run/docker.sock:/s"]\n`;
    const refused = await t.request("POST", "/api/containers/compose/deploy", {
      cookie: admin,
      json: { yaml: risky, project },
    });
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).field, "acknowledge_risks");
    const traversal = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml: `services:\n  a:\n    image: ${TEST_IMAGE}\n`, project: "../../etc" },
    });
    assert.equal(traversal.status, 400);
    assert.deepEqual(await projectContainers(t.deps.docker, project), []);
    await assert.rejects(Deno.stat(`${t.dir}/stacks/${project}`), Deno.errors.NotFound);
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
  }
});
