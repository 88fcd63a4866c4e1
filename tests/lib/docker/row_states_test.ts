import assert from "node:assert/strict";
import { createDockerClient } from "../../../lib/docker/client.ts";
import {
  createRowStates,
  listContainerViews,
  restartContainer,
  stopContainer,
} from "../../../lib/docker/containers.ts";
import { createEventsHub } from "../../../lib/docker/events.ts";
import { dockerHost, makeTestContainer, testEngine } from "../../fixtures/engine.ts";
import { startFakeEngine, withVersion } from "../../fixtures/fake_engine.ts";

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A client to the real Engine that counts container inspects. */
function countingClient() {
  let inspects = 0;
  const docker = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      if (/\/containers\/[0-9a-f]{64}\/json$/.test(new URL(String(input)).pathname)) inspects++;
      return fetch(input, init);
    },
  });
  return { docker, inspects: () => inspects };
}

Deno.test("kept row states: the same rows as inspecting every time, without the inspects", async () => {
  await using engine = await testEngine("rowstates");
  const running = await makeTestContainer(engine.docker, engine.prefix, "up", {
    Cmd: ["sleep", "600"],
  });
  await makeTestContainer(engine.docker, engine.prefix, "created", { Cmd: ["true"] }, false);
  const { docker, inspects } = countingClient();
  const events = createEventsHub(docker, { log: () => {} });
  const states = createRowStates(events);
  const filters = { label: [`io.container-manager.test=${engine.prefix}`] };
  // The filtered list keeps states too: the cache is per container, not per list.
  const list = () => listContainerViews(docker, "x", filters, states);
  try {
    const fresh = await listContainerViews(docker, "x", filters);
    await list();
    await waitUntil(() => events.connected(), 5_000, "the events stream");
    await list(); // the first one kept nothing: the stream was not up when it began
    const before = inspects();
    const warm = await list();
    assert.equal(inspects(), before, "a warm list inspects nothing");
    assert.equal(states.size(), 2);
    const byId = (views: typeof warm) => new Map(views.map((view) => [view.id, view]));
    for (const [id, view] of byId(fresh)) {
      const kept = byId(warm).get(id)!;
      assert.deepEqual({ ...kept, status: "" }, { ...view, status: "" });
    }

    // A restart leaves the list's state "running" but changes the start time: the event
    // drops the kept state, so the next list reads it again.
    const startedAt = byId(warm).get(running)!.started_at;
    await restartContainer(engine.docker, running, 0);
    await waitUntil(() => states.size() === 1, 10_000, "the restart's events");
    const after = byId(await list()).get(running)!;
    assert.notEqual(after.started_at, startedAt);
    assert.equal(after.state, "running");

    // A stop: the row says exited at once, with its exit time.
    await stopContainer(engine.docker, running, 0);
    await waitUntil(() => states.size() === 1, 10_000, "the stop's events");
    const stopped = byId(await list()).get(running)!;
    assert.equal(stopped.state, "exited");
    assert.ok(stopped.finished_at && !stopped.finished_at.startsWith("0001"));
  } finally {
    events.close();
    docker.close();
  }
});

Deno.test("without a live events stream every list inspects every container", async () => {
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
      State: { Status: "running", ExitCode: 0, StartedAt: "x", FinishedAt: "y" },
      RestartCount: 4,
    });
  }));
  const docker = createDockerClient(engine.host);
  const events = createEventsHub(docker, { log: () => {}, retryMs: 10_000 });
  const states = createRowStates(events);
  try {
    for (let i = 0; i < 3; i++) {
      const [view] = await listContainerViews(docker, "x", undefined, states);
      assert.equal(view.restart_count, 4);
    }
    assert.equal(inspects, 3);
    assert.equal(states.size(), 0);
  } finally {
    events.close();
    docker.close();
    await engine.close();
  }
});
