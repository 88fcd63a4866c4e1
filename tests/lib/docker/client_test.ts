import assert from "node:assert/strict";
import { createDockerClient } from "../../../lib/docker/client.ts";
import {
  createContainer,
  inspectContainer,
  listContainers,
  removeContainer,
  restartContainer,
  startContainer,
  stopContainer,
} from "../../../lib/docker/containers.ts";
import { inspectImage, removeImage } from "../../../lib/docker/images.ts";
import {
  DockerError,
  DockerTimeoutError,
  DockerUnreachableError,
  InvalidReferenceError,
} from "../../../lib/docker/errors.ts";
import { demux } from "../../../lib/docker/streams.ts";
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

/** Invalid as a container id or name, and as an image reference. */
const INVALID_IDS = [
  "../x",
  "a?b",
  "a#b",
  "%2F",
  "x".repeat(300),
  "",
  " a",
  ".hidden",
  "a\nb",
  "a/../b",
];
/** A valid image reference, but never a container id or name. */
const INVALID_CONTAINER_ONLY = ["a/b"];

Deno.test("the client negotiates the API version from GET /version", async () => {
  const docker = await engineClient();
  try {
    const info = await docker.version();
    assert.match(info.Version, /^\d+\.\d+/);
    const version = await docker.apiVersion();
    assert.match(version, /^1\.\d+$/);
    // Never newer than what the daemon speaks.
    assert.ok(Number(version.split(".")[1]) <= Number(info.ApiVersion.split(".")[1]));
  } finally {
    docker.close();
  }
});

Deno.test("list containers against the real Engine", async () => {
  const docker = await engineClient();
  try {
    const containers = await listContainers(docker, { all: true });
    assert.ok(Array.isArray(containers));
    for (const container of containers) {
      assert.equal(typeof container.Id, "string");
      assert.ok(Array.isArray(container.Names));
    }
  } finally {
    docker.close();
  }
});

Deno.test("create, start, inspect, stop and remove a container from the test image", async () => {
  const docker = await engineClient();
  const prefix = uniquePrefix();
  try {
    await ensureTestImage(docker);
    const name = `${prefix}lifecycle`;
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    }, name);
    assert.match(Id, /^[a-f0-9]{64}$/);

    await startContainer(docker, name);
    const running = await inspectContainer(docker, Id);
    assert.equal(running.Name, `/${name}`);
    assert.equal(running.State.Running, true);
    assert.deepEqual(running.Config.Cmd, ["sleep", "300"]);

    const listed = await listContainers(docker, { all: false });
    assert.ok(listed.some((c) => c.Id === Id), "a running container is listed");

    await restartContainer(docker, Id, 1);
    assert.equal((await inspectContainer(docker, Id)).State.Running, true);

    await stopContainer(docker, Id, 1);
    const stopped = await inspectContainer(docker, Id);
    assert.equal(stopped.State.Running, false);
    assert.equal(stopped.State.Status, "exited");

    await removeContainer(docker, Id);
    await assert.rejects(inspectContainer(docker, Id), (error: unknown) => {
      assert.ok(error instanceof DockerError);
      assert.equal(error.daemonStatus, 404);
      assert.match(error.message, /No such container/);
      return true;
    });
  } finally {
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("daemon errors carry the status and the daemon's message", async () => {
  const docker = await engineClient();
  try {
    await assert.rejects(inspectImage(docker, "cm-test/does-not-exist:nope"), (error: unknown) => {
      assert.ok(error instanceof DockerError);
      assert.equal(error.status, 404);
      assert.match(error.message, /No such image/);
      return true;
    });
    await ensureTestImage(docker);
    const prefix = uniquePrefix();
    const name = `${prefix}dup`;
    try {
      await createContainer(docker, {
        Image: TEST_IMAGE,
        Cmd: ["true"],
        Labels: { [TEST_LABEL]: prefix },
      }, name);
      await assert.rejects(
        createContainer(docker, {
          Image: TEST_IMAGE,
          Cmd: ["true"],
          Labels: { [TEST_LABEL]: prefix },
        }, name),
        (error: unknown) =>
          error instanceof DockerError && error.status === 409 &&
          /already in use/.test(error.message),
      );
    } finally {
      await removeTestContainers(docker, prefix);
    }
  } finally {
    docker.close();
  }
});

Deno.test("a hijacked exec gives a real TTY in the container", async () => {
  const docker = await engineClient();
  const prefix = uniquePrefix();
  try {
    await ensureTestImage(docker);
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}exec`);
    await startContainer(docker, Id);
    const exec = await docker.json<{ Id: string }>("POST", `/containers/${Id}/exec`, {
      json: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: ["sh"] },
    });
    const stream = await docker.hijack(`/exec/${exec.Id}/start`, { Detach: false, Tty: true });
    await docker.json("POST", `/exec/${exec.Id}/resize`, { query: { h: 40, w: 120 } });
    await stream.write(new TextEncoder().encode("stty size; exit 7\n"));
    let output = "";
    for await (const chunk of stream.readable) output += new TextDecoder().decode(chunk);
    assert.match(output, /40 120/);
    const info = await docker.json<{ ExitCode: number; Running: boolean }>(
      "GET",
      `/exec/${exec.Id}/json`,
    );
    assert.equal(info.Running, false);
    assert.equal(info.ExitCode, 7);
  } finally {
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("logs of a non-TTY container demultiplex into stdout and stderr", async () => {
  const docker = await engineClient();
  const prefix = uniquePrefix();
  try {
    await ensureTestImage(docker);
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sh", "-c", "echo to-out; echo to-err >&2"],
      Labels: { [TEST_LABEL]: prefix },
    });
    await startContainer(docker, Id);
    await docker.json("POST", `/containers/${Id}/wait`);
    const response = await docker.request("GET", `/containers/${Id}/logs`, {
      query: { stdout: 1, stderr: 1 },
      stream: true,
    });
    const frames: [string, string][] = [];
    for await (const frame of demux(response.body!)) {
      frames.push([frame.stream, new TextDecoder().decode(frame.data)]);
    }
    assert.deepEqual(frames.sort(), [["stderr", "to-err\n"], ["stdout", "to-out\n"]]);
  } finally {
    await removeTestContainers(docker, prefix);
    docker.close();
  }
});

Deno.test("invalid ids are refused without a request reaching the socket", async () => {
  const engine = await startFakeEngine(
    withVersion(() => Response.json({ message: "should not be called" }, { status: 500 })),
  );
  const docker = createDockerClient(engine.host);
  try {
    const operations = [
      (id: string) => inspectContainer(docker, id),
      (id: string) => startContainer(docker, id),
      (id: string) => stopContainer(docker, id),
      (id: string) => restartContainer(docker, id),
      (id: string) => removeContainer(docker, id, { force: true }),
      (id: string) => inspectImage(docker, id),
      (id: string) => removeImage(docker, id),
      (id: string) => createContainer(docker, { Image: "x" }, id),
    ];
    for (const id of INVALID_IDS) {
      for (const operation of operations) {
        await assert.rejects(
          operation(id),
          InvalidReferenceError,
          `${JSON.stringify(id)} must be refused`,
        );
      }
    }
    for (const id of INVALID_CONTAINER_ONLY) {
      for (const operation of operations.slice(0, 5)) {
        await assert.rejects(
          operation(id),
          InvalidReferenceError,
          `${JSON.stringify(id)} must be refused`,
        );
      }
    }
    assert.equal(engine.requests(), 0, "no request reached the socket");
  } finally {
    docker.close();
    await engine.close();
  }
});

Deno.test("the real Engine is never called for an invalid id either", async () => {
  let calls = 0;
  const docker = createDockerClient(dockerHost, {
    fetch: (input, init) => {
      calls++;
      return fetch(input, init);
    },
  });
  try {
    await docker.apiVersion();
    const before = calls;
    for (const id of INVALID_IDS) {
      await assert.rejects(inspectContainer(docker, id), InvalidReferenceError);
      await assert.rejects(removeContainer(docker, id), InvalidReferenceError);
    }
    assert.equal(calls, before);
  } finally {
    docker.close();
  }
});

Deno.test("a 500 from the daemon becomes a DockerError with its message", async () => {
  const engine = await startFakeEngine(
    withVersion(() => Response.json({ message: "disk on fire" }, { status: 500 })),
  );
  const docker = createDockerClient(engine.host);
  try {
    await assert.rejects(listContainers(docker), (error: unknown) => {
      assert.ok(error instanceof DockerError);
      assert.equal(error.daemonStatus, 500);
      assert.equal(error.status, 502);
      assert.equal(error.message, "disk on fire");
      return true;
    });
  } finally {
    docker.close();
    await engine.close();
  }
});

Deno.test("a daemon that hangs hits the timeout", async () => {
  // The handler answers only once the client has gone, so the fake server can shut down.
  const engine = await startFakeEngine(
    withVersion((request) =>
      new Promise<Response>((resolve) =>
        request.signal.addEventListener("abort", () => resolve(new Response(null)))
      )
    ),
  );
  const docker = createDockerClient(engine.host);
  try {
    const started = Date.now();
    await assert.rejects(
      docker.json("GET", "/containers/json", { timeoutMs: 300 }),
      DockerTimeoutError,
    );
    assert.ok(Date.now() - started < 5_000);
  } finally {
    docker.close();
    await engine.close().catch(() => {});
  }
});

Deno.test("a missing socket is reported as unreachable, and recovers when it appears", async () => {
  const docker = createDockerClient({ kind: "unix", path: "/nonexistent.sock" });
  try {
    await assert.rejects(docker.version(), DockerUnreachableError);
    await assert.rejects(listContainers(docker), (error: unknown) => {
      assert.ok(error instanceof DockerUnreachableError);
      assert.equal(error.status, 503);
      assert.match(error.message, /unreachable at unix:\/\/\/nonexistent.sock/);
      return true;
    });
  } finally {
    docker.close();
  }
});

Deno.test("a Unix-socket Engine is addressed by an IP literal, never a name to resolve", async () => {
  // Deno's fetch resolves the URL's host for each new connection even through a Unix socket;
  // a name sent a DNS query per stream, and bursts of them stalled for 5 s at a time.
  const hosts = new Set<string>();
  const engine = await startFakeEngine(withVersion((request) => {
    hosts.add(new URL(request.url).hostname);
    return Response.json([]);
  }));
  const docker = createDockerClient(engine.host);
  try {
    await listContainers(docker);
    const stream = await docker.request("GET", "/events", { stream: true });
    await stream.body?.cancel();
    assert.deepEqual([...hosts], ["127.0.0.1"]);
  } finally {
    docker.close();
    await engine.close();
  }
});

Deno.test("streams that never answer do not hold up short calls", async () => {
  let stuck = 0;
  const engine = await startFakeEngine(withVersion((request) => {
    if (new URL(request.url).pathname.endsWith("/stats")) {
      stuck++;
      // Never any headers: the stream holds its connection until the client gives up.
      return new Promise<Response>((resolve) =>
        request.signal.addEventListener("abort", () => resolve(new Response(null)))
      );
    }
    return Response.json([]);
  }));
  const docker = createDockerClient(engine.host);
  const streams = new AbortController();
  try {
    await docker.apiVersion();
    const opened = Array.from(
      { length: 100 },
      (_, i) =>
        docker.request("GET", `/containers/c${i}/stats`, {
          query: { stream: 1 },
          stream: true,
          signal: streams.signal,
        }).catch(() => undefined),
    );
    // Issued while the 100 streams are still opening, as the table does when it opens, and
    // several at once (as the list's inspects are), so they need new connections too. The
    // 3 s timeout is far above the milliseconds each takes; queued behind the streams' DNS
    // lookups, they took 5 s and more.
    const short = () => docker.json("GET", "/containers/json", { timeoutMs: 3_000 });
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await Promise.all(Array.from({ length: 8 }, short)), Array(8).fill([]));
      await docker.version();
    }
    while (stuck < 100) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await listContainers(docker), []);
    streams.abort();
    await Promise.all(opened);
  } finally {
    streams.abort();
    docker.close();
    await engine.close().catch(() => {});
  }
});
