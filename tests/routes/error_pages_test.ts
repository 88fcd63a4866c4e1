/**
 * A browser that asks for a page the panel cannot show gets an HTML page that says why
 * (an unknown environment, a path that does not exist), not a JSON or plain-text answer;
 * API clients keep getting JSON.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";

const HTML = { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

Deno.test("pages that cannot be shown answer an HTML page with the reason; the API answers JSON", async () => {
  const t = await createTestApp();
  try {
    const cookie = t.cookieFor(await t.addUser("admin", "admin"));
    const unknownEnv = await t.request("GET", "/environments/nope/containers", {
      cookie,
      headers: HTML,
    });
    assert.equal(unknownEnv.status, 404);
    assert.match(unknownEnv.headers.get("content-type") ?? "", /^text\/html/);
    const page = await unknownEnv.text();
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /No environment nope/);
    assert.match(page, /href="\/environments"/);

    const missing = await t.request("GET", "/no-such-page", { cookie, headers: HTML });
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await missing.text(), /This page does not exist/);

    const api = await t.request("GET", "/api/environments/nope/containers", {
      cookie,
      headers: HTML,
    });
    assert.equal(api.status, 404);
    assert.match((await api.json()).error, /No environment nope/);
  } finally {
    await t.close();
  }
});
