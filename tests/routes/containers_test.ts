import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import {
  ensureTestImage,
  makeTestContainer,
  readEvents,
  removeContainersNamed,
  removeTestContainers,
  removeVolumesNamed,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { freePort } from "../fixtures/registry.ts";
import { createContainer, listContainers, startContainer } from "../../lib/docker/containers.ts";
import { volumeExists } from "../../lib/docker/volumes.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function setup() {
  const t = await createTestApp();
  await ensureTestImage(t.deps.docker);
  const admin = t.cookieFor(await t.addUser("ctr-admin", "admin"));
  const viewer = t.cookieFor(await t.addUser("ctr-viewer", "viewer"));
  return { t, admin, viewer, prefix: uniquePrefix() };
}

async function cleanup(t: TestApp, prefix: string) {
  await removeContainersNamed(t.deps.docker, prefix);
  await removeTestContainers(t.deps.docker, prefix);
  await removeVolumesNamed(t.deps.docker, prefix);
  await t.close();
}

async function untilAnswers(url: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const response = await fetch(url);
      return await response.text();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

Deno.test("run with env, a published port, a named volume, a bind mount, a restart policy and a command", async () => {
  const { t, admin, prefix } = await setup();
  const bindDir = await Deno.makeTempDir({ prefix: "cm-bind-" });
  try {
    await Deno.writeTextFile(`${bindDir}/index.html`, "served from the bind mount\n");
    const port = freePort();
    const name = `${prefix}web`;
    const response = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: {
        image: TEST_IMAGE,
        name,
        env: ["GREETING=hello world", "SECRET_TOKEN=s3cr3t-value"],
        ports: [`127.0.0.1:${port}:80`],
        volumes: [`${prefix}data:/data`, `${bindDir}:/www:ro`],
        restart_policy: "on-failure:3",
        cmd: ["httpd", "-f", "-p", "80", "-h", "/www"],
      },
    });
    assert.equal(response.status, 201, await response.clone().text());
    const created = await response.json();
    assert.equal(created.name, name);
    assert.equal(created.state, "running");

    assert.equal(await untilAnswers(`http://127.0.0.1:${port}/`), "served from the bind mount\n");

    const inspect =
      (await (await t.request("GET", `/api/containers/${name}`, { cookie: admin })).json())
        .container;
    assert.equal(inspect.id, created.id);
    assert.deepEqual(inspect.cmd, ["httpd", "-f", "-p", "80", "-h", "/www"]);
    assert.ok(
      inspect.env.some((e: { key: string; value: string }) =>
        e.key === "GREETING" && e.value === "hello world"
      ),
    );
    assert.deepEqual(inspect.restart_policy, { name: "on-failure", max_retries: 3 });
    assert.deepEqual(inspect.ports, [{
      host_ip: "127.0.0.1",
      host_port: port,
      container_port: 80,
      proto: "tcp",
    }]);
    const mounts = Object.fromEntries(
      inspect.mounts.map((m: { destination: string }) => [m.destination, m]),
    );
    assert.equal(mounts["/data"].type, "volume");
    assert.equal(mounts["/data"].name, `${prefix}data`);
    assert.equal(mounts["/www"].type, "bind");
    assert.equal(mounts["/www"].source, bindDir);
    assert.equal(mounts["/www"].read_only, true);

    const list =
      (await (await t.request("GET", "/api/containers", { cookie: admin })).json()).containers;
    const row = list.find((c: { id: string }) => c.id === created.id);
    // The managed label marks another system's containers: the panel marks its own apart.
    assert.equal(row.managed, false);
    assert.equal(row.panel_created, true);
    assert.equal(row.labels["io.container-manager.created-by"], "panel");
    assert.equal(row.labels["io.quazzar.managed"], undefined);
    assert.equal(row.state, "running");
    assert.deepEqual(row.ports, [{
      host_ip: "127.0.0.1",
      host_port: port,
      container_port: 80,
      proto: "tcp",
    }]);

    const audit = t.deps.db.prepare("SELECT params FROM sysctl_audit WHERE action = 'docker.run'")
      .get() as {
        params: string;
      };
    assert.ok(audit.params.includes("SECRET_TOKEN=[redacted]"));
    assert.ok(!audit.params.includes("s3cr3t-value"));

    const removed = await t.request("DELETE", `/api/containers/${name}?volumes=1`, {
      cookie: admin,
    });
    assert.equal(removed.status, 200);
    assert.equal(
      (await t.request("GET", `/api/containers/${name}`, { cookie: admin })).status,
      404,
    );
  } finally {
    await cleanup(t, prefix);
    await Deno.remove(bindDir, { recursive: true });
  }
});

Deno.test("bad run input gets 400 naming the field, and nothing is created", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const run = (json: Record<string, unknown>) =>
      t.request("POST", "/api/containers/run", { cookie: admin, json });
    const base = { image: TEST_IMAGE, cmd: ["sleep", "30"] };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, name: `${prefix}a`, ports: ["8080:80", "99999:80"] }, 400, "ports[1]"],
      [{ ...base, name: `${prefix}b`, restart_policy: "sometimes" }, 400, "restart_policy"],
      [{ name: `${prefix}c`, cmd: ["true"] }, 400, "image"],
      [{ ...base, name: "bad/name" }, 400, "name"],
      [{ ...base, name: `${prefix}d`, env: ["OK=1", "NOEQUALS"] }, 400, "env[1]"],
      [{ ...base, name: `${prefix}e`, image: "cm-test/not-here:1" }, 404, "image"],
    ];
    for (const [json, status, field] of cases) {
      const response = await run(json);
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(body.field, field, JSON.stringify(body));
      assert.match(body.error, /\w/);
    }
    const first = await run({ ...base, name: `${prefix}dup` });
    assert.equal(first.status, 201);
    const dup = await run({ ...base, name: `${prefix}dup` });
    assert.equal(dup.status, 409);
    assert.equal((await dup.json()).field, "name");

    const ours = await listContainers(t.deps.docker, { all: true, filters: { name: [prefix] } });
    assert.deepEqual(
      ours.map((c) => c.Names[0]),
      [`/${prefix}dup`],
      "only the one good container exists",
    );
    const failed = t.deps.db.prepare(
      "SELECT COUNT(*) AS n FROM sysctl_audit WHERE action = 'docker.run' AND exit_code != 0",
    )
      .get() as { n: number };
    assert.equal(failed.n, cases.length + 1, "every refused run is audited");
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("a container that cannot start (its port is taken) is removed again", async () => {
  const { t, admin, prefix } = await setup();
  const port = freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    await t.deps.docker.json("POST", "/volumes/create", { json: { Name: `${prefix}kept` } });
    const response = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: {
        image: TEST_IMAGE,
        name: `${prefix}blocked`,
        ports: [`127.0.0.1:${port}:80`],
        // A named volume the run would create: it goes too. One that existed stays.
        volumes: [`${prefix}made:/made`, `${prefix}kept:/kept`],
        cmd: ["sleep", "30"],
      },
    });
    assert.ok(response.status >= 400, `status ${response.status}`);
    assert.match((await response.json()).error, /port|address|bind/i);
    const left = await listContainers(t.deps.docker, {
      all: true,
      filters: { name: [`${prefix}blocked`] },
    });
    assert.equal(left.length, 0, "no half-made container is left");
    assert.equal(await volumeExists(t.deps.docker, `${prefix}made`), false, "nor its new volume");
    assert.equal(await volumeExists(t.deps.docker, `${prefix}kept`), true);
  } finally {
    blocker.close();
    await cleanup(t, prefix);
  }
});

Deno.test("start, stop and restart return the new state; viewers are refused; env values are admin-only", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    const { Id } = await createContainer(t.deps.docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Env: ["API_KEY=topsecret"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}life`);
    const post = (path: string, cookie: string) => t.request("POST", path, { cookie });
    const started = await post(`/api/containers/${prefix}life/start`, admin);
    assert.deepEqual(await started.json(), { id: Id, name: `${prefix}life`, state: "running" });
    // Starting a running container is not an error (the Engine answers 304).
    const again = await post(`/api/containers/${Id}/start`, admin);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).state, "running");
    const restarted = await post(`/api/containers/${Id}/restart`, admin);
    assert.equal((await restarted.json()).state, "running");
    const stopped = await post(`/api/containers/${Id.slice(0, 12)}/stop`, admin);
    assert.equal((await stopped.json()).state, "exited");
    const stoppedAgain = await post(`/api/containers/${Id}/stop`, admin);
    assert.equal(stoppedAgain.status, 200);
    assert.equal((await stoppedAgain.json()).state, "exited");

    assert.equal((await post(`/api/containers/${Id}/start`, viewer)).status, 403);
    assert.equal(
      (await t.request("DELETE", `/api/containers/${Id}`, { cookie: viewer })).status,
      403,
    );

    const asViewer =
      (await (await t.request("GET", `/api/containers/${Id}`, { cookie: viewer })).json())
        .container;
    assert.deepEqual(asViewer.env.find((e: { key: string }) => e.key === "API_KEY"), {
      key: "API_KEY",
      value: null,
    });
    const asAdmin =
      (await (await t.request("GET", `/api/containers/${Id}`, { cookie: admin })).json()).container;
    assert.deepEqual(asAdmin.env.find((e: { key: string }) => e.key === "API_KEY"), {
      key: "API_KEY",
      value: "topsecret",
    });

    const bad = await t.request("GET", "/api/containers/..%2Fx", { cookie: admin });
    assert.equal(bad.status, 400);
    const missing = await post("/api/containers/no-such-container-here/start", admin);
    assert.equal(missing.status, 404);
    assert.match((await missing.json()).error, /No such container/);
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("logs come back with stdout and stderr marked, and follow over SSE", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const { Id } = await createContainer(t.deps.docker, {
      Image: TEST_IMAGE,
      Cmd: [
        "sh",
        "-c",
        "echo out-1; echo err-1 >&2; echo out-2; sleep 1; echo late-line; sleep 300",
      ],
      Labels: { [TEST_LABEL]: prefix },
    });
    await startContainer(t.deps.docker, Id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const response = await t.request("GET", `/api/containers/${Id}/logs?tail=100&timestamps=1`, {
      cookie: admin,
    });
    const { lines } = await response.json();
    const plain = lines.map((line: { stream: string; text: string }) => [line.stream, line.text]);
    assert.deepEqual(plain.filter(([s]: string[]) => s === "stdout"), [["stdout", "out-1"], [
      "stdout",
      "out-2",
    ]]);
    assert.deepEqual(plain.filter(([s]: string[]) => s === "stderr"), [["stderr", "err-1"]]);
    assert.ok(lines.every((line: { ts: string }) => /^\d{4}-\d\d-\d\dT/.test(line.ts)));

    const follow = await t.request("GET", `/api/containers/${Id}/logs?tail=0&follow=1`, {
      cookie: admin,
    });
    assert.equal(follow.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const events = await readEvents(
      follow,
      (events) => events.some((e) => (e.data as { text: string }).text === "late-line"),
    );
    assert.deepEqual(events.at(-1), {
      event: "line",
      data: { stream: "stdout", text: "late-line", ts: null },
    });
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("the events stream reports a container started from the docker CLI within 2 s", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const response = await t.request("GET", "/api/containers/events", { cookie: admin });
    assert.equal(response.status, 200);
    const name = `${prefix}cli`;
    // `docker run -d` returns once the Engine has started the container: the event must
    // reach this stream no later than 2 s after that.
    const cli = new Deno.Command("docker", {
      args: [
        "run",
        "-d",
        "--label",
        `${TEST_LABEL}=${prefix}`,
        "--name",
        name,
        TEST_IMAGE,
        "sleep",
        "60",
      ],
      stdout: "null",
      stderr: "piped",
    }).output().then((output) => ({ output, finishedAt: Date.now() }));
    let receivedAt = 0;
    const events = await readEvents(
      response,
      (events) => {
        const seen = events.some((e) => {
          const data = e.data as { action: string; container: { name: string } | null };
          return e.event === "container" && data.action === "start" &&
            data.container?.name === name;
        });
        if (seen && !receivedAt) receivedAt = Date.now();
        return seen;
      },
      15_000,
    );
    const { output, finishedAt } = await cli;
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const event = events.find((e) => (e.data as { action: string }).action === "start")!;
    assert.equal((event.data as { container: { state: string } }).container.state, "running");
    const lag = receivedAt - finishedAt;
    assert.ok(lag < 2_000, `the start event came ${lag} ms after docker run returned`);
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("per-container and multiplexed stats streams deliver samples", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const { Id } = await createContainer(t.deps.docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    });
    await startContainer(t.deps.docker, Id);
    const one = await t.request("GET", `/api/docker/containers/${Id}/stats/stream`, {
      cookie: admin,
    });
    // The stream opens with the hub's history (empty here: nobody watched before).
    const events = await readEvents(
      one,
      (events) => events.filter((e) => e.event === "stats").length >= 2,
      15_000,
    );
    assert.equal(events[0].event, "history");
    const sample = events.find((e) => e.event === "stats")!.data as Record<string, number | string>;
    for (
      const key of [
        "cpu_percent",
        "mem_bytes",
        "mem_limit",
        "mem_percent",
        "net_rx",
        "net_tx",
        "blk_read",
        "blk_write",
        "pids",
      ]
    ) {
      assert.equal(typeof sample[key], "number", key);
    }
    assert.ok((sample.mem_bytes as number) > 0);
    const all = await t.request("GET", "/api/containers/stats/stream", { cookie: admin });
    await readEvents(
      all,
      (events) => events.some((e) => (e.data as { id: string }).id === Id),
      15_000,
    );
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("remove keeps a container's anonymous volume unless ?volumes=1", async () => {
  const { t, admin, prefix } = await setup();
  const docker = t.deps.docker;
  const anonymousVolumeOf = async (id: string) => {
    const info = await docker.json<{ Mounts: { Type: string; Name?: string }[] }>(
      "GET",
      `/containers/${id}/json`,
    );
    return info.Mounts.find((mount) => mount.Type === "volume")!.Name!;
  };
  const make = async (name: string) =>
    (await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Volumes: { "/scratch": {} },
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}${name}`)).Id;
  try {
    const kept = await make("keeps");
    const keptVolume = await anonymousVolumeOf(kept);
    const plain = await t.request("DELETE", `/api/containers/${kept}`, { cookie: admin });
    assert.equal(plain.status, 200, await plain.clone().text());
    assert.equal(await volumeExists(docker, keptVolume), true, "kept without ?volumes=1");
    await docker.json("DELETE", `/volumes/${keptVolume}`);

    const gone = await make("drops");
    const goneVolume = await anonymousVolumeOf(gone);
    const withVolumes = await t.request("DELETE", `/api/containers/${gone}?volumes=1`, {
      cookie: admin,
    });
    assert.equal(withVolumes.status, 200, await withVolumes.clone().text());
    assert.equal(await volumeExists(docker, goneVolume), false, "removed with ?volumes=1");

    const bad = await t.request("DELETE", `/api/containers/${gone}?volumes=yes`, { cookie: admin });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).field, "volumes");
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("run with the wider fields: two networks with aliases, labels, entrypoint, user, limits, caps, logging, healthcheck", async () => {
  const { t, admin, prefix } = await setup();
  const docker = t.deps.docker;
  const nets = [`${prefix}front`, `${prefix}back`];
  try {
    for (const net of nets) {
      await docker.json("POST", "/networks/create", { json: { Name: net, Driver: "bridge" } });
    }
    const name = `${prefix}wide`;
    const response = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: {
        image: TEST_IMAGE,
        name,
        networks: [{ name: nets[0], aliases: ["web"] }, { name: nets[1], aliases: ["api"] }],
        labels: { "com.example.team": "ops", [TEST_LABEL]: prefix },
        entrypoint: ["sh", "-c"],
        cmd: ["trap 'exit 0' TERM; while true; do sleep 0.2; done"],
        working_dir: "/tmp",
        user: "nobody",
        hostname: "wide-host",
        memory: "64m",
        cpus: 0.5,
        cap_add: ["NET_ADMIN"],
        cap_drop: ["MKNOD"],
        log_driver: "json-file",
        log_options: { "max-size": "1m" },
        healthcheck: { test: "true", interval: "2s", retries: 2 },
      },
    });
    assert.equal(response.status, 201, await response.clone().text());
    const info = await docker.json<Record<string, Record<string, unknown>>>(
      "GET",
      `/containers/${name}/json`,
    );
    assert.deepEqual(info.Config.Entrypoint, ["sh", "-c"]);
    assert.equal(info.Config.User, "nobody");
    assert.equal(info.Config.WorkingDir, "/tmp");
    assert.equal(info.Config.Hostname, "wide-host");
    assert.equal((info.Config.Labels as Record<string, string>)["com.example.team"], "ops");
    assert.deepEqual((info.Config.Healthcheck as { Test: string[] }).Test, ["CMD-SHELL", "true"]);
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.NanoCpus, 5e8);
    assert.deepEqual(info.HostConfig.CapAdd, ["NET_ADMIN"]);
    assert.deepEqual(info.HostConfig.LogConfig, {
      Type: "json-file",
      Config: { "max-size": "1m" },
    });
    const networks = info.NetworkSettings.Networks as Record<string, { Aliases: string[] }>;
    assert.deepEqual(Object.keys(networks).sort(), [...nets].sort());
    assert.ok(networks[nets[0]].Aliases.includes("web"));
    assert.ok(networks[nets[1]].Aliases.includes("api"));

    // An unknown second network: a 400 naming it, and nothing left behind.
    const bad = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: { image: TEST_IMAGE, name: `${prefix}badnet`, networks: [nets[0], `${prefix}nope`] },
    });
    const badBody = await bad.json();
    assert.equal(bad.status, 400, JSON.stringify(badBody));
    assert.equal(badBody.field, "networks[1]");
    const privileged = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: { image: TEST_IMAGE, name: `${prefix}priv`, privileged: true },
    });
    assert.equal(privileged.status, 400);
    assert.equal((await privileged.json()).field, "acknowledge_risks");
    const ours = await listContainers(docker, { all: true, filters: { name: [prefix] } });
    assert.deepEqual(ours.map((c) => c.Names[0]), [`/${name}`]);

    const taken = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: { image: TEST_IMAGE, name },
    });
    assert.equal(taken.status, 409);
    const takenBody = await taken.json();
    assert.equal(takenBody.error, `The name "${name}" is already in use by container "${name}"`);
  } finally {
    await removeContainersNamed(docker, prefix);
    for (const net of nets) await docker.json("DELETE", `/networks/${net}`).catch(() => {});
    await cleanup(t, prefix);
  }
});

Deno.test("a container carrying the managed label is reported managed, not the panel's; a duplicate source keeps the label's key", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const id = await makeTestContainer(t.deps.docker, prefix, "owned", {
      Cmd: ["sleep", "60"],
      Labels: { "io.quazzar.managed": "true" },
    }, false);
    const list =
      (await (await t.request("GET", "/api/containers", { cookie: admin })).json()).containers;
    const row = list.find((c: { id: string }) => c.id === id);
    assert.equal(row.managed, true);
    assert.equal(row.panel_created, false);
    const { container } = await (await t.request("GET", `/api/containers/${id}`, { cookie: admin }))
      .json();
    assert.equal(container.managed_label, "io.quazzar.managed");
    assert.equal(container.panel_created, false);
  } finally {
    await cleanup(t, prefix);
  }
});
