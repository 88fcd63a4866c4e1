/**
 * Sign-in and setup with JavaScript disabled in Chromium: the forms post as plain HTML forms,
 * the server answers a redirect with the session cookie, or the form again with the error
 * (never a JSON page).
 */
import assert from "node:assert/strict";
import { launchBrowser, screenshotPath } from "../fixtures/browser.ts";
import { PANEL_ADMIN_PASSWORD, startPanel } from "../fixtures/server.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "e2e: sign-in works with JavaScript disabled; a wrong password shows the form again",
  ...e2e,
  async fn() {
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${panel.url}/login?next=/images`);
    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', "not the password");
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.match(await page.locator(".form-error").innerText(), /Invalid username or password/i);
    assert.equal(await page.locator('input[name="username"]').inputValue(), "admin");
    assert.doesNotMatch(await page.content(), /^\s*\{/, "an HTML page, not JSON");
    await page.screenshot({ path: await screenshotPath("no-script-login-refused") });

    await page.fill('input[name="password"]', PANEL_ADMIN_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${panel.url}/images`, { timeout: 15_000 });
    assert.equal(await page.locator("h1", { hasText: "Images" }).count() >= 1, true);
    await page.screenshot({ path: await screenshotPath("no-script-login-images") });
    await context.close();
  },
});

Deno.test({
  name: "e2e: setup works with JavaScript disabled",
  ...e2e,
  async fn() {
    await using panel = await startPanel({ env: { CM_ADMIN_PASSWORD: "" } });
    const token = panel.output().match(/setup token: ([0-9a-f]{48})/)![1];
    await using browser = await launchBrowser();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${panel.url}/setup`);
    await page.fill('input[name="token"]', token);
    await page.fill('input[name="password"]', "a long enough password");
    await page.fill('input[name="confirm"]', "another long password");
    await page.click('button[type="submit"]');
    await page.waitForLoadState();
    assert.match(await page.locator(".form-error").innerText(), /do not match/);
    await page.fill('input[name="token"]', token);
    await page.fill('input[name="password"]', "a long enough password");
    await page.fill('input[name="confirm"]', "a long enough password");
    await page.click('button[type="submit"]');
    await page.waitForURL(`${panel.url}/containers`, { timeout: 15_000 });
    await context.close();
  },
});
