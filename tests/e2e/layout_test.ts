import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";

Deno.test({
  name: "e2e: the page renders, the island hydrates and reacts to a click",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    await signIn(page, panel.url);
    assert.equal(await page.title(), "Containers · Container Manager");
    for (const tab of ["Containers", "Compose", "Images", "Audit"]) {
      assert.equal(await page.locator("nav.tabs a", { hasText: tab }).count(), 1, `tab ${tab}`);
    }
    assert.equal(await page.locator("header button", { hasText: "Run container" }).count(), 1);

    const island = page.locator('[data-island="EngineStatus"][data-hydrated="true"]');
    await island.waitFor({ timeout: 10_000 });
    const button = island.locator("button");
    assert.equal(await button.getAttribute("data-checks"), "0");
    assert.match(await button.innerText(), /Engine \d+\./);
    await button.click();
    // Only a hydrated island can count clicks: the server rendered data-checks="0".
    await page.locator('[data-island="EngineStatus"] button[data-checks="1"]').waitFor({
      timeout: 10_000,
    });
    assert.match(await button.innerText(), /Engine \d+\./);
    await page.screenshot({
      path: await screenshotPath("foundation-containers"),
      fullPage: true,
    });
    assert.deepEqual(
      // Other test files add and remove network links meanwhile: Chromium then aborts loads.
      errors.filter((error) => !/net::ERR_NETWORK_CHANGED/.test(error)),
      [],
      "no errors in the browser console (a CSP violation would show here)",
    );
  },
});

Deno.test({
  name: "e2e: with the Engine down the page says so",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using panel = await startPanel({ args: ["--docker-host", "unix:///nonexistent.sock"] });
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await signIn(page, panel.url);
    await page.locator('[data-island="EngineStatus"][data-hydrated="true"]').waitFor({
      timeout: 10_000,
    });
    assert.match(
      await page.locator(".notice.error").innerText(),
      /Docker Engine unreachable at unix:\/\/\/nonexistent.sock/,
    );
    assert.match(await page.locator(".engine-status").innerText(), /Engine unreachable/);
    await page.screenshot({
      path: await screenshotPath("foundation-engine-down"),
      fullPage: true,
    });
  },
});

Deno.test({
  name: "e2e: an island whose chunk fails to load once is loaded again and hydrates",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await signIn(page, panel.url);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    // The first fetch of the EngineStatus chunk is cut, as a reset connection would be.
    let cut = 0;
    await page.route(/\/static\/build\/EngineStatus-[^/]+\.js$/, async (route) => {
      if (cut++ === 0) await route.abort("connectionreset");
      else await route.continue();
    });
    await page.goto(`${panel.url}/containers`);
    await page.locator('[data-island="EngineStatus"][data-hydrated="true"]').waitFor({
      timeout: 10_000,
    });
    assert.equal(cut, 2, "the chunk was asked for twice");
    assert.deepEqual(
      // ERR_NETWORK_CHANGED: other test files add and remove network links meanwhile.
      errors.filter((error) => !/net::ERR_(CONNECTION_RESET|NETWORK_CHANGED)/.test(error)),
      [],
      "no error beyond the cut request itself",
    );
  },
});
