/**
 * A stack update is a mutation of a compose project like deploy or down: it takes the
 * project's lock, so it never interleaves with another one (a 409 instead).
 */
import assert from "node:assert/strict";
import { createProjectLocks, ProjectBusyError } from "../../../lib/compose/lock.ts";
import { stackUpdateHandlers } from "../../../lib/updates/stack.ts";
import type { DockerClient } from "../../../lib/docker/client.ts";
import type { Dispatcher, HandlerContext } from "../../../lib/sysctl/dispatch.ts";

const noEngine = new Proxy({}, {
  get() {
    throw new Error("the Engine must not be asked while the project is busy");
  },
}) as DockerClient;

const context: HandlerContext = {
  target: "shop",
  params: {},
  actor: { username: "alice", role: "admin", ip: "127.0.0.1", userId: 1 },
  requestId: "r1",
  progress: () => {},
};

Deno.test("a stack update while a deploy of the project runs is a 409, before touching the Engine", async () => {
  const locks = createProjectLocks();
  const release = locks.acquire("shop", { operation: "deploy", actor: "bob" });
  const handlers = stackUpdateHandlers({
    docker: noEngine,
    dispatcher: () => ({}) as Dispatcher,
    locks,
  });
  await assert.rejects(
    () => handlers["compose.stack.update"]!(context),
    (error) =>
      error instanceof ProjectBusyError && error.status === 409 &&
      /A deploy of "shop" is running, started by bob/.test(error.message),
  );
  release();
  assert.equal(locks.holder("shop"), undefined, "the update took nothing");
});
