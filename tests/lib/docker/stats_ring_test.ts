/** The stats hub's per-container history ring: order, age limit, size limit, growth. */
import assert from "node:assert/strict";
import { SampleRing, type StatsSample } from "../../../lib/docker/stats.ts";

function sample(time: number): StatsSample {
  return {
    id: "c",
    time,
    cpu_percent: time / 7,
    mem_bytes: time * 1024,
    mem_limit: 2 ** 33,
    mem_percent: 12.5,
    net_rx: time + 1,
    net_tx: time + 2,
    blk_read: time + 3,
    blk_write: time + 4,
    pids: 3,
  };
}

Deno.test("stats history ring: samples come back whole and oldest first, across growth", () => {
  const ring = new SampleRing(1000);
  const times = Array.from({ length: 100 }, (_, i) => 1_700_000_000_000 + i * 1000);
  for (const time of times) ring.push(sample(time));
  assert.equal(ring.length, 100);
  assert.deepEqual(ring.samples("c"), times.map(sample));
});

Deno.test("stats history ring: dropBefore keeps the recent samples; a full ring drops the oldest", () => {
  const ring = new SampleRing(40);
  for (let t = 0; t < 30; t++) ring.push(sample(t));
  ring.dropBefore(10);
  assert.deepEqual(
    ring.samples("c").map((s) => s.time),
    Array.from({ length: 20 }, (_, i) => i + 10),
  );
  // Past its size the ring wraps around and overwrites the oldest.
  for (let t = 30; t < 100; t++) ring.push(sample(t));
  assert.equal(ring.length, 40);
  assert.deepEqual(
    ring.samples("c").map((s) => s.time),
    Array.from({ length: 40 }, (_, i) => i + 60),
  );
  assert.deepEqual(ring.samples("c").at(-1), sample(99));
  ring.dropBefore(1000);
  assert.deepEqual(ring.samples("c"), []);
  ring.push(sample(1001));
  assert.deepEqual(ring.samples("c"), [sample(1001)]);
});
