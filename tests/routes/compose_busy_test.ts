/** A deploy refused because the compose parser is busy gets a 429 worded for a deploy. */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../fixtures/app.ts";

Deno.test("a deploy while every parse slot is taken: 429 with Retry-After, worded for a deploy", async () => {
  const t = await createTestApp();
  const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];
  const pending: Promise<Response>[] = [];
  try {
    // Five previews (one per user) whose bodies never end: one parsing, four waiting.
    for (let i = 0; i < 5; i++) {
      const cookie = t.cookieFor(await t.addUser(`viewer${i}`, "viewer"));
      const body = new ReadableStream<Uint8Array>({ start: (c) => void stalled.push(c) });
      pending.push(Promise.resolve(t.app.request(`${ORIGIN}/api/containers/compose/preview`, {
        method: "POST",
        // A length, so the body-limit middleware lets the route read (and wait on) it.
        headers: {
          Cookie: cookie,
          Origin: ORIGIN,
          "Content-Type": "application/json",
          "Content-Length": "100",
        },
        body,
        // @ts-ignore: Deno's fetch types need duplex for a streamed body
        duplex: "half",
      })));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const admin = t.cookieFor(await t.addUser("admin", "admin"));
    const response = await t.request("POST", "/api/containers/compose/deploy", {
      cookie: admin,
      json: { yaml: "services: {}\n", project: "busy" },
    });
    assert.equal(response.status, 429);
    assert.ok(Number(response.headers.get("Retry-After")) > 0);
    const { error } = await response.json();
    assert.match(error, /deploy/i);
    assert.doesNotMatch(error, /preview/i);
  } finally {
    for (const controller of stalled) controller.error(new Error("test over"));
    await Promise.allSettled(pending.map((p) => p.then((r) => r.body?.cancel())));
    await t.close();
  }
});
