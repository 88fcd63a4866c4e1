import assert from "node:assert/strict";
import {
  currentEnv,
  enginePath,
  enginePathFor,
  envOfPath,
  localPagePath,
  pagePath,
  pagePathFor,
  renderWithEnv,
  switchTarget,
} from "../../islands/env.ts";

Deno.test("envOfPath reads the environment from a page path, local by default", () => {
  assert.equal(envOfPath("/containers"), "local");
  assert.equal(envOfPath("/environments"), "local");
  assert.equal(envOfPath("/environments/"), "local");
  assert.equal(envOfPath("/environments/edge-1/containers"), "edge-1");
  assert.equal(envOfPath("/environments/edge-1"), "edge-1");
  assert.equal(envOfPath("/environments/a%20b/images"), "a b");
  assert.equal(envOfPath("/environments/%E0%A4%A/images"), "local");
});

Deno.test("enginePathFor moves engine-scoped paths below the environment", () => {
  assert.equal(enginePathFor("local", "/api/containers/x"), "/api/containers/x");
  assert.equal(enginePathFor("e1", "/api/containers"), "/api/environments/e1/containers");
  assert.equal(
    enginePathFor("e1", "/api/containers/abc/logs?tail=5"),
    "/api/environments/e1/containers/abc/logs?tail=5",
  );
  assert.equal(
    enginePathFor("e1", "/api/containers?all=1"),
    "/api/environments/e1/containers?all=1",
  );
  assert.equal(
    enginePathFor("e1", "/api/docker/containers/a/stats/stream"),
    "/api/environments/e1/docker/containers/a/stats/stream",
  );
  assert.equal(enginePathFor("e1", "/api/swarm/nodes"), "/api/environments/e1/swarm/nodes");
  assert.equal(enginePathFor("e1", "/api/live/events"), "/api/environments/e1/live/events");
  assert.equal(
    enginePathFor("e1", "/ws/containers/a/exec?cmd=sh"),
    "/ws/environments/e1/containers/a/exec?cmd=sh",
  );
  assert.equal(enginePathFor("a/b", "/api/swarm"), "/api/environments/a%2Fb/swarm");
});

Deno.test("enginePathFor leaves the panel's own routes alone", () => {
  for (
    const path of [
      "/api/audit",
      "/api/environments",
      "/api/auth/me",
      "/api/containersx",
      "/api/health",
    ]
  ) {
    assert.equal(enginePathFor("e1", path), path);
  }
});

Deno.test("pagePathFor keeps the environment on its tabs only", () => {
  assert.equal(pagePathFor("local", "/containers"), "/containers");
  assert.equal(pagePathFor("e1", "/containers?q=web"), "/environments/e1/containers?q=web");
  assert.equal(pagePathFor("e1", "/swarm"), "/environments/e1/swarm");
  assert.equal(pagePathFor("e1", "/audit"), "/audit");
  assert.equal(pagePathFor("e1", "/environments"), "/environments");
  assert.equal(pagePathFor("e2", "/environments/e1/images"), "/environments/e2/images");
  assert.equal(pagePathFor("local", "/environments/e1/images?x=1"), "/images?x=1");
});

Deno.test("localPagePath drops the environment segment", () => {
  assert.equal(localPagePath("/environments/e1/compose"), "/compose");
  assert.equal(localPagePath("/environments"), "/environments");
  assert.equal(localPagePath("/volumes"), "/volumes");
});

Deno.test("a server render sees the environment it renders for, then local again", () => {
  assert.equal(currentEnv(), "local");
  const inside = renderWithEnv(
    "e1",
    () => [currentEnv(), pagePath("/images"), enginePath("/api/swarm")],
  );
  assert.deepEqual(inside, ["e1", "/environments/e1/images", "/api/environments/e1/swarm"]);
  assert.equal(currentEnv(), "local");
  assert.throws(() =>
    renderWithEnv("e2", () => {
      throw new Error("render failed");
    }), /render failed/);
  assert.equal(currentEnv(), "local");
});

Deno.test("switchTarget keeps the tab (without its query) and sends panel pages to Containers", () => {
  assert.equal(switchTarget("e1", "/images"), "/environments/e1/images");
  assert.equal(switchTarget("local", "/environments/e1/volumes"), "/volumes");
  assert.equal(switchTarget("e2", "/environments/e1/swarm"), "/environments/e2/swarm");
  assert.equal(switchTarget("e1", "/audit"), "/environments/e1/containers");
  assert.equal(switchTarget("local", "/environments"), "/containers");
  assert.equal(switchTarget("e2", "/environments/e1/swarm", false), "/environments/e2/containers");
});
