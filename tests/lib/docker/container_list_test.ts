import assert from "node:assert/strict";
import { createDockerClient, type DockerClient } from "../../../lib/docker/client.ts";
import { createContainerList } from "../../../lib/docker/container_list.ts";
import {
  inspectContainer,
  listContainers,
  pauseContainer,
  removeContainer,
  renameContainer,
  restartContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
} from "../../../lib/docker/containers.ts";
import { createEventsHub, type EngineEvent, type EventsHub } from "../../../lib/docker/events.ts";
import { connectNetwork, disconnectNetwork } from "../../../lib/docker/networks.ts";
import { removeImage } from "../../../lib/docker/images.ts";
import { type ContainerView, containerView, rowState } from "../../../lib/docker/views.ts";
import {
  dockerHost,
  makeTestContainer,
  TEST_IMAGE,
  TEST_LABEL,
  testEngine,
  testNetwork,
} from "../../fixtures/engine.ts";
import { startFakeEngine, withVersion } from "../../fixtures/fake_engine.ts";
import { waitUntil } from "../../fixtures/wait.ts";

/**
 * A client to the real Engine that counts whole list calls and notes every container read
 * alone (by an id filter or an inspect): other files' containers on the same Engine may be
 * read alone too, so tests look for their own ids.
 */
function countingClient() {
  const calls = { lists: 0, read: [] as string[] };
  const docker = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      const url = new URL(String(input));
      const inspected = /\/containers\/([0-9a-f]{64})\/json$/.exec(url.pathname);
      if (url.pathname.endsWith("/containers/json")) {
        const filters = url.searchParams.get("filters");
        if (filters) calls.read.push(...(JSON.parse(filters).id ?? []));
        else calls.lists++;
      } else if (inspected) calls.read.push(inspected[1]);
      return fetch(input, init);
    },
  });
  return { docker, calls };
}

/**
 * Resolves once the hub delivered a container event for `id` whose action starts with
 * `action` (subscribed after the kept list's own listener, so the list has seen it too).
 */
function eventSeen(events: EventsHub, id: string, action: string): Promise<void> {
  return new Promise((resolve) => {
    const release = events.subscribe((event) => {
      if (
        event.kind === "container" && event.event.id === id && event.event.action.startsWith(action)
      ) {
        release();
        resolve();
      }
    });
  });
}

function networkEventSeen(events: EventsHub, container: string, action: string): Promise<void> {
  return new Promise((resolve) => {
    const release = events.subscribeObjects((event) => {
      if (event.type === "network" && event.container === container && event.action === action) {
        release();
        resolve();
      }
    });
  });
}

const mine = (prefix: string) => (view: ContainerView) => view.labels[TEST_LABEL] === prefix;

/** Every field but the status text (which moves with the clock), by id. */
function comparable(views: ContainerView[]) {
  return views.map(({ status: _status, ...rest }) => rest).sort((a, b) => a.id < b.id ? -1 : 1);
}

/** The rows read straight from the Engine now: the list, then each container's inspect. */
async function freshViews(docker: DockerClient, prefix: string): Promise<ContainerView[]> {
  const summaries = await listContainers(docker, {
    filters: { label: [`${TEST_LABEL}=${prefix}`] },
  });
  return await Promise.all(summaries.map(async (summary) => {
    const info = await inspectContainer(docker, summary.Id).catch(() => undefined);
    return containerView(summary, "x", info ? rowState(info) : undefined);
  }));
}

async function assertSameAsEngine(
  kept: ContainerView[],
  docker: DockerClient,
  prefix: string,
  what: string,
) {
  const fresh = await freshViews(docker, prefix);
  assert.deepEqual(comparable(kept.filter(mine(prefix))), comparable(fresh), what);
  for (let i = 1; i < kept.length; i++) {
    assert.ok(kept[i - 1].created >= kept[i].created, `${what}: newest first`);
  }
}

Deno.test("kept list: the Engine's rows, and no Engine call while nothing changes", async () => {
  await using engine = await testEngine("keptlist");
  const up = await makeTestContainer(engine.docker, engine.prefix, "up", {
    Cmd: ["sleep", "600"],
  });
  const checked = await makeTestContainer(engine.docker, engine.prefix, "checked", {
    Cmd: ["sleep", "600"],
    Healthcheck: { Test: ["CMD", "true"], Interval: 500_000_000, StartPeriod: 0 },
  });
  const fresh = await makeTestContainer(engine.docker, engine.prefix, "new", {
    Cmd: ["true"],
  }, false);
  const done = await makeTestContainer(engine.docker, engine.prefix, "done", { Cmd: ["true"] });
  const { docker, calls } = countingClient();
  const events = createEventsHub(docker, { log: () => {} });
  const list = createContainerList(docker, events, "x");
  try {
    await list.views(); // subscribes; the stream was not up when it began, so nothing is kept
    await waitUntil(() => events.connected(), 5_000, "the events stream");
    // `done` may still be exiting and `checked` not yet healthy: wait, so the reads below see
    // a settled Engine.
    for (let settled = false; !settled;) {
      const summaries = await listContainers(engine.docker, {
        filters: { label: [`${TEST_LABEL}=${engine.prefix}`] },
      });
      settled = summaries.find((summary) => summary.Id === done)?.State === "exited" &&
        summaries.some((summary) => summary.Status.endsWith("(healthy)"));
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await list.views();
    const lists = calls.lists;
    const read = calls.read.length;
    let kept: ContainerView[] = [];
    for (let i = 0; i < 20; i++) kept = await list.views();
    assert.equal(calls.lists, lists, "twenty lists while nothing happened: no list call");
    const ours = new Set([up, checked, fresh, done]);
    assert.deepEqual(
      calls.read.slice(read).filter((id) => ours.has(id)),
      [],
      "and none of these containers read again",
    );
    await assertSameAsEngine(kept, engine.docker, engine.prefix, "warm list");

    // The status text is the Engine's own ("Up 3 seconds", "Exited (0) 2 seconds ago",
    // "Created"), computed from the kept times; a second boundary may fall between the two
    // reads, so a mismatch is read again.
    for (let attempt = 0;; attempt++) {
      const mineNow = (await list.views()).filter(mine(engine.prefix));
      const engineNow = await listContainers(engine.docker, {
        filters: { label: [`${TEST_LABEL}=${engine.prefix}`] },
      });
      const texts = new Map(engineNow.map((summary) => [summary.Id, summary.Status]));
      const differing = mineNow.filter((view) => texts.get(view.id) !== view.status);
      if (differing.length === 0) break;
      if (attempt === 4) {
        assert.fail(
          `status texts differ: ${
            differing.map((view) => `${view.status} / ${texts.get(view.id)}`).join(", ")
          }`,
        );
      }
    }
  } finally {
    events.close();
    docker.close();
  }
});

Deno.test("kept list: every change made elsewhere shows in the next list, reading only that container", async () => {
  await using engine = await testEngine("keptlist");
  const up = await makeTestContainer(engine.docker, engine.prefix, "up", { Cmd: ["sleep", "600"] });
  const idle = await makeTestContainer(engine.docker, engine.prefix, "idle", {
    Cmd: ["sleep", "600"],
  }, false);
  const network = `${engine.prefix}net`;
  await using _network = await testNetwork(engine.docker, engine.prefix, network);
  const { docker, calls } = countingClient();
  const events = createEventsHub(docker, { log: () => {} });
  const list = createContainerList(docker, events, "x");
  try {
    await list.views();
    await waitUntil(() => events.connected(), 5_000, "the events stream");
    await list.views();
    // Each step made with another client (as the CLI would), then its event awaited.
    const plan: [string, () => Promise<unknown>, () => Promise<void>][] = [
      ["start", () => startContainer(engine.docker, idle), () => eventSeen(events, idle, "start")],
      ["pause", () => pauseContainer(engine.docker, up), () => eventSeen(events, up, "pause")],
      [
        "unpause",
        () => unpauseContainer(engine.docker, up),
        () => eventSeen(events, up, "unpause"),
      ],
      [
        "rename",
        () => renameContainer(engine.docker, up, `${engine.prefix}renamed`),
        () => eventSeen(events, up, "rename"),
      ],
      [
        "network connect",
        () => connectNetwork(engine.docker, network, idle, { aliases: [], ipv4: null }),
        () => networkEventSeen(events, idle, "connect"),
      ],
      [
        "network disconnect",
        () => disconnectNetwork(engine.docker, network, idle),
        () => networkEventSeen(events, idle, "disconnect"),
      ],
      [
        "restart",
        () => restartContainer(engine.docker, up, 0),
        () => eventSeen(events, up, "restart"),
      ],
      ["stop", () => stopContainer(engine.docker, idle, 0), () => eventSeen(events, idle, "die")],
      [
        "create",
        () => makeTestContainer(engine.docker, engine.prefix, "late", { Cmd: ["true"] }, false),
        () =>
          new Promise((resolve) => {
            const release = events.subscribe((event: EngineEvent) => {
              if (
                event.kind === "container" && event.event.action === "create" &&
                event.event.name === `${engine.prefix}late`
              ) {
                release();
                resolve();
              }
            });
          }),
      ],
      [
        "remove",
        () => removeContainer(engine.docker, idle, { force: true }),
        () => eventSeen(events, idle, "destroy"),
      ],
    ];
    for (const [what, act, seen] of plan) {
      const wait = seen();
      await act();
      await wait;
      const before = list.counters();
      const lists = calls.lists;
      const kept = await list.views();
      const after = list.counters();
      assert.equal(after.wholeReads, before.wholeReads, `${what}: no whole read`);
      assert.ok(after.partialReads > before.partialReads, `${what}: the changed container read`);
      assert.equal(calls.lists, lists, `${what}: no whole list call`);
      await assertSameAsEngine(kept, engine.docker, engine.prefix, what);
    }
    const names = (await list.views()).filter(mine(engine.prefix)).map((view) => view.name);
    assert.ok(names.includes(`${engine.prefix}renamed`));
    assert.ok(names.includes(`${engine.prefix}late`));
    assert.ok(!names.includes(`${engine.prefix}idle`), "the removed container is gone");

    // A tag can change the reference a row shows: the next list is read whole.
    const tag = `cm-test/keptlist-${engine.prefix.slice(9, 17)}:latest`;
    const tagged = new Promise<void>((resolve) => {
      const release = events.subscribeObjects((event) => {
        if (event.type === "image" && event.action === "tag") {
          release();
          resolve();
        }
      });
    });
    const [repo, version] = tag.split(":");
    await engine.docker.request("POST", `/images/${TEST_IMAGE}/tag`, {
      query: { repo, tag: version },
    });
    try {
      await tagged;
      const before = list.counters();
      await list.views();
      assert.equal(list.counters().wholeReads, before.wholeReads + 1, "a tag makes a whole read");
    } finally {
      await removeImage(engine.docker, tag).catch(() => {});
    }
  } finally {
    events.close();
    docker.close();
  }
});

/** A hub that is up and delivers only what the test emits (events the Engine sends late). */
function heldEvents() {
  const listeners = new Set<(event: EngineEvent) => void>();
  let up = true;
  const hub: EventsHub = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    subscribeObjects: () => () => {},
    connected: () => up,
    close: () => listeners.clear(),
  };
  return {
    hub,
    emit(event: EngineEvent) {
      if (event.kind === "engine") up = event.connected;
      for (const listener of [...listeners]) listener(event);
    },
  };
}

Deno.test("kept list: a change shows in the very next list, before the live stream delivers its event", async () => {
  await using engine = await testEngine("keptlist");
  const id = await makeTestContainer(engine.docker, engine.prefix, "w", { Cmd: ["sleep", "600"] });
  const { docker, calls } = countingClient();
  // The live stream is up but delivers nothing by itself: every event arrives "late".
  const held = heldEvents();
  const list = createContainerList(docker, held.hub, "x");
  const stateOf = async () => (await list.views()).find((view) => view.id === id)?.state;
  try {
    assert.equal(await stateOf(), "running");
    const lists = calls.lists;
    const catchUps = list.counters().catchUps;
    assert.equal(await stateOf(), "running");
    assert.equal(calls.lists, lists, "kept: no whole list call");
    assert.equal(list.counters().catchUps, catchUps + 1, "one look at the events log");

    // The panel's client stops it: the list is read again whole.
    await stopContainer(docker, id, 0);
    assert.equal(await stateOf(), "exited");

    // Someone else starts it (as the CLI would). The stream has not delivered the event, but
    // the Engine's events log has it: that container alone is read again.
    const before = list.counters();
    await startContainer(engine.docker, id);
    assert.equal(await stateOf(), "running");
    assert.equal(list.counters().wholeReads, before.wholeReads);
    assert.equal(list.counters().partialReads, before.partialReads + 1);

    // The stream drops: every list reads the Engine until it is back and a list was read.
    held.emit({ kind: "engine", connected: false });
    await stopContainer(engine.docker, id, 0);
    assert.equal(await stateOf(), "exited");
    const whole = list.counters().wholeReads;
    await stateOf();
    await stateOf();
    assert.equal(list.counters().wholeReads, whole + 2, "no kept list without the stream");
    held.emit({ kind: "engine", connected: true });
    await stateOf();
    const settled = calls.lists;
    await stateOf();
    assert.equal(calls.lists, settled, "kept again once the stream is back");

    // Ten callers at once after a change: one read serves them all.
    await startContainer(engine.docker, id);
    const partial = list.counters().partialReads;
    const views = await Promise.all(Array.from({ length: 10 }, () => list.views()));
    assert.equal(list.counters().partialReads, partial + 1);
    assert.ok(views.every((rows) => rows.find((view) => view.id === id)?.state === "running"));
  } finally {
    docker.close();
  }
});

Deno.test("kept list: the panel's own restart shows its new start time before the events", async () => {
  await using engine = await testEngine("keptlist");
  const id = await makeTestContainer(engine.docker, engine.prefix, "r", { Cmd: ["sleep", "600"] });
  const { docker } = countingClient();
  const held = heldEvents();
  const list = createContainerList(docker, held.hub, "x");
  const rowOf = async () => (await list.views()).find((view) => view.id === id)!;
  try {
    // A second on, so the status text ("Up 1 second") tells an old start from a new one.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const before = await rowOf();
    await restartContainer(docker, id, 0);
    const after = await rowOf();
    assert.equal(after.state, "running");
    assert.notEqual(after.started_at, before.started_at, "the restart's new start time");
  } finally {
    docker.close();
  }
});

Deno.test("kept list: read whole again once it is older than its longest age", async () => {
  await using engine = await testEngine("keptlist");
  await makeTestContainer(engine.docker, engine.prefix, "a", { Cmd: ["true"] }, false);
  const { docker, calls } = countingClient();
  const held = heldEvents();
  const list = createContainerList(docker, held.hub, "x", { maxAgeMs: 300 });
  try {
    await list.views();
    const lists = calls.lists;
    await list.views();
    assert.equal(calls.lists, lists, "kept while young");
    await new Promise((resolve) => setTimeout(resolve, 400));
    await list.views();
    assert.equal(calls.lists, lists + 1, "read again when old (an event may have been dropped)");
  } finally {
    docker.close();
  }
});

Deno.test("without a live events stream every list reads every container", async () => {
  const id = "e".repeat(64);
  let inspects = 0;
  const engine = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/events")) return Response.json({ message: "down" }, { status: 500 });
    if (path.endsWith("/containers/json")) {
      return Response.json([{
        Id: id,
        Names: ["/a"],
        Image: "i",
        ImageID: "sha256:1",
        Command: "",
        Created: 1,
        State: "running",
        Status: "Up 1 minute",
        Ports: [],
        Labels: {},
      }]);
    }
    inspects++;
    return Response.json({
      Id: id,
      State: {
        Status: "running",
        ExitCode: 0,
        StartedAt: new Date(Date.now() - 90_000).toISOString(),
        FinishedAt: "0001-01-01T00:00:00Z",
      },
      RestartCount: 4,
    });
  }));
  const docker = createDockerClient(engine.host);
  const events = createEventsHub(docker, { log: () => {}, retryMs: 10_000 });
  const list = createContainerList(docker, events, "x");
  try {
    for (let i = 0; i < 3; i++) {
      const [view] = await list.views();
      assert.equal(view.restart_count, 4);
      assert.equal(view.status, "Up About a minute");
    }
    assert.equal(inspects, 3);
  } finally {
    events.close();
    docker.close();
    await engine.close();
  }
});
