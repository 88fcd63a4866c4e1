import assert from "node:assert/strict";
import { createDockerClient, type DockerClient } from "../../../lib/docker/client.ts";
import { createContainer, startContainer, stopContainer } from "../../../lib/docker/containers.ts";
import { createEventsHub } from "../../../lib/docker/events.ts";
import {
  computeSample,
  createStatsHub,
  type EngineStats,
  MAX_OPENING,
  type StatsSample,
} from "../../../lib/docker/stats.ts";
import {
  dockerHost,
  ensureTestImage,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../../fixtures/engine.ts";
import { startFakeEngine, withVersion } from "../../fixtures/fake_engine.ts";
import { waitUntil } from "../../fixtures/wait.ts";

const LINGER_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- computeSample -------------------------------------------------------------------------

const READ = "2026-01-02T03:04:05.678901234Z";

/** A cgroup v1 frame, shaped like Engine 20.10's. */
function v1Frame(): EngineStats {
  return {
    read: READ,
    cpu_stats: {
      cpu_usage: { total_usage: 3_000_000_000, percpu_usage: [1_500_000_000, 1_500_000_000] },
      system_cpu_usage: 20_000_000_000,
      online_cpus: 2,
    },
    precpu_stats: {
      cpu_usage: { total_usage: 2_500_000_000, percpu_usage: [1_250_000_000, 1_250_000_000] },
      system_cpu_usage: 18_000_000_000,
      online_cpus: 2,
    },
    memory_stats: {
      usage: 100_000_000,
      limit: 400_000_000,
      // v1 also reports the container's own inactive_file; the hierarchical total wins.
      stats: { total_inactive_file: 20_000_000, inactive_file: 5_000_000, cache: 30_000_000 },
    },
    networks: {
      eth0: { rx_bytes: 1_000, tx_bytes: 200 },
      eth1: { rx_bytes: 500, tx_bytes: 50 },
    },
    blkio_stats: {
      io_service_bytes_recursive: [
        { op: "Read", value: 4_096 },
        { op: "Write", value: 8_192 },
        { op: "Sync", value: 12_288 },
        { op: "Total", value: 12_288 },
        { op: "Read", value: 1_024 },
      ],
    },
    pids_stats: { current: 3 },
  };
}

/** A cgroup v2 frame: no percpu_usage, lower-case blkio ops, `inactive_file`. */
function v2Frame(): EngineStats {
  return {
    read: READ,
    cpu_stats: {
      cpu_usage: { total_usage: 1_100_000_000 },
      system_cpu_usage: 50_000_000_000,
      online_cpus: 4,
    },
    precpu_stats: {
      cpu_usage: { total_usage: 1_000_000_000 },
      system_cpu_usage: 46_000_000_000,
      online_cpus: 4,
    },
    memory_stats: {
      usage: 50_000_000,
      limit: 1_000_000_000,
      stats: { inactive_file: 10_000_000, file: 12_000_000, anon: 30_000_000 },
    },
    networks: { eth0: { rx_bytes: 7, tx_bytes: 9 } },
    blkio_stats: {
      io_service_bytes_recursive: [
        { op: "read", value: 100 },
        { op: "write", value: 300 },
        { op: "read", value: 50 },
      ],
    },
    pids_stats: { current: 12 },
  };
}

Deno.test("computeSample: cgroup v1 frame", () => {
  assert.deepEqual(computeSample("abc", v1Frame()), {
    id: "abc",
    time: Date.parse(READ),
    // (0.5e9 / 2e9) * 2 CPUs * 100
    cpu_percent: 50,
    mem_bytes: 80_000_000,
    mem_limit: 400_000_000,
    mem_percent: 20,
    net_rx: 1_500,
    net_tx: 250,
    blk_read: 5_120,
    blk_write: 8_192,
    pids: 3,
  });
});

Deno.test("computeSample: cgroup v2 frame", () => {
  assert.deepEqual(computeSample("abc", v2Frame()), {
    id: "abc",
    time: Date.parse(READ),
    // (0.1e9 / 4e9) * 4 CPUs * 100
    cpu_percent: 10,
    mem_bytes: 40_000_000,
    mem_limit: 1_000_000_000,
    mem_percent: 4,
    net_rx: 7,
    net_tx: 9,
    blk_read: 150,
    blk_write: 300,
    pids: 12,
  });
});

Deno.test("computeSample: CPU count falls back to percpu_usage", () => {
  const frame = v1Frame();
  delete frame.cpu_stats!.online_cpus;
  frame.cpu_stats!.cpu_usage!.percpu_usage = [1, 1, 1, 1];
  assert.equal(computeSample("abc", frame)?.cpu_percent, 100);
});

Deno.test("computeSample: the first frame has no CPU interval yet", () => {
  const frame = v1Frame();
  frame.precpu_stats = { cpu_usage: { total_usage: 0 } };
  assert.equal(computeSample("abc", frame)?.cpu_percent, 0);
});

Deno.test("computeSample: a cache larger than usage is not subtracted", () => {
  const frame = v2Frame();
  frame.memory_stats!.stats = { inactive_file: 60_000_000 };
  assert.equal(computeSample("abc", frame)?.mem_bytes, 50_000_000);
});

Deno.test("computeSample: the empty frame of a stopped container gives no sample", () => {
  assert.equal(
    computeSample("abc", {
      read: "0001-01-01T00:00:00Z",
      cpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0 },
      memory_stats: {},
    }),
    undefined,
  );
  assert.equal(computeSample("abc", {}), undefined);
});

Deno.test("computeSample: garbage never becomes NaN or negative", () => {
  const sample = computeSample("abc", {
    read: READ,
    cpu_stats: {
      cpu_usage: { total_usage: 100 },
      system_cpu_usage: 50,
      online_cpus: Number.NaN,
    },
    precpu_stats: { cpu_usage: { total_usage: 200 }, system_cpu_usage: 100 },
    memory_stats: { usage: -5, limit: 0, stats: { inactive_file: Number.NaN } },
    networks: { eth0: { rx_bytes: -1 } },
    blkio_stats: { io_service_bytes_recursive: null },
    pids_stats: {},
  } as unknown as EngineStats)!;
  for (const [key, value] of Object.entries(sample)) {
    if (typeof value === "number") {
      assert.ok(Number.isFinite(value) && value >= 0, `${key} is ${value}`);
    }
  }
  assert.equal(sample.cpu_percent, 0);
  assert.equal(sample.mem_percent, 0);
});

// ---- the hub against the real Engine -------------------------------------------------------

interface Counted {
  docker: DockerClient;
  /** Every upstream stats request so far, by container id, with its abort signal. */
  statsRequests: { id: string; signal: AbortSignal }[];
}

/** A real-Engine client that records the stats requests it makes. */
function countingClient(): Counted {
  const statsRequests: Counted["statsRequests"] = [];
  const docker = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      const match = String(input).match(/\/containers\/([^/]+)\/stats/);
      if (match) statsRequests.push({ id: match[1], signal: init!.signal! });
      return fetch(input, init);
    },
  });
  return { docker, statsRequests };
}

async function runContainer(docker: DockerClient, prefix: string, name: string, cmd: string[]) {
  const { Id } = await createContainer(docker, {
    Image: TEST_IMAGE,
    Cmd: cmd,
    Labels: { [TEST_LABEL]: prefix },
  }, `${prefix}${name}`);
  await startContainer(docker, Id);
  return Id;
}

Deno.test("two subscribers share one upstream, which closes after the linger", async () => {
  const { docker, statsRequests } = countingClient();
  const prefix = uniquePrefix();
  const events = createEventsHub(docker, { log: () => {} });
  const hub = createStatsHub(docker, events, { lingerMs: LINGER_MS, log: () => {} });
  const a: StatsSample[] = [];
  const b: StatsSample[] = [];
  const unsubscribers: (() => void)[] = [];
  try {
    await ensureTestImage(docker);
    const id = await runContainer(docker, prefix, "shared", ["sleep", "300"]);
    unsubscribers.push(hub.subscribe(id, (sample) => a.push(sample)));
    unsubscribers.push(hub.subscribe(id, (sample) => b.push(sample)));
    assert.equal(hub.upstreams(), 1);

    await waitUntil(() => a.length >= 2 && b.length >= 2, 5_000, "samples on both subscribers");
    assert.equal(hub.upstreams(), 1);
    assert.equal(statsRequests.filter((r) => r.id === id).length, 1, "one upstream request");
    assert.equal(a[0].id, id);
    assert.deepEqual(a.slice(0, 2), b.slice(0, 2), "both got the same samples");

    unsubscribers[0]();
    assert.equal(hub.upstreams(), 1, "one subscriber left");
    unsubscribers[1]();
    assert.equal(hub.upstreams(), 1, "lingers");
    await sleep(LINGER_MS + 150);
    assert.equal(hub.upstreams(), 0);
    assert.equal(statsRequests[0].signal.aborted, true);

    // Coming back within the linger re-uses the upstream.
    unsubscribers.push(hub.subscribe(id, () => {}));
    await waitUntil(() => statsRequests.length === 2, 2_000, "the new upstream request");
    unsubscribers.at(-1)!();
    await sleep(LINGER_MS / 2);
    unsubscribers.push(hub.subscribe(id, () => {}));
    await sleep(LINGER_MS);
    assert.equal(hub.upstreams(), 1);
    assert.equal(statsRequests.length, 2, "the lingering upstream was re-used");
  } finally {
    for (const unsubscribe of unsubscribers) unsubscribe();
    hub.close();
    events.close();
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("a busy container shows clearly more CPU than an idle one; memory is sane", async () => {
  const { docker } = countingClient();
  const prefix = uniquePrefix();
  const events = createEventsHub(docker, { log: () => {} });
  const hub = createStatsHub(docker, events, { lingerMs: LINGER_MS, log: () => {} });
  const busy: StatsSample[] = [];
  const idle: StatsSample[] = [];
  const unsubscribers: (() => void)[] = [];
  try {
    await ensureTestImage(docker);
    const busyId = await runContainer(docker, prefix, "busy", ["sh", "-c", "while :; do :; done"]);
    const idleId = await runContainer(docker, prefix, "idle", ["sleep", "300"]);
    unsubscribers.push(hub.subscribe(busyId, (sample) => busy.push(sample)));
    unsubscribers.push(hub.subscribe(idleId, (sample) => idle.push(sample)));
    await waitUntil(() => busy.length >= 5 && idle.length >= 5, 10_000, "five samples each");

    const maxCpu = (samples: StatsSample[]) =>
      Math.max(...samples.slice(2).map((s) => s.cpu_percent));
    const busyCpu = maxCpu(busy);
    const idleCpu = maxCpu(idle);
    assert.ok(busyCpu > 30, `busy: ${busyCpu}%`);
    assert.ok(busyCpu > idleCpu + 25, `busy ${busyCpu}% vs idle ${idleCpu}%`);
    for (const sample of [...busy, ...idle]) {
      assert.ok(sample.mem_bytes > 0, "memory in use");
      assert.ok(sample.mem_limit > 0, "memory limit");
      assert.ok(sample.mem_percent > 0 && sample.mem_percent < 100);
      assert.ok(sample.pids >= 1);
      assert.ok(Math.abs(sample.time - Date.now()) < 60_000, "time is in milliseconds");
    }
  } finally {
    for (const unsubscribe of unsubscribers) unsubscribe();
    hub.close();
    events.close();
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("a subscriber's upstream follows its container's stop and start", async () => {
  const { docker, statsRequests } = countingClient();
  const prefix = uniquePrefix();
  const events = createEventsHub(docker, { log: () => {} });
  const hub = createStatsHub(docker, events, { lingerMs: LINGER_MS, log: () => {} });
  const samples: StatsSample[] = [];
  let unsubscribe = () => {};
  try {
    await ensureTestImage(docker);
    const id = await runContainer(docker, prefix, "restart", ["sleep", "300"]);
    // By name: resolved to the full id once.
    unsubscribe = hub.subscribe(`${prefix}restart`, (sample) => samples.push(sample));
    await waitUntil(() => samples.length >= 1, 5_000, "a sample");
    assert.equal(samples[0].id, id);

    await stopContainer(docker, id, 1);
    await waitUntil(() => hub.upstreams() === 0, 3_000, "the upstream to close on die");
    const stoppedAt = samples.length;

    await startContainer(docker, id);
    await waitUntil(() => samples.length > stoppedAt, 5_000, "samples after the restart");
    assert.equal(hub.upstreams(), 1);
    assert.equal(statsRequests.length, 2);
    assert.equal(statsRequests[0].signal.aborted, true);
    assert.equal(statsRequests[1].signal.aborted, false);
  } finally {
    unsubscribe();
    hub.close();
    events.close();
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("subscribeAll picks up a container started later and drops it when it dies", async () => {
  const { docker, statsRequests } = countingClient();
  const prefix = uniquePrefix();
  const events = createEventsHub(docker, { log: () => {} });
  const hub = createStatsHub(docker, events, { lingerMs: LINGER_MS, log: () => {} });
  const samples: StatsSample[] = [];
  let unsubscribe = () => {};
  try {
    await ensureTestImage(docker);
    const firstId = await runContainer(docker, prefix, "before", ["sleep", "300"]);
    unsubscribe = hub.subscribeAll((sample) => samples.push(sample));
    await waitUntil(() => samples.some((s) => s.id === firstId), 5_000, "the running container");
    await waitUntil(() => events.connected(), 5_000, "the events stream");

    const laterId = await runContainer(docker, prefix, "later", ["sleep", "300"]);
    await waitUntil(() => samples.some((s) => s.id === laterId), 5_000, "the later container");
    assert.ok(hub.upstreams() >= 2);
    const laterRequests = () => statsRequests.filter((r) => r.id === laterId);
    assert.equal(laterRequests().length, 1);
    assert.equal(laterRequests()[0].signal.aborted, false);

    await stopContainer(docker, laterId, 1);
    await waitUntil(() => laterRequests()[0].signal.aborted, 3_000, "its upstream to close");
    assert.equal(statsRequests.filter((r) => r.id === firstId).length, 1);

    unsubscribe();
    await sleep(LINGER_MS + 150);
    assert.equal(hub.upstreams(), 0, "everything released after the linger");
    assert.ok(statsRequests.every((r) => r.signal.aborted));
  } finally {
    unsubscribe();
    hub.close();
    events.close();
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

// ---- faults only a fake Engine can produce -------------------------------------------------

const FAKE_ID = "a".repeat(64);
const MISSING_ID = "b".repeat(64);

Deno.test("a missing container, a throwing listener and an Engine restart do not break the hub", async () => {
  const encoder = new TextEncoder();
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let eventRequests = 0;
  let statsRequests = 0;
  const stream = (first: string) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          open.add(controller);
          controller.enqueue(encoder.encode(first));
        },
        cancel() {},
      }),
    );
  const engine = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/events")) {
      eventRequests++;
      return stream("");
    }
    if (path.endsWith(`/containers/${FAKE_ID}/stats`)) {
      statsRequests++;
      return stream(JSON.stringify({ ...v1Frame(), read: new Date().toISOString() }) + "\n");
    }
    return Response.json({ message: "No such container" }, { status: 404 });
  }));
  /** Ends every open stream, as a dockerd restart does. */
  const restart = () => {
    for (const controller of open) controller.close();
    open.clear();
  };
  const docker = createDockerClient(engine.host);
  const logs: string[] = [];
  const log = (message: string) => logs.push(message);
  const events = createEventsHub(docker, { retryMs: 200, log });
  const hub = createStatsHub(docker, events, { lingerMs: LINGER_MS, log });
  const samples: StatsSample[] = [];
  const unsubscribers: (() => void)[] = [];
  try {
    unsubscribers.push(hub.subscribe(MISSING_ID, () => {}));
    unsubscribers.push(hub.subscribe(FAKE_ID, () => {
      throw new Error("listener bug");
    }));
    unsubscribers.push(hub.subscribe(FAKE_ID, (sample) => samples.push(sample)));
    await waitUntil(() => samples.length === 1 && events.connected(), 3_000, "a sample");
    await waitUntil(() => hub.upstreams() === 1, 1_000, "the missing one to be dropped");

    restart();
    await waitUntil(() => !events.connected(), 1_000, "the events stream to end");
    await waitUntil(() => samples.length === 2, 3_000, "a sample after the reconnect");
    assert.equal(eventRequests, 2);
    assert.equal(statsRequests, 2, "the upstream was re-opened once");
    assert.equal(hub.upstreams(), 1);
    assert.ok(logs.every((line) => !/No such container/.test(line)), "a 404 is not an error");
    assert.ok(logs.some((line) => /listener threw: listener bug/.test(line)));
  } finally {
    for (const unsubscribe of unsubscribers) unsubscribe();
    hub.close();
    events.close();
    docker.close();
    restart();
    await engine.close();
  }
});

/** A fake Engine whose /events stays open and quiet, and whose stats and inspect a test scripts. */
async function fakeStatsEngine(
  stats: () => Response | Promise<Response>,
  inspect: () => Response,
) {
  const events: ReadableStreamDefaultController<Uint8Array>[] = [];
  let statsRequests = 0;
  let inspects = 0;
  const engine = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/events")) {
      return new Response(new ReadableStream({ start: (c) => void events.push(c) }));
    }
    if (path.endsWith("/stats")) {
      statsRequests++;
      return stats();
    }
    if (path.endsWith("/json")) {
      inspects++;
      return inspect();
    }
    return Response.json({ message: "not here" }, { status: 404 });
  }));
  const docker = createDockerClient(engine.host);
  const hubEvents = createEventsHub(docker, { log: () => {} });
  const logs: string[] = [];
  const hub = createStatsHub(docker, hubEvents, {
    lingerMs: 50,
    retryMs: 50,
    log: (message) => logs.push(message),
  });
  const releaseEvents = hubEvents.subscribe(() => {});
  await waitUntil(() => hubEvents.connected(), 5000, "/events");
  return {
    hub,
    logs,
    statsRequests: () => statsRequests,
    inspects: () => inspects,
    async close() {
      releaseEvents();
      hub.close();
      hubEvents.close();
      for (const controller of events) {
        try {
          controller.close();
        } catch {
          // cancelled
        }
      }
      docker.close();
      await engine.close();
    },
  };
}

const RUNNING_ID = "d".repeat(64);
const oneFrame = () =>
  new Response(
    JSON.stringify({
      read: new Date().toISOString(),
      memory_stats: { usage: 1000, limit: 10_000 },
    }) + "\n",
  );

Deno.test("a stats stream that keeps failing is retried with back-off, not in a loop", async () => {
  const fake = await fakeStatsEngine(
    () => Response.json({ message: "boom" }, { status: 500 }),
    () => Response.json({ Id: RUNNING_ID, State: { Running: true } }),
  );
  try {
    const stop = fake.hub.subscribe(RUNNING_ID, () => {});
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // 50, 100, 200, 400, 800 ms: about five attempts in 1.5 s, never hundreds.
    assert.ok(fake.statsRequests() >= 3, `${fake.statsRequests()} attempts`);
    assert.ok(fake.statsRequests() <= 7, `${fake.statsRequests()} attempts`);
    stop();
    await waitUntil(() => fake.hub.upstreams() === 0, 2000, "the upstream to close");
    const after = fake.statsRequests();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(fake.statsRequests(), after, "nobody listens: no more attempts");
  } finally {
    await fake.close();
  }
});

Deno.test("a stats stream that ends for a container that is gone is not reopened", async () => {
  const fake = await fakeStatsEngine(
    oneFrame,
    () => Response.json({ message: "No such container" }, { status: 404 }),
  );
  try {
    const samples: StatsSample[] = [];
    const stop = fake.hub.subscribe(RUNNING_ID, (sample) => samples.push(sample));
    await waitUntil(() => fake.inspects() >= 1, 3000, "the check after the stream ended");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(samples.length, 1);
    assert.equal(fake.statsRequests(), 1, "not reopened");
    assert.equal(fake.inspects(), 1, "and not checked again");
    stop();
  } finally {
    await fake.close();
  }
});

Deno.test("many upstreams open in bounded waves, and every one of them opens", async () => {
  let waiting = 0;
  let mostWaiting = 0;
  const fake = await fakeStatsEngine(async () => {
    waiting++;
    mostWaiting = Math.max(mostWaiting, waiting);
    await sleep(30); // the Engine's answer takes a moment: requests pile up meanwhile
    waiting--;
    const frame = JSON.stringify({
      read: new Date().toISOString(),
      memory_stats: { usage: 1000, limit: 10_000 },
    }) + "\n";
    // One frame, then the stream stays open as a running container's does.
    return new Response(
      new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(frame)) }),
    );
  }, () => Response.json({ message: "not used" }, { status: 500 }));
  const ids = Array.from({ length: 60 }, (_, i) => i.toString(16).padStart(64, "0"));
  const seen = new Set<string>();
  const stops = ids.map((id) => fake.hub.subscribe(id, (sample) => seen.add(sample.id)));
  try {
    await waitUntil(() => seen.size === ids.length, 20_000, "a sample from every container");
    assert.equal(fake.hub.upstreams(), ids.length);
    assert.ok(mostWaiting <= MAX_OPENING, `${mostWaiting} upstreams waited for headers at once`);
    assert.ok(mostWaiting >= 2, "opened in parallel, not one by one");
  } finally {
    for (const stop of stops) stop();
    await fake.close();
  }
});
