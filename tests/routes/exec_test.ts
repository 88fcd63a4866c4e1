/** The exec WebSocket, against the real panel process and the real Engine, with Deno's own client. */
import assert from "node:assert/strict";
import { startPanel } from "../fixtures/server.ts";
import {
  engineClient,
  ensureTestImage,
  removeTestContainers,
  startEngineProxy,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { createContainer, inspectContainer, startContainer } from "../../lib/docker/containers.ts";
import { type DockerClient, MAX_IDLE_CONNECTIONS } from "../../lib/docker/client.ts";

type Panel = Awaited<ReturnType<typeof startPanel>>;

interface Session {
  socket: WebSocket;
  /** Everything received so far, decoded. */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  send(text: string): void;
  closed: Promise<CloseEvent>;
}

function open(
  panel: Panel,
  cookie: string,
  container: string,
  query = "",
  origin: string | null = panel.url,
): Session {
  const headers: Record<string, string> = { Cookie: cookie };
  if (origin) headers.Origin = origin;
  const url = `${panel.url.replace("http", "ws")}/ws/containers/${container}/exec${query}`;
  // @ts-ignore Deno's WebSocket takes headers as a second-argument option.
  const socket = new WebSocket(url, { headers });
  socket.binaryType = "arraybuffer";
  let received = "";
  const decoder = new TextDecoder();
  const listeners = new Set<() => void>();
  socket.onmessage = (event) => {
    received += typeof event.data === "string"
      ? event.data
      : decoder.decode(event.data, { stream: true });
    for (const listener of listeners) listener();
  };
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  return {
    socket,
    output: () => received,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = received.match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `Timed out waiting for ${pattern}; got ${JSON.stringify(received.slice(-300))}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        closed.then(() => setTimeout(check, 0));
        check();
      });
    },
    send(text) {
      socket.send(new TextEncoder().encode(text));
    },
    closed,
  };
}

async function opened(session: Session) {
  if (session.socket.readyState === WebSocket.OPEN) return;
  await new Promise<void>((resolve, reject) => {
    session.socket.addEventListener("open", () => resolve());
    session.socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
  });
}

/** A panel (reaching the Engine at `dockerHost`, by default the real socket) and a shell box. */
async function withShellContainer(
  fn: (ctx: { panel: Panel; admin: string; id: string; docker: DockerClient }) => Promise<void>,
  dockerHost?: string,
) {
  const docker = await engineClient();
  await ensureTestImage(docker);
  const prefix = uniquePrefix("cmexec");
  const panel = await startPanel({ args: dockerHost ? ["--docker-host", dockerHost] : [] });
  try {
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}box`);
    await startContainer(docker, Id);
    const admin = await panel.login();
    await fn({ panel, admin, id: Id, docker });
  } finally {
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true });
    await removeTestContainers(docker, prefix);
    docker.close();
  }
}

/** Runs a command in the container directly through the Engine and returns its output. */
async function runInContainer(docker: DockerClient, id: string, cmd: string[]): Promise<string> {
  const exec = await docker.json<{ Id: string }>("POST", `/containers/${id}/exec`, {
    json: { AttachStdout: true, AttachStderr: true, Tty: true, Cmd: cmd },
  });
  const stream = await docker.hijack(`/exec/${exec.Id}/start`, { Detach: false, Tty: true });
  let output = "";
  for await (const chunk of stream.readable) output += new TextDecoder().decode(chunk);
  return output.replace(/\r/g, "");
}

async function auditRows(panel: Panel, cookie: string) {
  const response = await fetch(`${panel.url}/api/audit?action=docker.exec`, {
    headers: { Cookie: cookie },
  });
  return (await response.json()).rows as {
    exit_code: number;
    target: string;
    params: string;
    actor: string;
    stdout: string;
    stderr: string;
  }[];
}

Deno.test("exec: arithmetic, resize, exit code in the close reason and in the audit row", async () => {
  await withShellContainer(async ({ panel, admin, id }) => {
    const session = open(panel, admin, id);
    await opened(session);
    session.socket.send(JSON.stringify({ type: "resize", cols: 120, rows: 40 }));
    session.send("echo $((6*7))\n");
    await session.waitFor(/^42\r?$/m);
    session.send("stty size\n");
    await session.waitFor(/40 120/);
    session.send("exit 3\n");
    const close = await session.closed;
    assert.equal(close.code, 1000);
    assert.match(close.reason, /code 3/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [row] = await auditRows(panel, admin);
    assert.equal(row.exit_code, 3);
    assert.equal(row.target, id);
    assert.equal(row.actor, "admin");
    assert.equal(JSON.parse(row.params).cmd, "/bin/sh");
    assert.equal(row.stderr, "/bin/sh exited with code 3");
    assert.ok(!JSON.stringify(row).includes("6*7"), "keystrokes are never stored");
  });
});

Deno.test("exec: keystrokes sent as soon as the socket opens, before the shell starts, are kept", async () => {
  await withShellContainer(async ({ panel, admin, id }) => {
    // A shell other than the default is looked up first: the exec starts well after the open.
    const session = open(panel, admin, id, "?cmd=/bin/ash");
    await opened(session);
    session.send("echo early-$((2+3))\n");
    await session.waitFor(/^early-5\r?$/m);
    session.socket.close();
    await session.closed;
  });
});

Deno.test("exec: ?cmd=/bin/bash on an image without bash falls back to sh and says so", async () => {
  await withShellContainer(async ({ panel, admin, id }) => {
    const session = open(panel, admin, id, "?cmd=/bin/bash");
    await session.waitFor(/\/bin\/bash is not in this container; using \/bin\/sh instead\./);
    session.send("echo fallback-ok\n");
    await session.waitFor(/^fallback-ok\r?$/m);
    session.socket.close();
    await session.closed;

    // A path that exists but cannot run (a plain file, a directory) falls back too; a
    // symlink to an executable (busybox's /bin/ash) is used as it is.
    for (const path of ["/etc/passwd", "/bin"]) {
      const other = open(panel, admin, id, `?cmd=${path}`);
      await other.waitFor(
        new RegExp(`${path} is not an executable in this container; using /bin/sh instead\\.`),
      );
      other.socket.close();
      await other.closed;
    }
    const ash = open(panel, admin, id, "?cmd=/bin/ash");
    await opened(ash);
    ash.send("echo $0\n");
    await ash.waitFor(/^\/bin\/ash\r?$/m);
    assert.ok(!ash.output().includes("instead"), ash.output());
    ash.socket.close();
    await ash.closed;
  });
});

Deno.test("exec: bad Origin, no Origin, no cookie and a viewer are refused before any exec is created", async () => {
  await withShellContainer(async ({ panel, admin, id, docker }) => {
    const create = await fetch(`${panel.url}/api/users`, {
      method: "POST",
      headers: { Cookie: admin, Origin: panel.url, "Content-Type": "application/json" },
      body: JSON.stringify({
        username: "just-viewing",
        password: "viewer password 1",
        role: "viewer",
      }),
    });
    assert.equal(create.status, 201);
    const viewer = await panel.login("just-viewing", "viewer password 1");
    const execIds = async () =>
      (await inspectContainer(docker, id) as unknown as { ExecIDs: string[] | null }).ExecIDs ?? [];
    const before = await execIds();
    const attempts: [string, string, string | null, number][] = [
      ["a foreign Origin", admin, "http://evil.example", 403],
      ["no Origin", admin, null, 403],
      ["a different port", admin, panel.url.replace(/:\d+$/, ":1"), 403],
      ["no cookie", "", panel.url, 403],
      ["a viewer", viewer, panel.url, 403],
    ];
    for (const [label, cookie, origin, status] of attempts) {
      const headers: Record<string, string> = {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": btoa("0123456789abcdef"),
      };
      if (cookie) headers.Cookie = cookie;
      if (origin) headers.Origin = origin;
      const response = await fetch(`${panel.url}/ws/containers/${id}/exec`, { headers });
      await response.body?.cancel();
      assert.equal(response.status, status, label);
      const session = open(panel, cookie, id, "", origin);
      const close = await session.closed;
      assert.notEqual(close.code, 1000, `${label}: the WebSocket never opened`);
    }
    assert.deepEqual(await execIds(), before, "no exec was created");
    const rows = await auditRows(panel, admin);
    assert.ok(
      rows.some((row) => row.actor === "just-viewing" && row.exit_code === 403),
      "the viewer's attempt is audited",
    );
  });
});

Deno.test("exec: an oversized frame closes with 1009", async () => {
  await withShellContainer(async ({ panel, admin, id }) => {
    const session = open(panel, admin, id);
    await opened(session);
    session.socket.send(new Uint8Array(64 * 1024 + 1));
    const close = await session.closed;
    assert.equal(close.code, 1009);

    // A text frame counts in bytes: 40,000 "é" are 80,000 bytes in UTF-8.
    const text = open(panel, admin, id);
    await opened(text);
    text.socket.send("é".repeat(40_000));
    assert.equal((await text.closed).code, 1009);
  });
});

Deno.test("exec: a stopped container gets a clear close reason", async () => {
  const docker = await engineClient();
  await ensureTestImage(docker);
  const prefix = uniquePrefix("cmexec");
  const panel = await startPanel();
  try {
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["true"],
      Labels: { [TEST_LABEL]: prefix },
    });
    const session = open(panel, await panel.login(), Id);
    const close = await session.closed;
    assert.match(close.reason, /is not running/);
  } finally {
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true });
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("exec: 200 open/close cycles leave the panel's file descriptors at their baseline", async () => {
  await withShellContainer(async ({ panel, admin, id, docker }) => {
    const fds = () => [...Deno.readDirSync(`/proc/${panel.child.pid}/fd`)].length;
    const cycle = async () => {
      const session = open(panel, admin, id);
      await session.waitFor(/\/ # /);
      session.socket.close();
      await session.closed;
    };
    // Warm up so the Engine client's idle pool (at most 4 connections) is full.
    for (let i = 0; i < 20; i++) await cycle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const baseline = fds();
    for (let i = 0; i < 200; i++) await cycle();
    let after = fds();
    // Closed connections take a moment to be released; a leak never comes back down. The
    // Engine client's idle keep-alive pool (at most MAX_IDLE_CONNECTIONS) may sit at a
    // different size than at the baseline; a per-session leak would add 200 or more.
    const limit = baseline + MAX_IDLE_CONNECTIONS;
    for (let i = 0; i < 100 && after > limit; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = fds();
    }
    assert.ok(after <= limit, `file descriptors went from ${baseline} to ${after}`);

    // And no shell is left running in the container: the panel ends each session's shell
    // after its client goes (the last few may still be finishing, so poll for a while).
    let shells = Infinity;
    for (let i = 0; i < 20 && shells > 0; i++) {
      const ps = await runInContainer(docker, id, ["ps", "-o", "args"]);
      shells = ps.split("\n").filter((line) => line.trim() === "/bin/sh").length;
      if (shells > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(shells, 0, "no session's shell is left running");
  });
});

Deno.test("exec: signing out closes the terminal and ends its shell", async () => {
  await withShellContainer(async ({ panel, admin, id, docker }) => {
    const session = open(panel, admin, id);
    await session.waitFor(/\/ # /);
    const logout = await fetch(`${panel.url}/api/auth/logout`, {
      method: "POST",
      headers: { Cookie: admin, Origin: panel.url },
    });
    assert.equal(logout.status, 200);
    await logout.body?.cancel();
    const close = await session.closed;
    assert.equal(close.code, 1008, "a session's end closes its terminal with 1008 (policy)");
    let shells = Infinity;
    for (let i = 0; i < 20 && shells > 0; i++) {
      shells = (await runInContainer(docker, id, ["ps", "-o", "args"])).split("\n")
        .filter((line) => line.trim() === "/bin/sh").length;
      if (shells > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(shells, 0);
  });
});

Deno.test("exec: the Engine going away closes the terminal with a reason; once it is back, a new one works", async () => {
  const proxy = await startEngineProxy();
  try {
    await withShellContainer(async ({ panel, admin, id }) => {
      const session = open(panel, admin, id);
      await opened(session);
      session.send("echo before-$((1+1))\n");
      await session.waitFor(/^before-2\r?$/m);

      proxy.cut(); // as when dockerd restarts
      const close = await session.closed;
      assert.equal(close.code, 1011);
      assert.match(
        close.reason,
        /^The Docker Engine went away \(restarting\?\); the session ended$/,
      );

      proxy.resume();
      const again = open(panel, admin, id);
      await again.waitFor(/\/ # /, 15_000);
      again.send("echo after-$((2+2))\n");
      await again.waitFor(/^after-4\r?$/m);
      again.socket.close();
      await again.closed;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const rows = await auditRows(panel, admin);
      assert.equal(rows.length, 2, "one row per session");
      assert.ok(rows.some((row) => row.exit_code === 503), JSON.stringify(rows));
    }, proxy.url);
  } finally {
    await proxy.stop();
  }
});

Deno.test("exec: a session the user ends is a normal end: `exit` is ok, closing the terminal is 'closed', not failed 130", async () => {
  await withShellContainer(async ({ panel, admin, id }) => {
    const typed = open(panel, admin, id);
    await typed.waitFor(/\/ # /);
    typed.send("exit\n");
    const typedClose = await typed.closed;
    assert.equal(typedClose.code, 1000);
    assert.equal(typedClose.reason, "Exited with code 0");

    const closed = open(panel, admin, id);
    await closed.waitFor(/\/ # /);
    closed.socket.close(1000, "Closed by the user");
    await closed.closed;
    let rows: Awaited<ReturnType<typeof auditRows>> = [];
    for (let i = 0; i < 100 && rows.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await auditRows(panel, admin);
    }
    const [closedRow, typedRow] = rows;
    assert.equal(closedRow.exit_code, 0, JSON.stringify(closedRow));
    assert.equal(closedRow.stderr, "");
    assert.equal(JSON.parse(closedRow.stdout).ended, "closed");
    assert.equal(typedRow.exit_code, 0, JSON.stringify(typedRow));
    assert.equal(JSON.parse(typedRow.stdout).ended, "exited");
  });
});
