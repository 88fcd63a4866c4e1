/** The Compose tab's preview request: it carries remove_orphans, so the plan shows what deploy does. */
import assert from "node:assert/strict";
import { previewBody, previewKey } from "../../../islands/compose/request.ts";

const source = { yaml: "services: {}\n", env: "", project: "demo" };

Deno.test("the preview body carries remove_orphans, and toggling it asks for a new preview", () => {
  assert.equal(previewBody({ ...source, removeOrphans: true }).remove_orphans, true);
  assert.equal("remove_orphans" in previewBody(source), false);
  assert.notEqual(previewKey({ ...source, removeOrphans: true }), previewKey(source));
  assert.deepEqual(previewBody({ ...source, env: "A=1", profiles: ["debug"] }), {
    yaml: source.yaml,
    env: "A=1",
    project: "demo",
    profiles: ["debug"],
  });
});
