/**
 * Attacks on the panel's long-lived responses (issue 10, items 6, 7, 8 and 12): clients
 * that stop reading, clients that leave, upstreams that break, and refusals that must
 * come before the first byte of a stream.
 */
import assert from "node:assert/strict";
import { delay, startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { auditRows, createTestApp, type TestApp } from "../fixtures/app.ts";
import { startFakeEngine, withVersion } from "../fixtures/fake_engine.ts";
import { createDockerClient, type DockerClient } from "../../lib/docker/client.ts";
import { createEventsHub } from "../../lib/docker/events.ts";
import { createStatsHub, type StatsSample } from "../../lib/docker/stats.ts";
import type { HijackedStream } from "../../lib/docker/hijack.ts";
import type { ContainerCreateBody } from "../../lib/docker/types.ts";
import { execHandlers } from "../../lib/sysctl/handlers/exec.ts";

const MB = 1024 * 1024;

function vmRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)![1]) * 1024;
}

function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Reads what is left of a body (keeping only its last `keep` characters) until it ends or the time is up. */
async function readRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  timeoutMs: number,
  keep = 8192,
): Promise<{ tail: string; ended: boolean; bytes: number }> {
  const decoder = new TextDecoder();
  let tail = "";
  let bytes = 0;
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 1000)),
      ]).finally(() => clearTimeout(timer));
      if (chunk === null) continue;
      if (chunk.done) return { tail, ended: true, bytes };
      bytes += chunk.value.length;
      tail = (tail + decoder.decode(chunk.value, { stream: true })).slice(-keep);
    }
    return { tail, ended: false, bytes };
  } finally {
    await reader.cancel().catch(() => {});
  }
}

Deno.test("attack: a client that stops reading a followed log is dropped with a marker, and memory stays flat", async () => {
  await using engine = await testEngine("cmatk-slowlog");
  const line = "a".repeat(200);
  const id = await makeTestContainer(engine.docker, engine.prefix, "chatty", {
    Cmd: ["sh", "-c", `while :; do echo ${line}; done`],
    // The container writes as fast as it can: cap what its log takes on disk.
    HostConfig: {
      LogConfig: { Type: "json-file", Config: { "max-size": "20m", "max-file": "2" } },
    } as Partial<ContainerCreateBody>["HostConfig"],
  });
  await using panel = await startPanel();
  const cookie = await panel.login();
  const pid = panel.child.pid;
  // The baseline is the panel at work: a client that does read follows the same log for a
  // few seconds first (the heap grows once under that churn, whoever reads).
  const warm = await fetch(`${panel.url}/api/containers/${id}/logs?follow=1&tail=0`, {
    headers: { Cookie: cookie },
  });
  assert.equal(warm.status, 200);
  const warmReader = warm.body!.getReader();
  // The panel's RSS at work is the highest it reached while serving that reading client:
  // a single sample after it would land anywhere in the garbage collector's cycle.
  let baseline = vmRss(pid);
  for (const until = Date.now() + 3000; Date.now() < until;) {
    if ((await warmReader.read()).done) break;
    baseline = Math.max(baseline, vmRss(pid));
  }
  await warmReader.cancel();
  await delay(1000);
  baseline = Math.max(baseline, vmRss(pid));

  const response = await fetch(`${panel.url}/api/containers/${id}/logs?follow=1&tail=0`, {
    headers: { Cookie: cookie },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const reader = response.body!.getReader();
  await reader.read(); // the first chunk; then this client reads nothing for a minute
  let peak = baseline;
  for (let second = 0; second < 60; second++) {
    await delay(1000);
    peak = Math.max(peak, vmRss(pid));
    if (peak - baseline > 20 * MB) break; // already failed: do not let it eat the machine
  }
  const rest = await readRest(reader, 30_000);
  assert.ok(
    peak - baseline < 20 * MB,
    `the panel's RSS grew by ${((peak - baseline) / MB).toFixed(1)} MB (baseline ${
      (baseline / MB).toFixed(1)
    } MB)`,
  );
  assert.ok(rest.ended, "the panel closed the stream");
  assert.match(rest.tail, /event: end\ndata: \{[^\n]*not reading fast enough/);
});

Deno.test("attack: following the logs of a quiet container and leaving, 100 times, leaks no connection", async () => {
  await using engine = await testEngine("cmatk-logfd");
  const id = await makeTestContainer(engine.docker, engine.prefix, "quiet", {
    Cmd: ["sleep", "3600"],
  });
  await using panel = await startPanel();
  const cookie = await panel.login();
  const pid = panel.child.pid;
  // A client that reads the first bytes and hangs up, ten at a time, as a page that is
  // reloaded over and over does.
  const cycle = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: panel.port });
    try {
      await conn.write(new TextEncoder().encode(
        `GET /api/containers/${id}/logs?follow=1&tail=200&timestamps=1 HTTP/1.1\r\n` +
          `Host: 127.0.0.1:${panel.port}\r\nCookie: ${cookie}\r\n\r\n`,
      ));
      const head = new TextDecoder().decode(
        (await conn.readable.getReader().read()).value ?? new Uint8Array(),
      );
      assert.match(head, /^HTTP\/1\.1 200/);
    } finally {
      conn.close();
    }
  };
  for (let i = 0; i < 3; i++) await cycle();
  await delay(1000);
  const baseline = openFds(pid);
  for (let round = 0; round < 10; round++) {
    await Promise.all(Array.from({ length: 10 }, cycle));
  }
  let now = openFds(pid);
  for (let i = 0; i < 50 && now > baseline + 5; i++) {
    await delay(200);
    now = openFds(pid);
  }
  assert.ok(now <= baseline + 5, `open fds went from ${baseline} to ${now}`);
});

/** A fake Engine whose pulls report progress until the test ends them. */
async function fakePullEngine() {
  const encoder = new TextEncoder();
  const pulls: ReadableStreamDefaultController<Uint8Array>[] = [];
  let failWith: string | undefined;
  const engine = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/images/create")) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('{"status":"Pulling from team/app","id":"1"}\n'));
          if (failWith) {
            controller.enqueue(encoder.encode(`${failWith}\n`));
            controller.close();
          } else pulls.push(controller);
        },
      });
      return new Response(body, { headers: { "Content-Type": "application/json" } });
    }
    if (/\/images\/.+\/json$/.test(path)) {
      return Response.json({ Id: `sha256:${"a".repeat(64)}`, RepoDigests: [], RepoTags: [] });
    }
    return Response.json({ message: "not here" }, { status: 404 });
  }));
  return {
    engine,
    /** The next pull sends this (not JSON) after its first line, and ends. */
    failNextWith(text: string) {
      failWith = text;
    },
    finishAll() {
      for (const pull of pulls.splice(0)) {
        pull.enqueue(encoder.encode('{"status":"Status: Downloaded newer image"}\n'));
        pull.close();
      }
    },
  };
}

async function withFakePullApp(
  run: (t: TestApp, fake: Awaited<ReturnType<typeof fakePullEngine>>) => Promise<void>,
) {
  const fake = await fakePullEngine();
  const docker = createDockerClient(fake.engine.host);
  const t = await createTestApp({ docker });
  try {
    await run(t, fake);
  } finally {
    fake.finishAll();
    await t.close();
    docker.close();
    await fake.engine.close();
  }
}

Deno.test("attack: a viewer's pull is a 403 before any NDJSON, and audited as refused", () =>
  withFakePullApp(async (t, fake) => {
    const viewer = t.cookieFor(await t.addUser("atk-pull-viewer", "viewer"));
    const before = fake.engine.requests();
    const response = await t.request("POST", "/api/containers/images/pull", {
      cookie: viewer,
      json: { reference: "127.0.0.1:5999/team/app:1" },
    });
    assert.equal(response.status, 403);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const body = await response.json();
    assert.match(body.error, /may not perform docker\.pull/);
    assert.equal(fake.engine.requests(), before, "nothing reached the Engine");
    const rows = auditRows(t.deps.db).filter((row) => row.action === "docker.pull");
    assert.deepEqual(rows.map((row) => [row.actor, row.exit_code]), [["atk-pull-viewer", 403]]);
    const list = await (await t.request("GET", "/api/containers/images/pulls", { cookie: viewer }))
      .json();
    assert.deepEqual(list.pulls, [], "a refused pull is never listed as running");
  }));

Deno.test("attack: a pull that breaks with an internal error streams no internal text", () =>
  withFakePullApp(async (t, fake) => {
    const admin = t.cookieFor(await t.addUser("atk-pull-admin", "admin"));
    fake.failNextWith("SECRET-INTERNAL-DETAIL not json");
    const response = await t.request("POST", "/api/containers/images/pull", {
      cookie: admin,
      json: { reference: "127.0.0.1:5999/team/app:1" },
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(!text.includes("SECRET-INTERNAL-DETAIL"), text);
    const last = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.deepEqual([last.done, last.error], [false, "Internal server error"]);
    assert.ok(t.logs.some((line) => line.includes("SECRET-INTERNAL-DETAIL")), "it is logged");
  }));

Deno.test("attack: a pull follower that leaves is released", () =>
  withFakePullApp(async (t, fake) => {
    const admin = t.cookieFor(await t.addUser("atk-follow-admin", "admin"));
    const started = await t.request("POST", "/api/containers/images/pull", {
      cookie: admin,
      json: { reference: "127.0.0.1:5999/team/app:1" },
    });
    assert.equal(started.status, 200);
    await started.body!.cancel();
    const { pulls } = await (await t.request("GET", "/api/containers/images/pulls", {
      cookie: admin,
    })).json();
    assert.equal(pulls.length, 1);
    assert.equal(t.deps.streams.count(), 0);
    for (let i = 0; i < 5; i++) {
      const followed = await t.request("GET", `/api/containers/images/pulls/${pulls[0].id}`, {
        cookie: admin,
      });
      assert.equal(followed.status, 200);
      const reader = followed.body!.getReader();
      await reader.read();
      await reader.cancel();
    }
    for (let i = 0; i < 20 && t.deps.streams.count() > 0; i++) await delay(50);
    assert.equal(t.deps.streams.count(), 0, "every follower's registration was released");
    fake.finishAll();
  }));

Deno.test({
  name: "attack: an exec upgrade whose socket never opens releases its registration",
  // Deno keeps the half-made upgrade's resources until the process ends.
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const t = await createTestApp();
  const admin = t.cookieFor(await t.addUser("atk-exec-admin", "admin"));
  // The response reaches the connection only after the client has gone: the WebSocket
  // never opens, and neither its open nor its close event ever fires.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const response = await t.app.fetch(request);
      await delay(300);
      return response;
    },
  );
  try {
    const { port } = server.addr;
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(
        `GET /ws/containers/atkexec${i}/exec HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Origin: http://127.0.0.1:${port}\r\nCookie: ${admin}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      ));
      await delay(50);
      conn.close();
    }
    await delay(200);
    assert.equal(t.deps.streams.count(), 3, "registered while the upgrade is pending");
    for (let i = 0; i < 100 && t.deps.streams.count() > 0; i++) await delay(200);
    assert.equal(t.deps.streams.count(), 0, "released although the socket never opened");
  } finally {
    // A graceful shutdown would wait for the upgrade that never completes.
    await Promise.race([server.shutdown(), delay(2000)]);
    await t.close();
  }
});

Deno.test("attack: a stats upstream that ends while its container runs is reopened", async () => {
  const id = "c".repeat(64);
  const encoder = new TextEncoder();
  let statsRequests = 0;
  let running = true;
  const frame = () =>
    encoder.encode(
      JSON.stringify({
        read: new Date().toISOString(),
        cpu_stats: { cpu_usage: { total_usage: 1 }, system_cpu_usage: 1, online_cpus: 1 },
        memory_stats: { usage: 1000, limit: 10_000 },
      }) + "\n",
    );
  const events: ReadableStreamDefaultController<Uint8Array>[] = [];
  const fake = await startFakeEngine(withVersion((request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/events")) {
      return new Response(new ReadableStream({ start: (c) => void events.push(c) }));
    }
    if (path.endsWith(`/containers/${id}/stats`)) {
      statsRequests++;
      // The first stream ends after one frame although the container still runs (an Engine
      // hiccup, a proxy cut); later ones carry on, one frame every 100 ms.
      const once = statsRequests === 1;
      let timer: ReturnType<typeof setInterval> | undefined;
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(frame());
            if (once) return controller.close();
            timer = setInterval(() => {
              try {
                controller.enqueue(frame());
              } catch {
                clearInterval(timer);
              }
            }, 100);
          },
          cancel: () => clearInterval(timer),
        }),
      );
    }
    if (path.endsWith(`/containers/${id}/json`)) {
      if (!running) return Response.json({ message: "No such container" }, { status: 404 });
      return Response.json({ Id: id, Name: "/fake", State: { Running: true } });
    }
    return Response.json({ message: "not here" }, { status: 404 });
  }));
  const docker: DockerClient = createDockerClient(fake.host);
  const hubEvents = createEventsHub(docker, { log: () => {} });
  const hub = createStatsHub(docker, hubEvents, { lingerMs: 50, log: () => {} });
  // /events is up before and after: its reconnect is not what reopens the stats stream.
  const releaseEvents = hubEvents.subscribe(() => {});
  try {
    for (let i = 0; i < 100 && !hubEvents.connected(); i++) await delay(20);
    assert.ok(hubEvents.connected());
    const samples: StatsSample[] = [];
    const stop = hub.subscribe(id, (sample) => samples.push(sample));
    for (let i = 0; i < 100 && samples.length < 5; i++) await delay(100);
    assert.ok(samples.length >= 5, `got ${samples.length} samples from ${statsRequests} streams`);
    assert.ok(statsRequests >= 2, "the upstream was reopened");
    stop();
    for (let i = 0; i < 50 && hub.upstreams() > 0; i++) await delay(50);
    assert.equal(hub.upstreams(), 0, "nobody listens: closed");
    running = false;
  } finally {
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
    await fake.close();
  }
});

Deno.test("attack: exec input that the process does not read is bounded, then the session closes", async () => {
  const written: number[] = [];
  let readableController!: ReadableStreamDefaultController<Uint8Array>;
  const stream: HijackedStream = {
    readable: new ReadableStream({ start: (c) => void (readableController = c) }),
    // The process reads nothing: no write ever completes.
    write: (bytes) => {
      written.push(bytes.length);
      return new Promise(() => {});
    },
    closeWrite: () => Promise.resolve(),
    close: () => {
      try {
        readableController.close();
      } catch {
        // already closed
      }
    },
  };
  const docker = {
    endpoint: "fake",
    json: (method: string, path: string) => {
      if (path.endsWith("/exec") && method === "POST") {
        return Promise.resolve({ Id: "e".repeat(64) });
      }
      if (path.startsWith("/exec/")) {
        return Promise.resolve({ ID: "e", Running: false, ExitCode: 0, Pid: 1 });
      }
      return Promise.resolve({ Id: "f".repeat(64), Name: "/fake", State: { Running: true } });
    },
    request: () => Promise.reject(new Error("not used")),
    version: () => Promise.reject(new Error("not used")),
    apiVersion: () => Promise.resolve("1.41"),
    hijack: () => Promise.resolve(stream),
    close: () => {},
  } as unknown as DockerClient;
  const closes: { code: number; reason: string }[] = [];
  const socket = {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: 0,
    onmessage: null as ((event: MessageEvent) => void) | null,
    onclose: null as (() => void) | null,
    send: () => {},
    close(code: number, reason: string) {
      closes.push({ code, reason });
      this.readyState = WebSocket.CLOSED;
      queueMicrotask(() => this.onclose?.());
    },
  };
  const handler = execHandlers(docker, () => {})["docker.exec"]!;
  const session = handler({
    target: "f".repeat(64),
    params: { cmd: "/bin/sh" },
    actor: { username: "admin", role: "admin", ip: "127.0.0.1", userId: 1 },
    requestId: "r",
    progress: () => {},
    attachment: socket,
  }).catch(() => {});
  for (let i = 0; i < 50 && written.length === 0; i++) {
    socket.onmessage?.({ data: new Uint8Array(1).buffer } as MessageEvent);
    await delay(20);
  }
  assert.ok(written.length > 0, "the session started");
  const frame = new Uint8Array(60 * 1024);
  for (let i = 0; i < 200 && socket.readyState === WebSocket.OPEN; i++) {
    socket.onmessage?.({ data: frame.slice().buffer } as MessageEvent);
  }
  const queued = written.reduce((sum, n) => sum + n, 0);
  assert.ok(queued <= 2 * MB, `${(queued / MB).toFixed(1)} MB of input queued`);
  assert.equal(closes.length, 1, "the session was closed");
  assert.ok([1008, 1009].includes(closes[0].code), JSON.stringify(closes[0]));
  assert.match(closes[0].reason, /input/i);
  await session;
});
