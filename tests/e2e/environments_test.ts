/**
 * The environments UI end to end: the Environments page, adding a `unix://` environment (a
 * symlink to the local socket), the header switcher (same tab, the env in the URL, kept on
 * reload), a down environment shown as down (an extra Engine from the netns fixture, its
 * daemon killed) and back up when it starts again, removing with Cancel focused; screenshots
 * at 1440 and 390 px in both themes.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";

const VIEWPORTS = [
  { name: "1440", width: 1440, height: 900 },
  { name: "390", width: 390, height: 844 },
] as const;

async function hydrated(page: Page, island: string, timeout = 30_000) {
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).first().waitFor({
    timeout,
  }).catch(async (error) => {
    await page.screenshot({ path: await screenshotPath(`environments-not-hydrated-${island}`) });
    const state = await page.evaluate(() => ({
      url: location.href,
      islands: [...document.querySelectorAll<HTMLElement>("[data-island]")].map((el) =>
        `${el.dataset.island}:${el.dataset.hydrated ?? "-"}`
      ),
      resources: performance.getEntriesByType("resource").map((r) =>
        `${r.name} ${Math.round(r.duration)}ms`
      ),
    }));
    throw new Error(`${error}\n${JSON.stringify(state, null, 1)}`);
  });
}

/** Opens the header switcher (through the menu button at narrow widths it is still in the bar). */
async function openSwitcher(page: Page) {
  await hydrated(page, "EnvironmentSwitcher");
  await page.locator(".env-switch").click();
  await page.locator("#env-menu .env-item[data-env-id]").first().waitFor({ timeout: 15_000 });
}

Deno.test({
  name: "e2e: environments page, switcher, a unix:// env through a symlink, down env, remove",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cm-env-e2e-" });
    const upLink = `${dir}/up.sock`;
    await Deno.symlink("/var/run/docker.sock", upLink);
    const suffix = crypto.randomUUID().slice(0, 6);
    const upName = `e2e-up-${suffix}`;
    const downName = `e2e-down-${suffix}`;
    try {
      await using extra = await startNetnsEngines("envui", { count: 1 });
      const engine = extra.engines[0];
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);

      // The switcher is in the header on the local page, showing local as up.
      await hydrated(page, "EnvironmentSwitcher");
      assert.equal(await page.locator("body").getAttribute("data-env"), "local");

      // The Environments page with only local: the empty hint.
      await page.goto(`${panel.url}/environments`);
      await hydrated(page, "EnvironmentsPanel");
      await page.locator('tr[data-env-id="local"][data-status="up"]').waitFor({ timeout: 20_000 });
      assert.match(await page.locator(".env-empty").innerText(), /Only this machine's Engine/);
      await page.screenshot({ path: await screenshotPath("environments-only-local-1440-light") });

      // Add: a refused address shows next to the URL field, then the symlink works.
      await page.getByRole("button", { name: "Add environment" }).click();
      const dialog = page.locator("#env-dialog");
      await dialog.locator('input[name="name"]').fill(upName);
      await dialog.locator('input[name="url"]').fill(`unix://${dir}/missing.sock`);
      await dialog.getByRole("button", { name: "Add environment" }).click();
      const urlError = dialog.locator("#env-url-error");
      await urlError.waitFor({ timeout: 20_000 });
      assert.ok((await urlError.innerText()).length > 0);
      await page.screenshot({ path: await screenshotPath("environments-add-error-1440-light") });
      // A tcp:// address asks for the certificates.
      await dialog.locator('input[name="url"]').fill("tcp://198.18.0.1:2376");
      assert.equal(await dialog.locator("textarea[name=key]").count(), 1);
      await page.screenshot({ path: await screenshotPath("environments-add-tls-1440-light") });
      await dialog.locator('input[name="url"]').fill(`unix://${upLink}`);
      assert.equal(await dialog.locator("textarea[name=key]").count(), 0);
      await dialog.getByRole("button", { name: "Add environment" }).click();
      await dialog.waitFor({ state: "detached", timeout: 20_000 });
      const upRow = page.locator("tr[data-env-id]", { hasText: upName });
      await upRow.waitFor({ timeout: 20_000 });
      const upId = (await upRow.getAttribute("data-env-id"))!;
      assert.ok(upId && upId !== "local");
      await page.locator(`tr[data-env-id="${upId}"][data-status="up"]`).waitFor({
        timeout: 30_000,
      });

      // The second one, to be taken down.
      await page.getByRole("button", { name: "Add environment" }).click();
      await dialog.locator('input[name="name"]').fill(downName);
      await dialog.locator('input[name="url"]').fill(`unix://${engine.socket}`);
      await dialog.getByRole("button", { name: "Add environment" }).click();
      await dialog.waitFor({ state: "detached", timeout: 20_000 });
      const downRow = page.locator("tr[data-env-id]", { hasText: downName });
      await downRow.waitFor({ timeout: 20_000 });
      const downId = (await downRow.getAttribute("data-env-id"))!;

      // The switcher: from local Images, choose the new env → the same tab under it.
      await page.goto(`${panel.url}/images`);
      await openSwitcher(page);
      await page.screenshot({ path: await screenshotPath("environments-switcher-1440-light") });
      await page.locator(`#env-menu .env-item[data-env-id="${upId}"]`).click();
      await page.waitForURL(`${panel.url}/environments/${upId}/images`, { timeout: 15_000 });
      assert.equal(await page.locator("body").getAttribute("data-env"), upId);
      assert.equal(await page.locator("nav.tabs a.active").innerText(), "Images");
      // The tabs keep the env; a reload keeps it too.
      assert.equal(
        await page.locator("nav.tabs a", { hasText: "Volumes" }).getAttribute("href"),
        `/environments/${upId}/volumes`,
      );
      await page.reload();
      await hydrated(page, "EnvironmentSwitcher");
      assert.equal(new URL(page.url()).pathname, `/environments/${upId}/images`);
      await page.locator(".env-switch-name", { hasText: upName }).waitFor({ timeout: 15_000 });
      // The islands talk to the env's routes: the images list loads from that Engine.
      await hydrated(page, "ImagesPanel");
      // Containers under the env, and back to local on the same tab.
      await page.locator("nav.tabs a", { hasText: "Containers" }).click();
      await page.waitForURL(`${panel.url}/environments/${upId}/containers`, { timeout: 15_000 });
      await hydrated(page, "ContainersTable");
      await openSwitcher(page);
      await page.locator('#env-menu .env-item[data-env-id="local"]').click();
      await page.waitForURL(`${panel.url}/containers`, { timeout: 15_000 });

      // The Audit tab filters by environment: a volume made and removed through the env's
      // routes is listed under it, with the environment in its row.
      const volume = `e2e-envui-${suffix}`;
      const headers = { Origin: panel.url };
      const made = await page.request.post(
        `${panel.url}/api/environments/${upId}/containers/volumes`,
        {
          headers,
          data: { name: volume },
        },
      );
      assert.equal(made.status(), 201, await made.text());
      const gone = await page.request.delete(
        `${panel.url}/api/environments/${upId}/containers/volumes/${volume}`,
        { headers },
      );
      assert.ok(gone.ok(), await gone.text());
      await page.goto(`${panel.url}/audit`);
      await hydrated(page, "AuditLog");
      const envSelect = page.locator("form.filters select").filter({
        has: page.locator(`option[value="${upId}"]`),
      });
      await envSelect.selectOption(upId);
      // The filtered list: only that environment's rows, the volume's among them.
      await page.waitForFunction(
        ([name, target]) => {
          const cells = [...document.querySelectorAll("table.audit td.col-env")];
          const targets = [...document.querySelectorAll("table.audit td.mono")];
          return cells.length > 0 && cells.every((cell) => cell.textContent === name) &&
            targets.some((cell) => cell.textContent === target);
        },
        [upName, volume],
        { timeout: 15_000 },
      );
      await page.screenshot({ path: await screenshotPath("environments-audit-filter-1440-light") });

      // Down: its daemon is killed; the env shows as down, its pages say the Engine is
      // unreachable (not an error page), and the switcher shows it down.
      await engine.kill();
      await page.goto(`${panel.url}/environments`);
      await hydrated(page, "EnvironmentsPanel");
      await page.locator(`tr[data-env-id="${downId}"][data-status="down"]`).waitFor({
        timeout: 60_000,
      }).catch(async (error) => {
        const list = await page.request.get(`${panel.url}/api/environments`);
        throw new Error(`${error}\n${await list.text()}\n${panel.output().slice(-3000)}`);
      });
      await page.goto(`${panel.url}/environments/${downId}/containers`);
      assert.match(await page.locator(".notice.error").first().innerText(), /unreachable/i);
      await hydrated(page, "EnvironmentSwitcher");
      await page.locator(".env-switch.is-down").waitFor({ timeout: 15_000 });

      // Screenshots: the page, the switcher and the down env, 1440 and 390, light and dark.
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const viewport of VIEWPORTS) {
          await page.setViewportSize(viewport);
          await page.goto(`${panel.url}/environments`);
          await hydrated(page, "EnvironmentsPanel");
          await page.locator(`tr[data-env-id="${downId}"][data-status="down"]`).waitFor({
            timeout: 30_000,
          });
          await page.locator(`tr[data-env-id="${upId}"][data-status="up"]`).waitFor({
            timeout: 30_000,
          });
          await page.screenshot({
            path: await screenshotPath(`environments-page-${viewport.name}-${scheme}`),
            fullPage: true,
          });
          await page.locator(`tr[data-env-id="${upId}"] button`, { hasText: "Edit" }).click();
          await page.locator("#env-dialog").waitFor();
          await page.screenshot({
            path: await screenshotPath(`environments-edit-${viewport.name}-${scheme}`),
          });
          await page.keyboard.press("Escape");
          await page.locator("#env-dialog").waitFor({ state: "detached" });
          await page.goto(`${panel.url}/environments/${downId}/containers`);
          await openSwitcher(page);
          await page.screenshot({
            path: await screenshotPath(`environments-down-${viewport.name}-${scheme}`),
          });
        }
      }
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 1440, height: 900 });

      // Back up: the daemon starts again, the env recovers by itself, and its page (rendered
      // while down) reloads itself with the Engine's data.
      await page.goto(`${panel.url}/environments/${downId}/containers`);
      await hydrated(page, "EnvironmentSwitcher");
      await engine.start();
      await hydrated(page, "ContainersTable", 90_000).catch(async () => {
        throw new Error(`the page did not come back: ${await page.locator("main").innerText()}`);
      });
      await page.locator(".env-switch:not(.is-down) .env-dot.is-up").waitFor({ timeout: 30_000 });

      // Remove both: the confirm dialog focuses Cancel.
      await page.goto(`${panel.url}/environments`);
      await hydrated(page, "EnvironmentsPanel");
      for (const id of [upId, downId]) {
        await page.locator(`tr[data-env-id="${id}"] button`, { hasText: "Remove" }).click();
        const confirm = page.locator("#env-remove");
        await confirm.waitFor();
        assert.equal(
          await page.evaluate(() => document.activeElement?.textContent?.trim()),
          "Cancel",
        );
        await confirm.getByRole("button", { name: "Remove environment" }).click();
        await confirm.waitFor({ state: "detached", timeout: 15_000 });
        await page.locator(`tr[data-env-id="${id}"]`).waitFor({
          state: "detached",
          timeout: 15_000,
        });
      }
      assert.deepEqual(errors, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "e2e: a viewer reads the Environments tab (states, switcher) without add, edit or remove",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cm-env-viewer-" });
    await Deno.symlink("/var/run/docker.sock", `${dir}/docker.sock`);
    try {
      await using panel = await startPanel();
      const cookie = await panel.login();
      const headers = { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie };
      const user = await fetch(`${panel.url}/api/users`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          username: "env-viewer",
          password: "viewer password 123",
          role: "viewer",
        }),
      });
      assert.equal(user.status, 201, await user.text());
      const added = await fetch(`${panel.url}/api/environments`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "viewer-sees", url: `unix://${dir}/docker.sock` }),
      });
      assert.equal(added.status, 201, await added.text());
      const long = await fetch(`${panel.url}/api/environments`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          name: "a rather long environment name, for the header and the table",
          url: `unix://${dir}/docker.sock`,
        }),
      });
      const longText = await long.text();
      assert.equal(long.status, 201, longText);
      const longId = (JSON.parse(longText) as { id: string }).id;

      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url, "env-viewer", "viewer password 123");
      await page.goto(`${panel.url}/environments`);
      await hydrated(page, "EnvironmentsPanel");
      await page.locator('tr[data-env-id="viewer-sees"][data-status="up"]').waitFor({
        timeout: 30_000,
      });
      assert.equal(await page.getByRole("button", { name: "Add environment" }).count(), 0);
      assert.equal(await page.locator("tr[data-env-id] button").count(), 0);
      await openSwitcher(page);
      await page.locator('#env-menu .env-item[data-env-id="viewer-sees"]').click();
      await page.waitForURL(`${panel.url}/environments/viewer-sees/containers`);
      await hydrated(page, "ContainersTable");

      // Long names: truncated in the header and the table, never pushing the page wider.
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        await page.goto(`${panel.url}/environments`);
        await hydrated(page, "EnvironmentsPanel");
        await page.locator(`tr[data-env-id="${longId}"][data-status="up"]`).waitFor({
          timeout: 30_000,
        });
        await page.screenshot({ path: await screenshotPath(`environments-long-${width}`) });
        await page.goto(`${panel.url}/environments/${longId}/containers`);
        await openSwitcher(page);
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - innerWidth
        );
        assert.ok(overflow <= 0, `no sideways scroll at ${width} px`);
        await page.screenshot({
          path: await screenshotPath(`environments-long-switcher-${width}`),
        });
      }
      assert.deepEqual(errors, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
