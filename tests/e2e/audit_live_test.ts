/**
 * The Audit tab's "N new rows" bar (issue 14): rows written while the reader has scrolled
 * down or filtered are counted in a bar that stays in view, the list does not move under
 * them, and a click shows the new rows.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

type Panel = Awaited<ReturnType<typeof startPanel>>;

/** One audit row, cheaply: a signed-in mutation the route refuses (bad JSON) is audited. */
async function refusedRow(panel: Panel, cookie: string) {
  const response = await fetch(`${panel.url}/api/containers/volumes`, {
    method: "POST",
    headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
    body: "{",
  });
  assert.equal(response.status, 400);
  await response.body?.cancel();
}

async function openAudit(page: Page, url: string) {
  const live = page.waitForResponse((r) => r.url().endsWith("/api/live/events"), {
    timeout: 15_000,
  });
  await page.goto(`${url}/audit`);
  await page.locator('[data-island="AuditLog"][data-hydrated="true"]').waitFor({
    timeout: 15_000,
  });
  await live;
  await page.waitForTimeout(300); // the server's subscription follows the response headers
}

const firstSeq = (page: Page) => page.locator("table.audit tbody tr td").first().innerText();

Deno.test({
  name: "e2e: audit rows written while scrolled or filtered show as 'N new rows', not in place",
  ...e2e,
  async fn() {
    await using panel = await startPanel();
    const cookie = await panel.login();
    for (let i = 0; i < 40; i++) await refusedRow(panel, cookie);
    await using browser = await launchBrowser();
    for (
      const [width, height, scheme] of [
        [1440, 900, "light"],
        [1440, 900, "dark"],
        [390, 844, "light"],
        [390, 844, "dark"],
      ] as const
    ) {
      const context = await browser.newContext({
        viewport: { width, height },
        colorScheme: scheme,
      });
      const page = await context.newPage();
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await openAudit(page, panel.url);

      // Scrolled down: two new rows are counted; the list and the scroll stay where they are.
      await page.evaluate(() => globalThis.scrollTo(0, 1200));
      const scrolled = await page.evaluate(() => globalThis.scrollY);
      assert.ok(scrolled > 100, `the page scrolls (${scrolled})`);
      const before = await firstSeq(page);
      const inView = page.locator("table.audit tbody tr").nth(25);
      const inViewTop = (await inView.boundingBox())!.y;
      await refusedRow(panel, cookie);
      await refusedRow(panel, cookie);
      const bar = page.locator("button.audit-new");
      await bar.filter({ hasText: /^2 new rows since this list was read/ }).waitFor({
        timeout: 5_000,
      });
      assert.equal(await firstSeq(page), before, "the list did not move");
      // The row the reader was looking at is where it was on screen (scroll anchoring keeps
      // it there while the bar appears above it).
      assert.ok(Math.abs((await inView.boundingBox())!.y - inViewTop) < 2, "the rows stay put");
      assert.ok(await bar.isVisible(), "the bar stays in view while scrolled");
      await page.screenshot({ path: await screenshotPath(`audit-new-rows-${width}-${scheme}`) });
      await bar.click();
      await page.waitForFunction(
        (seq) => document.querySelector("table.audit tbody tr td")?.textContent === seq,
        String(Number(before) + 2),
        { timeout: 5_000 },
      );
      assert.equal(await bar.count(), 0);
      assert.ok(await page.evaluate(() => globalThis.scrollY) < 4, "back at the top");

      // Filtered, at the top: counted too, and only the rows the filter keeps.
      await page.fill('input[placeholder="contains…"]', "volumes");
      await page.keyboard.press("Tab"); // the filter applies on change
      // The filtered list has arrived: every row is one of the refused volume requests.
      await page.waitForFunction(
        () => {
          const rows = [...document.querySelectorAll("table.audit tbody tr")];
          return rows.length >= 1 && rows.every((row) => row.textContent?.includes("volumes"));
        },
        undefined,
        { timeout: 5_000 },
      );
      const filteredFirst = await firstSeq(page);
      await refusedRow(panel, cookie);
      await bar.filter({ hasText: /^1 new row since/ }).waitFor({ timeout: 5_000 });
      assert.equal(await firstSeq(page), filteredFirst, "the filtered list did not move");
      await bar.click();
      await page.waitForFunction(
        (seq) => Number(document.querySelector("table.audit tbody tr td")?.textContent) > seq,
        Number(filteredFirst),
        { timeout: 5_000 },
      );
      assert.deepEqual(errors, []);
      await context.close();
    }
  },
});
