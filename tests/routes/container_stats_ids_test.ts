/**
 * GET /api/containers/stats/stream?ids=: the Containers table's stream for the rows it
 * renders. Only those containers get an Engine upstream; a stopped or unknown id opens none.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import {
  ensureTestImage,
  makeTestContainer,
  readEvents,
  removeTestContainers,
  uniquePrefix,
} from "../fixtures/engine.ts";

Deno.test("stats stream with ?ids= streams only those running containers, one upstream each", async () => {
  const t = await createTestApp();
  const prefix = uniquePrefix("cmstatsids");
  try {
    await ensureTestImage(t.deps.docker);
    const viewer = t.cookieFor(await t.addUser("ids-viewer", "viewer"));
    const sleep = { Cmd: ["sleep", "300"] };
    const wanted = await makeTestContainer(t.deps.docker, prefix, "wanted", sleep);
    const other = await makeTestContainer(t.deps.docker, prefix, "other", sleep);
    const stopped = await makeTestContainer(t.deps.docker, prefix, "stopped", sleep, false);
    const unknown = "f".repeat(64);

    const bad = await t.request("GET", "/api/containers/stats/stream?ids=abc", { cookie: viewer });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /full 64-character container id/);
    const unsigned = await t.request("GET", `/api/containers/stats/stream?ids=${wanted}`);
    assert.equal(unsigned.status, 401);
    await unsigned.body?.cancel();

    const response = await t.request(
      "GET",
      `/api/containers/stats/stream?ids=${wanted},${stopped},${unknown}`,
      { cookie: viewer },
    );
    assert.equal(response.status, 200);
    let upstreams = -1;
    const events = await readEvents(response, (events) => {
      const samples = events.filter((e) => e.event === "stats");
      if (samples.length < 3) return false;
      upstreams = t.deps.stats.upstreams();
      return true;
    }, 20_000);
    const ids = new Set(
      events.filter((e) => e.event === "stats").map((e) => (e.data as { id: string }).id),
    );
    assert.deepEqual([...ids], [wanted], "samples of the asked running container only");
    assert.equal(upstreams, 1, "one Engine stream: not the other running one, not the stopped");
    assert.ok(!ids.has(other));
  } finally {
    await removeTestContainers(t.deps.docker, prefix);
    await t.close();
  }
});
