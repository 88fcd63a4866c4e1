/**
 * Sessions end everything they own (hardening issue item 11): a password change and the
 * session's expiry close its exec WebSocket (1008) and its SSE streams at once. Against the
 * real panel process and the real Engine. Each case failed on the code before the fix.
 */
import assert from "node:assert/strict";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { PANEL_ADMIN_PASSWORD, startPanel } from "../fixtures/server.ts";

type Panel = Awaited<ReturnType<typeof startPanel>>;

/** An exec WebSocket that resolves `ready` at the shell's first output. */
function openExec(panel: Panel, cookie: string, container: string) {
  const url = `${panel.url.replace("http", "ws")}/ws/containers/${container}/exec`;
  // Deno's WebSocket takes headers as a second-argument option.
  const options = { headers: { Cookie: cookie, Origin: panel.url } } as unknown as string[];
  const socket = new WebSocket(url, options);
  const ready = new Promise<void>((resolve) => socket.addEventListener("message", () => resolve()));
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  return { socket, ready, closed };
}

/** An SSE stream of the containers' events; `ended` resolves when the panel closes it. */
async function openEvents(panel: Panel, cookie: string) {
  const response = await fetch(`${panel.url}/api/containers/events`, {
    headers: { Cookie: cookie, Accept: "text/event-stream" },
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read(); // the first bytes: the stream is open
  const ended = (async () => {
    try {
      while (!(await reader.read()).done) { /* keep reading */ }
    } catch {
      // a reset also ends it
    }
  })();
  return { ended, cancel: () => reader.cancel().catch(() => {}) };
}

/** Resolves with how long `promise` took, or rejects after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("item 11: a password change closes the owner's exec shell and SSE streams at once", async () => {
  await using engine = await testEngine("cmsess");
  const id = await makeTestContainer(engine.docker, engine.prefix, "box", {
    Cmd: ["sleep", "3600"],
  });
  await using panel = await startPanel();
  // The stolen session holds a shell and a stream; the owner changes the password elsewhere.
  const stolen = await panel.login();
  const owner = await panel.login();
  const exec = openExec(panel, stolen, id);
  await within(exec.ready, 10_000, "the shell's first output");
  const events = await openEvents(panel, stolen);
  const ownEvents = await openEvents(panel, owner);
  try {
    const changed = await fetch(`${panel.url}/api/auth/password`, {
      method: "POST",
      headers: { Cookie: owner, Origin: panel.url, "Content-Type": "application/json" },
      body: JSON.stringify({
        current_password: PANEL_ADMIN_PASSWORD,
        new_password: "a new password for the owner",
      }),
    });
    assert.equal(changed.status, 200);
    await changed.body?.cancel();
    const close = await within(exec.closed, 1000, "the exec socket's close");
    assert.equal(close.code, 1008);
    assert.match(close.reason, /session/i);
    await within(events.ended, 1000, "the end of the stolen session's SSE stream");
    await within(ownEvents.ended, 1000, "the end of the owner's own SSE stream");
    const me = await fetch(`${panel.url}/api/auth/me`, { headers: { Cookie: stolen } });
    assert.equal(me.status, 401);
    await me.body?.cancel();
  } finally {
    await events.cancel();
    await ownEvents.cancel();
    if (exec.socket.readyState <= WebSocket.OPEN) exec.socket.close();
  }
});

Deno.test("item 11: an expired session's exec shell and SSE stream close", async () => {
  await using engine = await testEngine("cmsess");
  const id = await makeTestContainer(engine.docker, engine.prefix, "box", {
    Cmd: ["sleep", "3600"],
  });
  await using panel = await startPanel({ args: ["--session-idle", "6s", "--session-max", "6s"] });
  const cookie = await panel.login();
  const signedIn = Date.now();
  const exec = openExec(panel, cookie, id);
  await within(exec.ready, 10_000, "the shell's first output");
  const events = await openEvents(panel, cookie);
  try {
    // 6 s of session plus the sweep's period and a margin for a loaded machine.
    const close = await within(exec.closed, 12_000, "the exec socket's close at expiry");
    assert.ok(Date.now() - signedIn >= 5500, "not before the session ended");
    assert.equal(close.code, 1008);
    await within(events.ended, 2000, "the end of the SSE stream at expiry");
  } finally {
    await events.cancel();
    if (exec.socket.readyState <= WebSocket.OPEN) exec.socket.close();
  }
});

Deno.test("typing in a terminal is activity: the session does not idle out under it", async () => {
  await using engine = await testEngine("cmsesstype");
  const id = await makeTestContainer(engine.docker, engine.prefix, "box", {
    Cmd: ["sleep", "3600"],
  });
  await using panel = await startPanel({ args: ["--session-idle", "4s"] });
  const cookie = await panel.login();
  const exec = openExec(panel, cookie, id);
  await within(exec.ready, 10_000, "the shell's first output");
  let closedAt = 0;
  exec.closed.then(() => closedAt = Date.now());
  try {
    // Three idle periods of typing, with no other request on this session.
    for (const until = Date.now() + 12_000; Date.now() < until && !closedAt;) {
      exec.socket.send(new TextEncoder().encode(" "));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(closedAt, 0, "the terminal stayed open while its user typed");
    // Idle again: the session ends and the terminal with it.
    const close = await within(exec.closed, 10_000, "the close once typing stopped");
    assert.equal(close.code, 1008);
  } finally {
    if (exec.socket.readyState <= WebSocket.OPEN) exec.socket.close();
  }
});

Deno.test("a progress stream (NDJSON) ends with its session, while the operation goes on", async () => {
  const { Hono } = await import("hono");
  const { createSessionStreams } = await import("../../lib/auth/streams.ts");
  const { streamFromFirstProgress, ndjsonResponse } = await import("../../routes/ndjson.ts");
  const streams = createSessionStreams();
  const shutdown = new AbortController();
  const owner = { streams, shutdown: shutdown.signal };
  let finished = 0;
  /** An operation that reports progress every 20 ms for 2 s, then succeeds. */
  const operation = async (progress: (event: unknown) => void) => {
    for (let i = 0; i < 100; i++) {
      progress({ step: i });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    finished++;
    return { ok: true };
  };
  // deno-lint-ignore no-explicit-any
  const app = new Hono<any>();
  app.use("*", async (c, next) => {
    c.set("session", { tokenHash: "session-a", userId: 1 });
    await next();
  });
  app.post("/first", (c) =>
    streamFromFirstProgress(c, {
      run: operation,
      line: (event) => event,
      done: (result) => ({ done: true, ...result }),
      log: () => {},
      owner,
    }));
  app.post("/whole", (c) =>
    ndjsonResponse(
      c,
      async (write) => {
        await operation((event) => void write(event));
      },
      () => {},
      owner,
    ));
  for (const path of ["/first", "/whole"]) {
    const response = await app.request(path, { method: "POST" });
    const reader = response.body!.getReader();
    await reader.read();
    streams.closeSession("session-a");
    let text = "";
    const deadline = Date.now() + 1000;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      assert.ok(Date.now() < deadline, `${path}: the stream ended within a second`);
    }
    assert.match(text, /"stream_closed":"your session ended/, `${path}: it says why`);
  }
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(finished, 2, "both operations ran to their end");
});
