import assert from "node:assert/strict";
import { createDockerClient } from "../../../lib/docker/client.ts";
import { createEventsHub, type EngineEvent } from "../../../lib/docker/events.ts";
import {
  dockerHost,
  engineClient,
  ensureTestImage,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../../fixtures/engine.ts";
import { startFakeEngine, withVersion } from "../../fixtures/fake_engine.ts";
import { waitUntil } from "../../fixtures/wait.ts";

async function docker(...args: string[]): Promise<string> {
  const output = await new Deno.Command("docker", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`docker ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout).trim();
}

const isConnected = (connected: boolean) => (event: EngineEvent) =>
  event.kind === "engine" && event.connected === connected;

Deno.test("containers started and stopped with the docker CLI show up as events", async () => {
  const client = await engineClient();
  const prefix = uniquePrefix();
  const hub = createEventsHub(client, { log: () => {} });
  const seen: EngineEvent[] = [];
  const unsubscribe = hub.subscribe((event) => seen.push(event));
  try {
    await ensureTestImage(client);
    await waitUntil(() => seen.some(isConnected(true)), 5_000, "the events stream");
    assert.equal(hub.connected(), true);

    const name = `${prefix}cli`;
    const id = await docker(
      "run",
      "-d",
      "--label",
      `${TEST_LABEL}=${prefix}`,
      "--name",
      name,
      TEST_IMAGE,
      "sleep",
      "60",
    );
    const containerEvents = () => seen.flatMap((e) => e.kind === "container" ? [e.event] : []);
    await waitUntil(
      () => containerEvents().some((e) => e.id === id && e.action === "start"),
      2_000,
      "the start event",
    );
    const start = containerEvents().find((e) => e.id === id && e.action === "start")!;
    assert.equal(start.name, name);
    assert.equal(start.image, TEST_IMAGE);
    assert.ok(Math.abs(start.time - Date.now()) < 60_000, "time is in milliseconds");

    await docker("stop", "-t", "1", id);
    await waitUntil(
      () => containerEvents().some((e) => e.id === id && e.action === "die"),
      2_000,
      "the die event",
    );
    const die = containerEvents().find((e) => e.id === id && e.action === "die")!;
    assert.equal(typeof die.exitCode, "number");
    assert.equal(seen.filter(isConnected(false)).length, 0);
  } finally {
    unsubscribe();
    hub.close();
    await removeTestContainers(client, prefix);
    client.close();
  }
});

Deno.test("one upstream /events request however many listeners; a throwing one is harmless", async () => {
  const eventRequests: AbortSignal[] = [];
  const client = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      if (String(input).includes("/events")) eventRequests.push(init!.signal!);
      return fetch(input, init);
    },
  });
  const prefix = uniquePrefix();
  const hub = createEventsHub(client, { log: () => {} });
  const a: EngineEvent[] = [];
  const b: EngineEvent[] = [];
  const unsubscribers = [
    hub.subscribe(() => {
      throw new Error("listener bug");
    }),
    hub.subscribe((event) => a.push(event)),
    hub.subscribe((event) => b.push(event)),
  ];
  try {
    await ensureTestImage(client);
    await waitUntil(() => a.some(isConnected(true)), 5_000, "the events stream");
    assert.equal(eventRequests.length, 1);

    const id = await docker(
      "run",
      "-d",
      "--label",
      `${TEST_LABEL}=${prefix}`,
      TEST_IMAGE,
      "true",
    );
    const sawStart = (events: EngineEvent[]) =>
      events.some((e) => e.kind === "container" && e.event.id === id && e.event.action === "start");
    await waitUntil(() => sawStart(a) && sawStart(b), 2_000, "the start event on both");
    assert.equal(eventRequests.length, 1, "still one upstream");

    for (const unsubscribe of unsubscribers) unsubscribe();
    assert.equal(eventRequests[0].aborted, true, "the last unsubscribe closes the upstream");
    assert.equal(hub.connected(), false);
  } finally {
    for (const unsubscribe of unsubscribers) unsubscribe();
    hub.close();
    await removeTestContainers(client, prefix);
    client.close();
  }
});

function eventLine(action: string, id: string): string {
  return JSON.stringify({
    Type: "container",
    Action: action,
    Actor: { ID: id, Attributes: { name: `c-${id}`, image: "img", exitCode: "3" } },
    time: 1_700_000_000,
    timeNano: 1_700_000_000_123_456_789,
  }) + "\n";
}

Deno.test("the hub reconnects after the stream ends or sends a malformed line", async () => {
  let eventRequests = 0;
  const encoder = new TextEncoder();
  const engine = await startFakeEngine(withVersion((request) => {
    if (!new URL(request.url).pathname.endsWith("/events")) {
      return Response.json({ message: "not here" }, { status: 404 });
    }
    eventRequests++;
    const attempt = eventRequests;
    return new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          if (attempt === 1) {
            // One event, then the stream ends (as when dockerd stops).
            controller.enqueue(encoder.encode(eventLine("start", "one")));
            setTimeout(() => controller.close(), 50);
          } else if (attempt === 2) {
            controller.enqueue(encoder.encode(eventLine("die", "two") + "not json\n"));
            controller.enqueue(encoder.encode(eventLine("lost", "two")));
          } else {
            // Stays open until the client goes.
            controller.enqueue(encoder.encode(eventLine("start", "three") + "42\n{}\n"));
          }
        },
      }),
    );
  }));
  const client = createDockerClient(engine.host);
  const logs: string[] = [];
  const hub = createEventsHub(client, { retryMs: 20, log: (message) => logs.push(message) });
  const seen: EngineEvent[] = [];
  const unsubscribe = hub.subscribe((event) => seen.push(event));
  try {
    await waitUntil(
      () => seen.some((e) => e.kind === "container" && e.event.id === "three"),
      5_000,
      "the third stream",
    );
    const summary = seen.map((e) =>
      e.kind === "engine" ? `engine:${e.connected}` : `${e.event.action}:${e.event.id}`
    );
    assert.deepEqual(summary, [
      "engine:true",
      "start:one",
      "engine:false",
      "engine:true",
      "die:two",
      "engine:false",
      "engine:true",
      "start:three",
    ]);
    assert.equal(eventRequests, 3);
    assert.equal(hub.connected(), true);
    assert.ok(logs.some((line) => /malformed/.test(line)), logs.join("\n"));

    const die = seen.find((e) => e.kind === "container" && e.event.action === "die");
    assert.deepEqual(die, {
      kind: "container",
      event: {
        id: "two",
        action: "die",
        name: "c-two",
        image: "img",
        exitCode: 3,
        time: 1_700_000_000_123,
      },
    });
  } finally {
    unsubscribe();
    hub.close();
    client.close();
    await engine.close();
  }
});

Deno.test("an unreachable Engine is announced once and retried with backoff, not in a loop", async () => {
  let attempts = 0;
  const client = createDockerClient({ kind: "unix", path: "/nonexistent-cm-test.sock" }, {
    fetch: (input, init) => {
      attempts++;
      return fetch(input, init);
    },
  });
  const hub = createEventsHub(client, { retryMs: 20, log: () => {} });
  const seen: EngineEvent[] = [];
  const unsubscribe = hub.subscribe((event) => seen.push(event));
  try {
    // Attempts at about 0, 20, 60, 140, 300 and 620 ms.
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(attempts >= 3 && attempts <= 8, `${attempts} attempts`);
    assert.deepEqual(seen, [{ kind: "engine", connected: false }]);
    assert.equal(hub.connected(), false);

    hub.close();
    const after = attempts;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(attempts, after, "close() stops the retries");
  } finally {
    unsubscribe();
    hub.close();
    client.close();
  }
});
