/**
 * The Containers table with 300 containers of this test's (created, not started; two running
 * at the end of the name order): rows are virtualised (the page's HTML carries a screenful,
 * the DOM a window), scrolling reveals later rows, the filter finds a row outside the window,
 * a sort keeps the selection, Tab walks past the window's edge, stacks group, compact rows are
 * one 32 px line and the choice is remembered, and the stats stream asks only for the running
 * rows that are rendered. Screenshots at 1440 and 390 px in both themes.
 *
 * Runs alone (scripts/test.ts): 300 more containers would push other files' rows out of
 * their tables' windows.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { FIRST_WINDOW } from "../../islands/containers/virtual.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };
const COUNT = 300;

const rowName = (prefix: string, i: number) => `${prefix}r${String(i).padStart(3, "0")}`;

/** The URLs of every stats EventSource the page opens. */
async function trackStatsStreams(page: Page) {
  await page.addInitScript(() => {
    const urls: string[] = [];
    (globalThis as unknown as { cmStatsUrls: string[] }).cmStatsUrls = urls;
    const Original = EventSource;
    globalThis.EventSource = class extends Original {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        if (String(url).includes("/stats/stream")) urls.push(String(url));
      }
    };
  });
}

const statsUrls = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { cmStatsUrls: string[] }).cmStatsUrls);

const renderedRows = (page: Page) => page.locator("tr.ct-row").count();

Deno.test({
  name:
    "e2e: 300 containers: a virtualised window, scroll, filter, sort with selection, Tab, stacks, compact rows, stats for rendered rows",
  ...e2e,
  async fn() {
    await using engine = await testEngine("cmscale");
    const { docker, prefix } = engine;
    const ids = new Map<string, string>();
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < COUNT) {
        const i = next++;
        const running = i >= COUNT - 2;
        const id = await makeTestContainer(docker, prefix, rowName("", i), {
          Cmd: ["sleep", "600"],
          Labels: i < 3 ? { "com.docker.compose.project": `${prefix}stack` } : {},
        }, running);
        ids.set(rowName(prefix, i), id);
      }
    }));
    // A long name, after every other row: the screenshots show how it is cut.
    await makeTestContainer(docker, prefix, `zz-${"with-a-rather-long-name-".repeat(4)}end`, {
      Labels: { "com.docker.compose.project": `${prefix}stack-with-a-long-name` },
    }, false);
    const last = rowName(prefix, COUNT - 1);
    await using panel = await startPanel();
    const cookie = await panel.login();

    // The server renders a screenful of rows and sends the rest packed.
    const html = await (await fetch(`${panel.url}/containers`, { headers: { Cookie: cookie } }))
      .text();
    const serverRows = html.match(/<tr class="ct-row/g)?.length ?? 0;
    assert.ok(serverRows > 0 && serverRows <= FIRST_WINDOW, `${serverRows} rows in the HTML`);
    assert.ok(html.includes("ct-spacer"));

    await using browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies([{ name: "cm_session", value: cookie.split("=")[1], url: panel.url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const errors = watchErrors(page);
    await trackStatsStreams(page);
    await page.goto(`${panel.url}/containers`);
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
    const table = page.locator("table.ct-table");
    const total = Number(await table.getAttribute("aria-rowcount"));
    assert.ok(total >= COUNT + 1, `aria-rowcount ${total}`);
    const windowRows = await renderedRows(page);
    assert.ok(windowRows < 120, `${windowRows} rows rendered of ${total - 1}`);
    assert.equal(await table.evaluate((t) => t.classList.contains("ct-compact")), false);
    assert.equal(await page.locator(`tr[data-name="${last}"]`).count(), 0);

    // The stats stream names the rendered running rows only: the two at the end are not.
    await page.waitForFunction(
      () => (globalThis as unknown as { cmStatsUrls: string[] }).cmStatsUrls.length > 0,
      undefined,
      { timeout: 5_000 },
    ).catch(() => {}); // no stream at all when no rendered row runs
    for (const url of await statsUrls(page)) {
      assert.match(url, /\?ids=/, "a long table asks for its rendered rows' stats only");
      assert.ok(!url.includes(ids.get(last)!), "the last row's stats are not asked for");
    }

    // Scrolling to the end renders the last rows, with their place for screen readers.
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    const lastRow = page.locator(`tr[data-name="${last}"]`);
    await lastRow.waitFor({ state: "visible" });
    assert.equal(Number(await lastRow.getAttribute("aria-rowindex")) > FIRST_WINDOW, true);
    assert.ok(await renderedRows(page) < 120);
    // ... and the stats stream follows: the last (running) row gets its figures.
    await page.waitForFunction(
      (id) =>
        (globalThis as unknown as { cmStatsUrls: string[] }).cmStatsUrls.some((url) =>
          url.includes(id)
        ),
      ids.get(last)!,
    ).catch(async (error) => {
      const rows = await page.locator("tr.ct-row").evaluateAll((trs) =>
        trs.map((tr) => `${tr.getAttribute("data-name")} ${tr.className}`)
      );
      throw new Error(
        `${error}\nstats streams: ${(await statsUrls(page)).join("\n")}\nrows: ${rows.join("\n")}`,
      );
    });
    await lastRow.locator(".ct-col-cpu .ct-metric").waitFor({ timeout: 30_000 });
    await page.screenshot({ path: await screenshotPath("containers-scale-end-1440") });

    // The filter finds a row far outside the top window.
    await page.evaluate(() => scrollTo(0, 0));
    const filter = page.locator("input.ct-filter");
    await filter.fill(rowName(prefix, 250));
    await page.locator(`tr[data-name="${rowName(prefix, 250)}"]`).waitFor({ state: "visible" });
    assert.equal(await renderedRows(page), 1);
    await filter.fill(prefix);
    await page.locator(`tr[data-name="${rowName(prefix, 0)}"]`).waitFor({ state: "visible" });

    // Select two rows near the top, sort descending: they leave the window, stay selected.
    await page.locator(`tr[data-name="${rowName(prefix, 1)}"] .ct-col-select input`).click();
    await page.locator(`tr[data-name="${rowName(prefix, 2)}"] .ct-col-select input`).click();
    await page.locator(".ct-bulk-count", { hasText: "2 selected" }).waitFor();
    await page.locator("th.ct-col-name button").click(); // name, descending
    await page.locator(`tr[data-name="${last}"]`).waitFor({ state: "visible" });
    assert.equal(await page.locator(`tr[data-name="${rowName(prefix, 1)}"]`).count(), 0);
    assert.equal(await page.locator(".ct-bulk-count").textContent(), "2 selected");
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    const selectedBox = page.locator(`tr[data-name="${rowName(prefix, 1)}"] .ct-col-select input`);
    await selectedBox.waitFor({ state: "visible" });
    assert.equal(await selectedBox.isChecked(), true, "still selected after the sort");
    await page.locator(".ct-bulk button", { hasText: "Clear" }).click();
    await page.locator("th.ct-col-name button").click(); // back to ascending
    await page.evaluate(() => scrollTo(0, 0));

    // Tab walks from the first row past the first window's edge: rows render ahead of focus.
    await page.locator(`tr[data-name="${rowName(prefix, 0)}"] .ct-col-select input`).focus();
    for (let i = 0; i < 3 * (FIRST_WINDOW + 10); i++) await page.keyboard.press("Tab");
    const focusedIndex = await page.evaluate(() =>
      Number(document.activeElement?.closest("tr")?.getAttribute("aria-rowindex") ?? -1)
    );
    assert.ok(focusedIndex > FIRST_WINDOW + 2, `focus in row ${focusedIndex}`);
    await page.keyboard.press("Escape");

    // Group by stack: the stack's heading and the "No stack" heading; still a window.
    await page.getByLabel("Group by stack").check();
    await page.locator(`tr.ct-group[data-group="${prefix}stack"]`).waitFor();
    await page.locator('tr.ct-group[data-group="No stack"]').waitFor();
    assert.ok(await renderedRows(page) < 120);
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    await lastRow.waitFor({ state: "visible" });
    await page.getByLabel("Group by stack").uncheck();
    await page.evaluate(() => scrollTo(0, 0));

    // A container run from the header's dialog far down the list: its row is brought on screen.
    const ranName = `${rowName(prefix, 150)}x`;
    const before = Number(await table.getAttribute("aria-rowcount"));
    const ran = await makeTestContainer(docker, prefix, ranName.slice(prefix.length), {}, false);
    await page.evaluate(() => scrollTo(0, 0));
    await page.waitForFunction(
      (n) => Number(document.querySelector("table.ct-table")?.getAttribute("aria-rowcount")) > n,
      before,
    );
    await page.evaluate(
      (id) => dispatchEvent(new CustomEvent("cm:container-run", { detail: { id } })),
      ran,
    );
    const ranRow = page.locator(`tr[data-name="${ranName}"]`);
    await ranRow.waitFor({ state: "visible" });
    await page.waitForFunction((name) => {
      const box = document.querySelector(`tr[data-name="${name}"]`)?.getBoundingClientRect();
      return box !== undefined && box.top >= 0 && box.bottom <= innerHeight;
    }, ranName);
    assert.equal(await ranRow.evaluate((tr) => tr.classList.contains("is-new")), true);
    await filter.fill(prefix);
    await page.evaluate(() => scrollTo(0, 0));

    // Compact rows: one line of about 32 px, remembered by the browser.
    const firstRow = page.locator(`tr[data-name="${rowName(prefix, 0)}"]`);
    const normalHeight = (await firstRow.boundingBox())!.height;
    await page.getByLabel("Compact rows").check();
    await page.locator("table.ct-table.ct-compact").waitFor();
    const compactHeight = (await firstRow.boundingBox())!.height;
    assert.ok(compactHeight <= 34 && compactHeight < normalHeight, `${compactHeight} px`);
    await page.screenshot({ path: await screenshotPath("containers-scale-compact-1440") });
    await page.reload();
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
    await page.locator("table.ct-table.ct-compact").waitFor();
    assert.equal(await page.getByLabel("Compact rows").isChecked(), true);
    await filter.fill(prefix);

    // Screenshots: both row modes at 1440 and 390 px, light and dark.
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        for (const compact of [true, false]) {
          await page.getByLabel("Compact rows").setChecked(compact);
          await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
          await page.locator(`tr[data-name^="${prefix}zz-"]`).waitFor({ state: "visible" });
          await page.waitForTimeout(300);
          await page.screenshot({
            path: await screenshotPath(
              `containers-scale-${compact ? "compact" : "normal"}-${width}-${scheme}`,
            ),
          });
          const right = await table.evaluate((t) => t.getBoundingClientRect().right);
          assert.ok(right <= width, `the table fits in ${width} px (right edge ${right})`);
        }
      }
    }
    assert.deepEqual(errors, []);
    await context.close();
  },
});
