/**
 * The managed badge after an upgrade: panel versions before issue 14 added the
 * --managed-label to what "Run container" made. The panel's own explicit label wins over
 * it; a container carrying only the managed label is still another system's.
 */
import assert from "node:assert/strict";
import { containerView, CREATED_BY_LABEL, inspectView } from "../../../lib/docker/views.ts";
import type { ContainerInspect, ContainerSummary } from "../../../lib/docker/types.ts";

const MANAGED = "io.quazzar.managed";

function summary(labels: Record<string, string>): ContainerSummary {
  return {
    Id: "a".repeat(64),
    Names: ["/web"],
    Image: "busybox",
    ImageID: "sha256:" + "b".repeat(64),
    Command: "sleep 1",
    Created: 1,
    State: "running",
    Status: "Up 1 second",
    Ports: [],
    Labels: labels,
  } as unknown as ContainerSummary;
}

Deno.test("managed badge: the panel's created-by label wins over the managed label", () => {
  const both = containerView(summary({ [MANAGED]: "true", [CREATED_BY_LABEL]: "panel" }), MANAGED);
  assert.equal(both.managed, false);
  assert.equal(both.panel_created, true);
  const other = containerView(summary({ [MANAGED]: "true" }), MANAGED);
  assert.equal(other.managed, true, "only the managed label: another system's");
  assert.equal(other.panel_created, false);
  const plain = containerView(summary({}), MANAGED);
  assert.equal(plain.managed, false);
});

Deno.test("managed badge: inspect agrees with the list", () => {
  const info = {
    Id: "a".repeat(64),
    Name: "/web",
    Created: "2026-01-01T00:00:00Z",
    State: { Status: "running", Running: true, StartedAt: "", FinishedAt: "", ExitCode: 0 },
    Config: { Image: "busybox", Labels: { [MANAGED]: "true", [CREATED_BY_LABEL]: "panel" } },
    HostConfig: {},
    NetworkSettings: { Ports: {}, Networks: {} },
    Mounts: [],
    Image: "sha256:" + "b".repeat(64),
  } as unknown as ContainerInspect;
  const view = inspectView(info, { showEnvValues: false, managedLabel: MANAGED });
  assert.equal(view.managed_label, null);
  assert.equal(view.panel_created, true);
});
