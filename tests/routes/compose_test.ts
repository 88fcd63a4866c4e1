/** Compose deploys against the real Engine, and interoperability with the docker-compose CLI. */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { freePort, pushImage, startRegistry } from "../fixtures/registry.ts";
import { inspectContainer, listContainers, removeContainer } from "../../lib/docker/containers.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { COMPOSE_VERSION } from "../../lib/compose/plan.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

function stackYaml(port: number, bindDir: string, workerCommand = "sleep 3600") {
  // No top-level name: Debian's docker-compose (1.29) would refuse the file; the request names it.
  return `
services:
  web:
    image: ${TEST_IMAGE}
    command: httpd -f -p 80 -h /www
    # httpd and sleep as pid 1 ignore TERM: a recreate or stop waits only this long.
    stop_grace_period: 1s
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
    stop_grace_period: 1s
    environment:
      API_TOKEN: \${TOKEN:-unset}
    depends_on:
      web:
        condition: service_healthy
  worker:
    image: ${TEST_IMAGE}
    command: ${workerCommand}
    stop_grace_period: 1s
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
    // Every service is reachable by its name on each of its networks.
    assert.ok(
      apiInfo.NetworkSettings.Networks[`${project}_default`].Aliases?.includes("api"),
      JSON.stringify(apiInfo.NetworkSettings.Networks),
    );
    for (const key of ["backend", "default"]) {
      assert.ok(
        worker.NetworkSettings.Networks[`${project}_${key}`].Aliases?.includes("worker"),
        `worker's aliases on ${key}: ${JSON.stringify(worker.NetworkSettings.Networks)}`,
      );
    }
    // The labels the CLI writes on every container, depends_on as service:condition:restart.
    const dependsOn: Record<string, string> = {
      web: "",
      api: "web:service_healthy:false",
      worker: "",
    };
    for (const [service, info] of [["web", web], ["api", apiInfo], ["worker", worker]] as const) {
      const containerLabels = info.Config.Labels!;
      assert.equal(containerLabels["com.docker.compose.version"], COMPOSE_VERSION, service);
      assert.equal(containerLabels["com.docker.compose.depends_on"], dependsOn[service], service);
      assert.equal(containerLabels["com.docker.compose.service"], service);
    }
    assert.equal(web.Mounts.find((m) => m.Destination === "/data")?.Name, `${project}_data`);
    const volume = await t.deps.docker.json<{ Labels: Record<string, string> }>(
      "GET",
      `/volumes/${project}_data`,
    );
    assert.equal(volume.Labels["com.docker.compose.volume"], "data");
    assert.equal(volume.Labels["com.docker.compose.project"], project);
    assert.equal(volume.Labels["com.docker.compose.version"], COMPOSE_VERSION);
    assert.equal(volume.Labels["com.docker.compose.config-hash"], undefined);
    for (const key of ["backend", "default"]) {
      const network = await t.deps.docker.json<{ Labels: Record<string, string> }>(
        "GET",
        `/networks/${project}_${key}`,
      );
      assert.equal(network.Labels["com.docker.compose.network"], key);
      assert.equal(network.Labels["com.docker.compose.project"], project);
      assert.equal(network.Labels["com.docker.compose.version"], COMPOSE_VERSION);
      assert.equal(network.Labels["com.docker.compose.config-hash"], undefined);
    }

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
      "SELECT action, exit_code, params, stdout FROM sysctl_audit WHERE action = 'compose.deploy' AND phase IS NULL",
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

/** Runs `cmd` in a container until its output matches (a server may still be starting). */
async function eventually(docker: DockerClient, container: string, cmd: string[], pattern: RegExp) {
  let output = "";
  for (let i = 0; i < 40; i++) {
    output = await execOutput(docker, container, cmd);
    if (pattern.test(output)) return output;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(
    `${cmd.join(" ")} in ${container}: ${JSON.stringify(output)} never matched ${pattern}`,
  );
}

/** HostConfig fields the shared inspect type leaves out. */
async function hostConfig(docker: DockerClient, container: string) {
  return (await docker.json<{
    HostConfig: {
      NetworkMode?: string;
      PidMode?: string;
      Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    };
  }>("GET", `/containers/${container}/json`)).HostConfig;
}

function auditRows(t: TestApp, action: string) {
  return t.deps.db.prepare(
    // Final rows: a deploy also writes a started row first.
    "SELECT target, exit_code, stdout, stderr FROM sysctl_audit WHERE action = ? AND phase IS NULL ORDER BY seq",
  ).all(action) as { target: string; exit_code: number; stdout: string; stderr: string }[];
}

function sharedStackYaml(project: string, greeting: string) {
  // The project is named only by `name:`; the sidecar shares web's network stack.
  return `
name: ${project}
services:
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo ${greeting} > /www/index.html && exec httpd -f -p 80 -h /www"]
    stop_grace_period: 1s
  sidecar:
    image: ${TEST_IMAGE}
    command: sleep 3600
    stop_grace_period: 1s
    network_mode: service:web
    env_file: ./sidecar.env
  watcher:
    image: ${TEST_IMAGE}
    # Exits on TERM, so its restart is quick (sleep as pid 1 would wait out the timeout).
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    depends_on:
      web: {condition: service_started, restart: true}
`;
}

Deno.test("network_mode: service:web shares web's network; name: names the audit target; env_files are kept for Open", async () => {
  const t = await createTestApp();
  const project = `cmnm${crypto.randomUUID().slice(0, 8)}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("compose-admin-nm", "admin"));
    const envFiles = { "./sidecar.env": "ROLE=sidecar\n" };
    const first = await deploy(t, admin, {
      yaml: sharedStackYaml(project, "first"),
      env_files: envFiles,
    });
    assert.equal(first.last?.done, true, JSON.stringify(first.lines.slice(-3)));

    const sidecar = await inspectContainer(t.deps.docker, `${project}-sidecar-1`);
    // The Engine pins container:<name> to web's id.
    const webId = (await inspectContainer(t.deps.docker, `${project}-web-1`)).Id;
    assert.equal(
      (await hostConfig(t.deps.docker, `${project}-sidecar-1`)).NetworkMode,
      `container:${webId}`,
    );
    assert.ok(sidecar.Config.Env?.includes("ROLE=sidecar"));
    assert.equal(
      sidecar.Config.Labels!["com.docker.compose.depends_on"],
      "web:service_started:true",
    );
    const watcherBefore = await inspectContainer(t.deps.docker, `${project}-watcher-1`);
    assert.equal(
      watcherBefore.Config.Labels!["com.docker.compose.depends_on"],
      "web:service_started:true",
    );
    // localhost in the sidecar is web's network stack.
    await eventually(
      t.deps.docker,
      `${project}-sidecar-1`,
      ["wget", "-q", "-O-", "http://127.0.0.1/"],
      /first/,
    );

    // What "Open" gets back, deployed again with a change to web: web is replaced, and the
    // sidecar, pinned to the old web's id, is recreated into the new one's stack.
    const opened = await t.request("GET", `/api/containers/compose/stacks/${project}`, {
      cookie: admin,
    });
    assert.equal(opened.status, 200);
    const files = await opened.json();
    assert.deepEqual(files.env_files, envFiles);
    const mode = (await Deno.stat(`${t.dir}/stacks/${project}/env_files.json`)).mode! & 0o777;
    assert.equal(mode, 0o600);
    const second = await deploy(t, admin, {
      yaml: files.yaml.replace("echo first", "echo second"),
      env_files: files.env_files,
    });
    assert.equal(second.last?.done, true, JSON.stringify(second.lines.slice(-3)));
    assert.deepEqual(
      (second.last!.result as { services: { service: string; action: string }[] }).services
        .map((s) => `${s.service}:${s.action}`),
      ["web:recreated", "sidecar:recreated", "watcher:restarted"],
    );
    const watcher = await inspectContainer(t.deps.docker, `${project}-watcher-1`);
    assert.equal(watcher.Id, watcherBefore.Id, "restarted, not recreated");
    assert.notEqual(watcher.State.StartedAt, watcherBefore.State.StartedAt);
    await eventually(
      t.deps.docker,
      `${project}-sidecar-1`,
      ["wget", "-q", "-O-", "http://127.0.0.1/"],
      /second/,
    );
    // Without its env_file the stored file does not deploy: nothing is guessed.
    const bare = await t.request("POST", "/api/containers/compose/deploy", {
      cookie: admin,
      json: { yaml: files.yaml },
    });
    assert.equal(bare.status, 400);

    const rows = auditRows(t, "compose.deploy");
    assert.deepEqual(rows.map((row) => [row.target, row.exit_code]), [
      [project, 0],
      [project, 0],
      ["", 400], // a file that does not parse names no project (none was asked for)
    ]);
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("a failed deploy keeps per-service results in its audit row; pid, devices and create_host_path: false reach the Engine", async () => {
  const t = await createTestApp();
  const project = `cmfail${crypto.randomUUID().slice(0, 8)}`;
  const missing = `/tmp/cm-compose-missing-${crypto.randomUUID()}`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("compose-admin-fail", "admin"));
    const yaml = `
services:
  a:
    image: ${TEST_IMAGE}
    command: sleep 3600
    pid: host
    devices:
      - "/dev/null:/dev/cm-null:r"
  b:
    image: ${TEST_IMAGE}
    command: sleep 3600
    depends_on: [a]
    volumes:
      - type: bind
        source: ${missing}
        target: /x
        bind:
          create_host_path: false
  c:
    image: ${TEST_IMAGE}
    command: sleep 3600
    depends_on: [b]
`;
    const result = await deploy(t, admin, { yaml, project, acknowledge_risks: true });
    assert.equal(result.last?.done, false, JSON.stringify(result.lines.slice(-3)));
    const error = String(result.last?.error);
    assert.match(error, /^Service "b": .*does not exist/);
    // What was done, what was not reached, and what exists now, per service.
    assert.match(
      error,
      new RegExp(
        `\\[done before the failure: a created; not reached: c; now: a: ${project}-a-1 running, b: no container, c: no container\\]$`,
      ),
    );
    await assert.rejects(Deno.stat(missing), Deno.errors.NotFound, "the host path was created");

    const [row] = auditRows(t, "compose.deploy");
    assert.equal(row.target, project);
    assert.notEqual(row.exit_code, 0);
    assert.equal(row.stderr, error);

    const a = await hostConfig(t.deps.docker, `${project}-a-1`);
    assert.equal(a.PidMode, "host");
    assert.deepEqual(a.Devices, [
      { PathOnHost: "/dev/null", PathInContainer: "/dev/cm-null", CgroupPermissions: "r" },
    ]);
    assert.deepEqual(
      (await projectContainers(t.deps.docker, project)).map((c) => c.Names[0].slice(1)),
      [`${project}-a-1`],
    );
  } finally {
    await cleanupProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("preview: volumes are found by name (external, unlabelled) and a digest-pinned image present is local", async () => {
  const t = await createTestApp();
  const project = `cmpv${crypto.randomUUID().slice(0, 8)}`;
  const registry = await startRegistry();
  const repo = `${registry.address}/${project}/busybox`;
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("compose-admin-pv", "admin"));
    // A tag kept locally, pushed, so the image has a RepoDigest.
    const { digest } = await pushImage(t.deps.docker, TEST_IMAGE, registry, `${project}/busybox`);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    for (const name of [`${project}-ext`, `${project}_plain`]) {
      await t.deps.docker.json("POST", "/volumes/create", { json: { Name: name } });
    }
    const yaml = `
services:
  pinned:
    image: ${repo}@${digest}
    volumes: [ext:/e, plain:/p, fresh:/f]
  absent:
    image: ${registry.address}/${project}/absent:1
volumes:
  ext:
    external: true
    name: ${project}-ext
  plain: {}
  fresh: {}
`;
    const response = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml, project },
    });
    assert.equal(response.status, 200, await response.clone().text());
    const plan = await response.json();
    assert.deepEqual(
      plan.volumes.map((v: { key: string; exists: boolean }) => `${v.key}:${v.exists}`),
      ["ext:true", "plain:true", "fresh:false"],
    );
    assert.deepEqual(
      plan.services.map((s: { name: string; image_local: boolean }) =>
        `${s.name}:${s.image_local}`
      ),
      ["absent:false", "pinned:true"],
    );
  } finally {
    await t.deps.docker.json("DELETE", `/images/${repo}:latest`).catch(() => {});
    for (const name of [`${project}-ext`, `${project}_plain`]) {
      await t.deps.docker.json("DELETE", `/volumes/${name}`).catch(() => {});
    }
    await registry.stop();
    await t.close();
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
      // (A file with no services: key is accepted since issue 11, as the CLI accepts it.)
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
