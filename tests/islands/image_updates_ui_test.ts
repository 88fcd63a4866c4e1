/** The pure parts of the image details, registry browser and stack update islands. */
import assert from "node:assert/strict";
import { applyPushLines, initialPush } from "../../islands/images/push.ts";
import { sortTags } from "../../islands/images/RegistryBrowser.tsx";
import { stackUpdatedText } from "../../islands/updates/text.ts";
import type { StackUpdated, UpdateApplied } from "../../islands/updates/types.ts";

const layer = "0123456789ab";

Deno.test("push progress: one entry per layer with bytes, the final digest, an error", () => {
  let state = initialPush("127.0.0.1:5000/team/app:1");
  state = applyPushLines(state, [
    { status: "The push refers to repository [127.0.0.1:5000/team/app]" },
    { status: "Preparing", id: layer },
    { status: "Pushing", id: layer, progressDetail: { current: 512, total: 2048 } },
  ]);
  assert.equal(state.status, "The push refers to repository [127.0.0.1:5000/team/app]");
  assert.deepEqual(state.layers, [
    { id: layer, status: "Pushing", current: 512, total: 2048, finished: false },
  ]);
  state = applyPushLines(state, [{ status: "Pushed", id: layer }]);
  assert.equal(state.layers[0].finished, true);
  assert.equal(state.layers[0].total, 2048, "a line without bytes keeps the known size");
  const done = applyPushLines(state, [{ done: true, digest: `sha256:${"a".repeat(64)}` }]);
  assert.equal(done.outcome, "done");
  assert.equal(done.digest, `sha256:${"a".repeat(64)}`);
  const failed = applyPushLines(state, [{ done: false, error: "unauthorized" }]);
  assert.equal(failed.outcome, "failed");
  assert.equal(failed.error, "unauthorized");
});

Deno.test("registry browser: tags newest version first, other tags after by name", () => {
  assert.deepEqual(
    sortTags(["1.0.0", "latest", "1.10.0", "1.2.0", "edge", "2"]),
    ["2", "1.10.0", "1.2.0", "1.0.0", "edge", "latest"],
  );
});

function applied(outcome: UpdateApplied["outcome"], reason?: string): UpdateApplied {
  return {
    outcome,
    id: "new",
    previous_id: "old",
    name: "shop-b-1",
    old_image: "r/b:1",
    new_image: "r/b:1",
    old_digest: `sha256:${"1".repeat(64)}`,
    new_digest: `sha256:${"2".repeat(64)}`,
    old_image_id: "x",
    new_image_id: "y",
    running: true,
    ...(reason ? { reason } : {}),
  };
}

Deno.test("stack update result in words: updated, unchanged, rolled back, nothing", () => {
  const answer: StackUpdated = {
    project: "Shop",
    updated: [{ service: "b", containers: [applied("updated")] }],
    unchanged: ["a"],
    rolled_back: false,
  };
  assert.equal(
    stackUpdatedText(answer),
    "Shop: updated b (1 container, sha256:111111111111… → sha256:222222222222…); a already runs its newest image.",
  );
  assert.equal(
    stackUpdatedText({
      project: "shop",
      updated: [{
        service: "b",
        containers: [applied("rolled_back", "it exited at once (exit code 1)")],
      }],
      unchanged: [],
      rolled_back: true,
    }),
    "shop: rolled b back to its old image: it exited at once (exit code 1).",
  );
  assert.equal(
    stackUpdatedText({ project: "shop", updated: [], unchanged: ["a", "b"], rolled_back: false }),
    "shop: nothing to update; a, b already run their newest image.",
  );
});
