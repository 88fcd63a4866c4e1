/**
 * The auto policy's choices, with a recording dispatcher: what each result moves to (never a
 * major version), a stack's container under its project lock (a busy stack is skipped), a
 * failed target not tried again, and the webhook events.
 */
import assert from "node:assert/strict";
import { autoTarget, createAutoUpdater } from "../../../lib/updates/auto.ts";
import { createProjectLocks } from "../../../lib/compose/lock.ts";
import type { Dispatcher, DispatchRequest } from "../../../lib/sysctl/dispatch.ts";
import type { UpdateResult } from "../../../lib/updates/store.ts";
import type { UpdateEvent } from "../../../lib/webhooks/payload.ts";
import { HttpError } from "../../../lib/errors.ts";

function result(over: Partial<UpdateResult>): UpdateResult {
  return {
    id: "c1",
    name: "web",
    image: "registry:5000/app:1.0.0",
    image_id: "sha256:old",
    local_digest: "sha256:aaa",
    remote_digest: "sha256:aaa",
    state: "up_to_date",
    checked_at: "2026-11-30T00:00:00.000Z",
    policy: "auto",
    ...over,
  };
}

Deno.test("autoTarget: a newer digest, else the newest minor or patch; never a major; only auto", () => {
  assert.equal(autoTarget(result({ policy: undefined, state: "update_available" })), undefined);
  assert.equal(autoTarget(result({})), undefined, "up to date with no newer version");
  assert.deepEqual(
    autoTarget(result({ state: "update_available", remote_digest: "sha256:bbb" })),
    { key: "c1 sha256:bbb" },
  );
  assert.deepEqual(
    autoTarget(result({ versions: { patch: "1.0.1", minor: "1.1.0", major: "2.0.0" } })),
    { tag: "1.1.0", key: "c1 1.1.0" },
  );
  assert.deepEqual(autoTarget(result({ versions: { patch: "1.0.1" } })), {
    tag: "1.0.1",
    key: "c1 1.0.1",
  });
  assert.equal(autoTarget(result({ versions: { major: "2.0.0" } })), undefined);
  assert.equal(
    autoTarget(result({ pinned: true, state: "update_available", remote_digest: "sha256:b" })),
    undefined,
  );
});

Deno.test("auto updates: dispatched as the scheduler, stack lock held, busy stack skipped, failures not retried", async () => {
  const requests: DispatchRequest[] = [];
  const locks = createProjectLocks();
  let heldDuring: boolean | undefined;
  let answer: (request: DispatchRequest) => unknown = () => ({ outcome: "updated" });
  const dispatcher = {
    dispatch: (request: DispatchRequest) => {
      requests.push(request);
      heldDuring = locks.holder("shop") !== undefined;
      return Promise.resolve().then(() => answer(request));
    },
  } as unknown as Dispatcher;
  const events: UpdateEvent[] = [];
  const auto = createAutoUpdater({
    dispatcher: () => dispatcher,
    locks,
    notify: (event) => events.push(event),
  });

  const inStack = result({
    id: "s1",
    stack: "shop",
    service: "web",
    state: "update_available",
    remote_digest: "sha256:new",
  });
  let done = await auto.run([inStack, result({ id: "c2" })]);
  assert.equal(requests.length, 1, "only the container that is behind");
  assert.deepEqual(
    { verb: requests[0].verb, target: requests[0].target, params: requests[0].params },
    { verb: "docker.update", target: "s1", params: {} },
  );
  assert.equal(requests[0].actor.username, "scheduler");
  assert.equal(requests[0].actor.role, "system");
  assert.equal(heldDuring, true, "the stack's lock is held during the update");
  assert.equal(locks.holder("shop"), undefined, "and released after");
  assert.equal(done[0].outcome, "updated");
  assert.equal(events[0].event, "update.applied");

  // A deploy holds the stack: skipped this time, tried at the next check.
  const release = locks.acquire("shop", { operation: "deploy", actor: "admin" });
  done = await auto.run([inStack]);
  release();
  assert.equal(done[0].outcome, "skipped");
  assert.match(done[0].reason!, /deploy of "shop" is running/);
  assert.equal(requests.length, 1);

  // A rollback (and a refusal) is reported once and not tried again for that target.
  answer = () => ({ outcome: "rolled_back", reason: "it exited at once (exit code 1)" });
  const versioned = result({ id: "c3", versions: { minor: "1.1.0" } });
  done = await auto.run([versioned]);
  assert.deepEqual(requests.at(-1)!.params, { tag: "1.1.0" });
  assert.equal(done[0].outcome, "rolled_back");
  answer = () => {
    throw new HttpError(409, "Container is removed when it stops (--rm)");
  };
  const refused = result({ id: "c4", state: "update_available", remote_digest: "sha256:x" });
  done = await auto.run([versioned, refused]);
  assert.deepEqual(done.map((d) => [d.container_id, d.outcome]), [["c4", "failed"]]);
  assert.deepEqual(
    events.slice(1).map((e) => e.event === "update.failed" && e.update.container_id),
    ["c3", "c4"],
  );
  assert.deepEqual(await auto.run([versioned, refused]), []);
  // A newer target for the same container is tried.
  answer = () => ({ outcome: "updated" });
  done = await auto.run([result({ id: "c3", versions: { minor: "1.2.0" } })]);
  assert.equal(done[0].outcome, "updated");
});
