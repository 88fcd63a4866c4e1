import assert from "node:assert/strict";
import {
  createParsePool,
  RECYCLE_BYTES,
  setParseWorkerUrl,
} from "../../../lib/compose/parse_pool.ts";

/**
 * A stand-in parse worker that names itself: each worker answers with an id drawn when it
 * started, so a test sees whether two previews were parsed by the same worker.
 */
async function withNamingWorker(fn: () => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "cm-parse-pool-" });
  const path = `${dir}/worker.ts`;
  await Deno.writeTextFile(
    path,
    `const me = crypto.randomUUID();
     self.onmessage = ({ data }) => self.postMessage({ id: data.id, ok: true, project: { name: me } });`,
  );
  setParseWorkerUrl(new URL(`file://${path}`));
  try {
    await fn();
  } finally {
    setParseWorkerUrl(new URL("../../../lib/compose/parse_worker.ts", import.meta.url));
    await Deno.remove(dir, { recursive: true });
  }
}

async function workerOf(pool: ReturnType<typeof createParsePool>, yaml = "services: {}\n") {
  const turn = pool.reserve("user");
  try {
    return (await turn.parse(() => Promise.resolve({ yaml }))).name;
  } finally {
    turn.release();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("the parse worker stays warm between previews and ends after its idle period", async () => {
  await withNamingWorker(async () => {
    const shutdown = new AbortController();
    const pool = createParsePool({ idleMs: 300, signal: shutdown.signal });
    try {
      const first = await workerOf(pool);
      assert.equal(await workerOf(pool), first, "the next preview reuses the warm worker");
      await sleep(1_000);
      assert.notEqual(await workerOf(pool), first, "an idle worker was ended");
    } finally {
      shutdown.abort();
    }
  });
});

Deno.test("a worker that parsed its share of input is replaced", async () => {
  await withNamingWorker(async () => {
    const shutdown = new AbortController();
    const pool = createParsePool({ idleMs: 60_000, signal: shutdown.signal });
    try {
      const first = await workerOf(pool, "x".repeat(RECYCLE_BYTES));
      assert.notEqual(await workerOf(pool), first);
    } finally {
      shutdown.abort();
    }
  });
});

Deno.test("shutdown ends a warm worker and refuses later previews", async () => {
  await withNamingWorker(async () => {
    const shutdown = new AbortController();
    const pool = createParsePool({ idleMs: 60_000, signal: shutdown.signal });
    await workerOf(pool);
    shutdown.abort();
    await assert.rejects(workerOf(pool), /shutting down/);
  });
});
