/**
 * Container operations against the real Engine: pause/resume, kill with a signal, rename,
 * `docker update` (PATCH), recreate, bulk actions, top and the raw inspect, with their
 * refusals. Each operation is a dispatcher verb: admin-only, one audit row per container.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import {
  ensureTestImage,
  makeTestContainer,
  readEvents,
  removeContainersNamed,
  removeTestContainers,
  removeVolumesNamed,
  TEST_IMAGE,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";
import type { DockerClient } from "../../lib/docker/client.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function setup() {
  const t = await createTestApp();
  await ensureTestImage(t.deps.docker);
  const admin = t.cookieFor(await t.addUser("ops-admin", "admin"));
  const viewer = t.cookieFor(await t.addUser("ops-viewer", "viewer"));
  return { t, admin, viewer, prefix: uniquePrefix("cmops") };
}

async function cleanup(t: TestApp, prefix: string) {
  await removeContainersNamed(t.deps.docker, prefix);
  await removeTestContainers(t.deps.docker, prefix);
  await removeVolumesNamed(t.deps.docker, prefix);
  await t.close();
}

/** A container that stops at once on SIGTERM (busybox sleep as PID 1 would not). */
const QUICK_STOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

async function json(response: Response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`Not JSON (${response.status}): ${text.slice(0, 300)}`);
  }
}

Deno.test("pause and resume, each refused in the wrong state with the container's name", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    const name = `${prefix}pause`;
    const id = await makeTestContainer(t.deps.docker, prefix, "pause", { Cmd: QUICK_STOP });

    const refused = await t.request("POST", `/api/containers/${name}/pause`, { cookie: viewer });
    assert.equal(refused.status, 403);

    const paused = await t.request("POST", `/api/containers/${name}/pause`, { cookie: admin });
    assert.equal(paused.status, 200);
    assert.equal((await json(paused)).state, "paused");

    const again = await t.request("POST", `/api/containers/${name}/pause`, { cookie: admin });
    assert.equal(again.status, 409);
    const againBody = await json(again);
    assert.match(againBody.error, new RegExp(`"${name}" is already paused`));
    assert.ok(!againBody.error.includes(id), "the message names the container, not its id");

    const resumed = await t.request("POST", `/api/containers/${name}/unpause`, { cookie: admin });
    assert.equal((await json(resumed)).state, "running");
    const notPaused = await t.request("POST", `/api/containers/${name}/unpause`, { cookie: admin });
    assert.equal(notPaused.status, 409);
    assert.match((await json(notPaused)).error, new RegExp(`"${name}" is not paused`));

    const rows = auditRows(t.deps.db).filter((row) => row.target === name);
    assert.deepEqual(
      rows.map((row) => [row.action, row.exit_code]),
      [
        ["docker.pause", 403],
        ["docker.pause", 0],
        ["docker.pause", 409],
        ["docker.unpause", 0],
        ["docker.unpause", 409],
      ],
    );
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("kill sends the chosen signal; bad signals, unknown fields and stopped containers are refused", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const name = `${prefix}kill`;
    await makeTestContainer(t.deps.docker, prefix, "kill", {
      Cmd: ["sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.2; done"],
    });

    for (
      const [body, field] of [
        [{ signal: "SIGNOPE" }, "signal"],
        [{ signal: 99 }, "signal"],
        [{ signal: "TERM; rm -rf /" }, "signal"],
        [{ sig: "TERM" }, "sig"],
      ] as const
    ) {
      const response = await t.request("POST", `/api/containers/${name}/kill`, {
        cookie: admin,
        json: body,
      });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((await json(response)).field, field);
    }

    const killed = await t.request("POST", `/api/containers/${name}/kill`, {
      cookie: admin,
      json: { signal: "usr1" },
    });
    assert.equal(killed.status, 200);
    assert.equal((await json(killed)).signal, "SIGUSR1");
    const deadline = Date.now() + 10_000;
    let info = await inspectContainer(t.deps.docker, name);
    while (info.State.Running && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      info = await inspectContainer(t.deps.docker, name);
    }
    assert.equal(info.State.ExitCode, 7, "the trap for SIGUSR1 ran");

    const stopped = await t.request("POST", `/api/containers/${name}/kill`, { cookie: admin });
    assert.equal(stopped.status, 409);
    assert.match((await json(stopped)).error, new RegExp(`"${name}" is not running`));

    const missing = await t.request("POST", `/api/containers/${prefix}absent/kill`, {
      cookie: admin,
    });
    assert.equal(missing.status, 404);
    assert.match((await json(missing)).error, new RegExp(`${prefix}absent`));
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("rename: the new name is checked and a name in use is a 409 naming its holder", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    await makeTestContainer(t.deps.docker, prefix, "one", { Cmd: QUICK_STOP }, false);
    await makeTestContainer(t.deps.docker, prefix, "two", { Cmd: QUICK_STOP }, false);

    const taken = await t.request("POST", `/api/containers/${prefix}one/rename`, {
      cookie: admin,
      json: { name: `${prefix}two` },
    });
    assert.equal(taken.status, 409);
    const takenBody = await json(taken);
    assert.equal(takenBody.field, "name");
    assert.equal(
      takenBody.error,
      `The name "${prefix}two" is already in use by container "${prefix}two"`,
    );

    for (const name of ["", "a", "has space", "../x", `${"x".repeat(129)}`, 5]) {
      const bad = await t.request("POST", `/api/containers/${prefix}one/rename`, {
        cookie: admin,
        json: { name },
      });
      assert.equal(bad.status, 400, String(name));
      assert.equal((await json(bad)).field, "name");
    }
    const extra = await t.request("POST", `/api/containers/${prefix}one/rename`, {
      cookie: admin,
      json: { name: `${prefix}three`, force: true },
    });
    assert.equal(extra.status, 400);
    assert.equal((await json(extra)).field, "force");

    const viewerTry = await t.request("POST", `/api/containers/${prefix}one/rename`, {
      cookie: viewer,
      json: { name: `${prefix}three` },
    });
    assert.equal(viewerTry.status, 403);

    const renamed = await t.request("POST", `/api/containers/${prefix}one/rename`, {
      cookie: admin,
      json: { name: `${prefix}three` },
    });
    assert.equal(renamed.status, 200);
    const result = await json(renamed);
    assert.equal(result.name, `${prefix}three`);
    assert.equal(result.previous_name, `${prefix}one`);
    assert.equal((await inspectContainer(t.deps.docker, `${prefix}three`)).Name, `/${prefix}three`);
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("PATCH updates restart policy and limits; bad values name their field", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    const name = `${prefix}limits`;
    await makeTestContainer(t.deps.docker, prefix, "limits", {
      Cmd: QUICK_STOP,
      HostConfig: { Memory: 64 * 1024 * 1024 },
    });
    const updated = await t.request("PATCH", `/api/containers/${name}`, {
      cookie: admin,
      json: {
        restart_policy: "on-failure:5",
        memory: "256m",
        memory_reservation: "32m",
        cpus: 0.5,
        pids_limit: 100,
      },
    });
    assert.equal(updated.status, 200, await updated.clone().text());
    const info = await inspectContainer(t.deps.docker, name);
    assert.deepEqual(info.HostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 5 });
    assert.equal(info.HostConfig.Memory, 256 * 1024 * 1024);
    assert.equal(info.HostConfig.MemoryReservation, 32 * 1024 * 1024);
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info.HostConfig.PidsLimit, 100);

    const view = await json(await t.request("GET", `/api/containers/${name}`, { cookie: admin }));
    assert.deepEqual(view.container.limits, {
      memory: 256 * 1024 * 1024,
      memory_reservation: 32 * 1024 * 1024,
      cpus: 0.5,
      pids: 100,
    });

    for (
      const [body, field] of [
        [{ memory: "lots" }, "memory"],
        [{ memory: "1m" }, "memory"],
        [{ cpus: 0 }, "cpus"],
        [{ cpus: "two" }, "cpus"],
        [{ pids_limit: 1.5 }, "pids_limit"],
        [{ restart_policy: "sometimes" }, "restart_policy"],
        [{ memory: "64m", memory_reservation: "128m" }, "memory_reservation"],
        [{ privileged: true }, "privileged"],
        [{}, undefined],
      ] as const
    ) {
      const response = await t.request("PATCH", `/api/containers/${name}`, {
        cookie: admin,
        json: body,
      });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((await json(response)).field, field, JSON.stringify(body));
    }
    const viewerTry = await t.request("PATCH", `/api/containers/${name}`, {
      cookie: viewer,
      json: { cpus: 1 },
    });
    assert.equal(viewerTry.status, 403);
    const rows = auditRows(t.deps.db).filter((row) => row.action === "docker.container.update");
    assert.equal(rows.length, 11, "every attempt is audited, refusals included");
  } finally {
    await cleanup(t, prefix);
  }
});

async function createNetwork(docker: DockerClient, name: string) {
  await docker.json("POST", "/networks/create", { json: { Name: name, Driver: "bridge" } });
}

/** The inspect without what a new container necessarily has anew. */
function comparable(info: Awaited<ReturnType<typeof inspectContainer>>) {
  const raw = structuredClone(info) as unknown as Record<string, Record<string, unknown>>;
  const shortId = info.Id.slice(0, 12);
  for (
    const key of [
      "Id",
      "Created",
      "State",
      "Path",
      "ResolvConfPath",
      "HostnamePath",
      "HostsPath",
      "LogPath",
      "Name",
      "RestartCount",
      "GraphDriver",
      "SizeRw",
      "SizeRootFs",
    ]
  ) delete raw[key];
  if (raw.Config.Hostname === shortId) delete raw.Config.Hostname;
  const networks = raw.NetworkSettings.Networks as Record<string, Record<string, unknown>>;
  const settings: Record<string, unknown> = {};
  for (const [name, endpoint] of Object.entries(networks)) {
    settings[name] = {
      Aliases: ((endpoint.Aliases as string[] | null) ?? []).filter((alias) => alias !== shortId),
      IPAMConfig: endpoint.IPAMConfig,
      Links: endpoint.Links,
      DriverOpts: endpoint.DriverOpts,
    };
  }
  delete raw.NetworkSettings;
  // Mounts: the same volumes at the same places.
  raw.Mounts = (info.Mounts as { Name?: string; Destination: string; RW: boolean }[])
    .map((mount) => ({ name: mount.Name, destination: mount.Destination, rw: mount.RW }))
    .sort((a, b) => a.destination.localeCompare(b.destination)) as never;
  return { ...raw, networks: settings };
}

Deno.test("recreate keeps every configuration field (env, labels, limits, two networks, a volume, a healthcheck, a restart policy)", async () => {
  const { t, admin, prefix } = await setup();
  const docker = t.deps.docker;
  const nets = [`${prefix}front`, `${prefix}back`];
  try {
    for (const net of nets) await createNetwork(docker, net);
    const name = `${prefix}full`;
    const id = await makeTestContainer(docker, prefix, "full", {
      Cmd: QUICK_STOP,
      Env: ["MODE=production", "SECRET_KEY=abc"],
      Labels: { "com.example.team": "ops", "com.example.tier": "web" },
      WorkingDir: "/tmp",
      User: "nobody",
      Hostname: "fullhost",
      StopSignal: "SIGTERM",
      Healthcheck: {
        Test: ["CMD-SHELL", "true"],
        Interval: 5_000_000_000,
        Timeout: 2_000_000_000,
        Retries: 3,
        StartPeriod: 1_000_000_000,
      },
      HostConfig: {
        Binds: [`${prefix}data:/data`],
        RestartPolicy: { Name: "on-failure", MaximumRetryCount: 4 },
        Memory: 128 * 1024 * 1024,
        NanoCpus: 500_000_000,
        PidsLimit: 64,
        CapAdd: ["NET_ADMIN"],
        CapDrop: ["MKNOD"],
        NetworkMode: nets[0],
        LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "2" } },
      },
      NetworkingConfig: { EndpointsConfig: { [nets[0]]: { Aliases: ["web-front"] } } },
    }, false);
    await docker.json("POST", `/networks/${nets[1]}/connect`, {
      json: { Container: id, EndpointConfig: { Aliases: ["web-back", "api"] } },
    });
    await docker.json("POST", `/containers/${id}/start`);
    const before = await inspectContainer(docker, id);

    const response = await t.request("POST", `/api/containers/${name}/recreate`, {
      cookie: admin,
    });
    assert.equal(response.status, 200, await response.clone().text());
    const result = await json(response);
    assert.notEqual(result.id, id);
    assert.equal(result.name, name);
    assert.equal(result.state, "running");
    assert.equal(result.previous_id, id);
    const after = await inspectContainer(docker, name);
    assert.equal(after.Id, result.id);
    assert.deepEqual(comparable(after), comparable(before));
    assert.deepEqual(Object.keys(after.NetworkSettings.Networks).sort(), [...nets].sort());
    // The old container is gone, nothing is left under a temporary name.
    const leftovers = await docker.json<{ Names: string[] }[]>("GET", "/containers/json", {
      query: { all: 1, filters: JSON.stringify({ name: [`${prefix}full`] }) },
    });
    assert.deepEqual(leftovers.map((c) => c.Names[0]), [`/${name}`]);
    const rows = auditRows(t.deps.db).filter((row) => row.action === "docker.recreate");
    assert.equal(rows.length, 2, "a started row and a final row");
    assert.equal(rows[1].exit_code, 0);
  } finally {
    await removeContainersNamed(docker, prefix);
    for (const net of nets) await docker.json("DELETE", `/networks/${net}`).catch(() => {});
    await cleanup(t, prefix);
  }
});

Deno.test("a recreate that fails leaves the old container as it was (name, state), nothing half-made", async () => {
  const { t, admin, prefix } = await setup();
  const docker = t.deps.docker;
  const tag = `${prefix}img:latest`;
  try {
    const name = `${prefix}tagged`;
    const [repo, version] = tag.split(":");
    await docker.json("POST", `/images/${TEST_IMAGE}/tag`, { query: { repo, tag: version } });
    const id = await makeTestContainer(docker, prefix, "tagged", { Image: tag, Cmd: QUICK_STOP });

    const extra = await t.request("POST", `/api/containers/${name}/recreate`, {
      cookie: admin,
      json: { pull: true, force: true },
    });
    assert.equal(extra.status, 400);
    assert.equal((await json(extra)).field, "force");

    // The image the container names is gone (its tag removed): the create fails after the
    // old container was stopped and set aside.
    await docker.json("DELETE", `/images/${tag}`);
    const failed = await t.request("POST", `/api/containers/${name}/recreate`, { cookie: admin });
    assert.equal(failed.status, 404, await failed.clone().text());
    const failedBody = await json(failed);
    assert.match(failedBody.error, new RegExp(`Recreating container "${name}" failed`));
    assert.ok(!failedBody.error.includes(id), "names the container, not its id");
    const still = await inspectContainer(docker, id);
    assert.equal(still.Name, `/${name}`);
    assert.equal(still.State.Running, true, "the old container runs again");
    const all = await docker.json<{ Names: string[] }[]>("GET", "/containers/json", {
      query: { all: 1, filters: JSON.stringify({ name: [prefix] }) },
    });
    assert.equal(all.length, 1, "no half-made container is left");
  } finally {
    await docker.json("DELETE", `/images/${tag}`).catch(() => {});
    await cleanup(t, prefix);
  }
});

Deno.test("bulk stop of 20 containers: one request, 20 audit rows, each container's outcome", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    const names: string[] = [];
    for (let i = 0; i < 20; i++) {
      await makeTestContainer(t.deps.docker, prefix, `bulk${i}`, { Cmd: QUICK_STOP });
      names.push(`${prefix}bulk${i}`);
    }
    const refused = await t.request("POST", "/api/containers/bulk", {
      cookie: viewer,
      json: { action: "stop", ids: names },
    });
    assert.equal(refused.status, 403);

    for (
      const [body, field] of [
        [{ action: "explode", ids: names }, "action"],
        [{ action: "stop", ids: [] }, "ids"],
        [{ action: "stop", ids: [names[0], names[0]] }, "ids"],
        [{ action: "stop", ids: [names[0], "../x"] }, "ids[1]"],
        [{ action: "stop", ids: names, signal: "TERM" }, "signal"],
        [{ action: "stop", ids: names, force: true }, "force"],
      ] as const
    ) {
      const response = await t.request("POST", "/api/containers/bulk", {
        cookie: admin,
        json: body,
      });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal((await json(response)).field, field);
    }
    const before = auditRows(t.deps.db).filter((row) => row.action === "docker.stop").length;
    const response = await t.request("POST", "/api/containers/bulk", {
      cookie: admin,
      json: { action: "stop", ids: names },
    });
    assert.equal(response.status, 200);
    const result = await json(response);
    assert.equal(result.failed, 0);
    assert.deepEqual(result.results.map((r: { name: string }) => r.name), names);
    assert.ok(result.results.every((r: { state: string }) => r.state === "exited"));
    const stops = auditRows(t.deps.db).filter((row) =>
      row.action === "docker.stop" && !("phase" in row && row.phase)
    );
    const finals = stops.filter((row) => (row as { phase?: string | null }).phase !== "started");
    assert.equal(finals.length - before, 20, "one final audit row per container");
    assert.deepEqual(
      new Set(finals.slice(-20).map((row) => row.target)),
      new Set(names),
    );

    // Resume on containers that are not paused: each refusal is the container's, by name.
    const resume = await json(
      await t.request("POST", "/api/containers/bulk", {
        cookie: admin,
        json: { action: "resume", ids: names.slice(0, 2) },
      }),
    );
    assert.equal(resume.failed, 2);
    assert.match(resume.results[0].error, new RegExp(`"${names[0]}" is not paused`));
    assert.equal(resume.results[0].status, 409);

    const removed = await json(
      await t.request("POST", "/api/containers/bulk", {
        cookie: admin,
        json: { action: "remove", ids: names },
      }),
    );
    assert.equal(removed.failed, 0);
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("top lists a running container's processes; raw inspect masks env values for viewers", async () => {
  const { t, admin, viewer, prefix } = await setup();
  try {
    const name = `${prefix}top`;
    await makeTestContainer(t.deps.docker, prefix, "top", {
      Cmd: QUICK_STOP,
      Env: ["API_TOKEN=hunter2"],
    });
    const top = await json(
      await t.request("GET", `/api/containers/${name}/top`, { cookie: viewer }),
    );
    assert.ok(top.titles.includes("PID"));
    assert.ok(top.processes.some((row: string[]) => row.join(" ").includes("trap")));

    const asViewer = await json(
      await t.request("GET", `/api/containers/${name}/raw`, { cookie: viewer }),
    );
    assert.ok(asViewer.inspect.Config.Env.includes("API_TOKEN=••••••"));
    assert.ok(!JSON.stringify(asViewer).includes("hunter2"));
    const asAdmin = await json(
      await t.request("GET", `/api/containers/${name}/raw`, { cookie: admin }),
    );
    assert.ok(asAdmin.inspect.Config.Env.includes("API_TOKEN=hunter2"));

    await t.request("POST", `/api/containers/${name}/stop`, { cookie: admin });
    const stopped = await t.request("GET", `/api/containers/${name}/top`, { cookie: viewer });
    assert.equal(stopped.status, 409);
    assert.match((await json(stopped)).error, new RegExp(`"${name}" is not running`));
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("a crash-looping container reads restarting after each die, with its restart count", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const events = await t.request("GET", "/api/containers/events", { cookie: admin });
    const id = await makeTestContainer(t.deps.docker, prefix, "loop", {
      Cmd: ["sh", "-c", "exit 1"],
      HostConfig: { RestartPolicy: { Name: "always" } },
    });
    const seen = await readEvents(events, (list) =>
      list.filter((e) => {
        const data = e.data as { id: string; action: string };
        return data.id === id && data.action === "die";
      }).length >= 2, 30_000);
    const dies = seen.map((e) =>
      e.data as {
        id: string;
        action: string;
        container: { state: string; restart_count: number; exit_code: number };
      }
    ).filter((data) => data.id === id && data.action === "die");
    for (const die of dies) {
      assert.equal(die.container.state, "restarting");
      assert.equal(die.container.exit_code, 1);
    }
    // Each view is read when its event is handled, which under load can be after the next
    // restart: the count never goes back, and it is counting.
    assert.ok(dies[1].container.restart_count >= dies[0].container.restart_count);
    assert.ok(dies[1].container.restart_count >= 1);
    const list = await json(await t.request("GET", "/api/containers", { cookie: admin }));
    const row = list.containers.find((c: { id: string }) => c.id === id);
    assert.ok(row.restart_count >= 2);
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("logs take a since; a compose stack's logs come combined with each line's service", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const project = prefix.replace(/-$/, "").toLowerCase();
    for (const service of ["api", "db"]) {
      await makeTestContainer(t.deps.docker, prefix, service, {
        Cmd: ["sh", "-c", `echo hello from ${service}; echo second ${service}`],
        Labels: {
          "com.docker.compose.project": project,
          "com.docker.compose.service": service,
        },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stack = await json(
      await t.request("GET", `/api/containers/stack/${project}/logs?tail=50`, { cookie: admin }),
    );
    const texts = stack.lines.map((line: { service: string; text: string }) =>
      `${line.service}: ${line.text}`
    );
    for (const service of ["api", "db"]) {
      assert.ok(texts.includes(`${service}: hello from ${service}`), texts.join("\n"));
      assert.ok(texts.includes(`${service}: second ${service}`));
    }
    assert.ok(stack.lines.every((line: { ts: string }) => /^\d{4}-\d{2}-\d{2}T/.test(line.ts)));
    assert.equal(
      (await t.request("GET", "/api/containers/stack/no-such-project-x/logs", { cookie: admin }))
        .status,
      404,
    );

    const future = await json(
      await t.request("GET", `/api/containers/${prefix}api/logs?since=2999-01-01T00:00:00Z`, {
        cookie: admin,
      }),
    );
    assert.deepEqual(future.lines, []);
    const recent = await json(
      await t.request("GET", `/api/containers/${prefix}api/logs?since=1h`, { cookie: admin }),
    );
    assert.equal(recent.lines.length, 2);
    const bad = await t.request("GET", `/api/containers/${prefix}api/logs?since=yesterday`, {
      cookie: admin,
    });
    assert.equal(bad.status, 400);
    assert.equal((await json(bad)).field, "since");
  } finally {
    await cleanup(t, prefix);
  }
});

Deno.test("the per-container stats stream starts with the history the hub kept while watched", async () => {
  const { t, admin, prefix } = await setup();
  try {
    const id = await makeTestContainer(t.deps.docker, prefix, "stats", { Cmd: QUICK_STOP });
    // Someone watches (the table, say) for a few seconds: the hub keeps the samples.
    const unwatch = t.deps.stats.subscribe(id, () => {});
    let events;
    try {
      const deadline = Date.now() + 20_000;
      while (t.deps.stats.history(id).length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const stream = await t.request("GET", `/api/docker/containers/${id}/stats/stream`, {
        cookie: admin,
      });
      events = await readEvents(stream, (events) => events.length >= 2, 20_000);
    } finally {
      unwatch();
    }
    const [history, next] = events;
    assert.equal(next.event, "stats");
    assert.equal(history.event, "history");
    const samples = history.data as { id: string; time: number }[];
    assert.ok(samples.length >= 3, `history has ${samples.length} samples`);
    assert.ok(samples.every((sample) => sample.id === id));
    assert.ok(samples.every((s, i) => i === 0 || s.time >= samples[i - 1].time));
  } finally {
    await cleanup(t, prefix);
  }
});
