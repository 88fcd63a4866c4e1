import assert from "node:assert/strict";
import { targetText } from "../../islands/AuditLog.tsx";

const id = "0123456789ab".padEnd(64, "c");
const names = new Map([[id.slice(0, 12), { id, name: "web" }]]);

Deno.test("audit target: a container id shows as the container's name, the id in the tooltip", () => {
  assert.deepEqual(targetText(id, names), { text: "web", title: `web (${id})` });
  assert.deepEqual(targetText(id.slice(0, 12), names), {
    text: "web",
    title: `web (${id.slice(0, 12)})`,
  });
});

Deno.test("audit target: an id of a container gone shows short; names and others as written", () => {
  const gone = "f".repeat(64);
  assert.deepEqual(targetText(gone, names), { text: "ffffffffffff", title: gone });
  assert.deepEqual(targetText("nginx:latest", names), {
    text: "nginx:latest",
    title: "nginx:latest",
  });
  assert.deepEqual(targetText("", names), { text: "–", title: "" });
  // Another container sharing the first 12 characters is not this one.
  assert.deepEqual(targetText(`0123456789ab${"d".repeat(52)}`, names).text, "0123456789ab");
});
