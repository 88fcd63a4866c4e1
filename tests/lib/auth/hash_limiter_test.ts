import assert from "node:assert/strict";
import { createHashLimiter, HashingBusyError } from "../../../lib/auth/hash_limiter.ts";

Deno.test("hash limiter: at most `concurrency` run, `queue` wait, the rest are refused at once", async () => {
  const limiter = createHashLimiter({ concurrency: 2, queue: 3 });
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const work = () =>
    new Promise<number>((resolve) => {
      running++;
      peak = Math.max(peak, running);
      gates.push(() => {
        running--;
        resolve(running);
      });
    });
  const accepted = Array.from({ length: 5 }, () => limiter.run(work));
  assert.deepEqual(limiter.load(), { running: 2, waiting: 3 });
  await assert.rejects(limiter.run(work), HashingBusyError);
  let started = 0;
  while (started < 5) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const gate = gates.shift();
    if (gate) {
      gate();
      started++;
    }
  }
  await Promise.all(accepted);
  assert.equal(peak, 2);
  assert.deepEqual(limiter.load(), { running: 0, waiting: 0 });
});

Deno.test("hash limiter: a failing derivation frees its slot", async () => {
  const limiter = createHashLimiter({ concurrency: 1, queue: 0 });
  await assert.rejects(limiter.run(() => Promise.reject(new Error("boom"))), /boom/);
  let finish!: () => void;
  const busy = limiter.run(() => new Promise<void>((resolve) => finish = resolve));
  const refused = await limiter.run(() => Promise.resolve()).catch((e) => e);
  assert.ok(refused instanceof HashingBusyError);
  assert.equal(refused.status, 429);
  assert.match(refused.message, /busy/);
  finish();
  await busy;
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
});
