/**
 * Issue 14's density and consistency: the Containers table groups by stack (collapsible,
 * remembered per browser) without a repeated "created" sub-line; deleting a user, registry
 * credentials or an image confirms in the same modal, Cancel focused; a dangling image's
 * delete dialog names its id once. Screenshots in both themes at 1440 and 390 px.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { randomPayloadTar } from "../fixtures/tar.ts";
import { importImage, inspectImage } from "../../lib/docker/images.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

async function hydrated(page: Page, island: string) {
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).waitFor({
    timeout: 15_000,
  });
}

const focusedText = (page: Page) =>
  page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText.trim() ?? "");

Deno.test({
  ...e2e,
  name: "e2e: group by stack collapses a compose project and is remembered; no created sub-line",
  async fn() {
    await using engine = await testEngine("cmgroup");
    const { docker, prefix } = engine;
    const project = `${prefix}stack`;
    for (const service of ["api", "db"]) {
      await makeTestContainer(docker, prefix, service, {
        Cmd: ["sleep", "300"],
        Labels: {
          "com.docker.compose.project": project,
          "com.docker.compose.service": service,
        },
      });
    }
    await makeTestContainer(docker, prefix, "loose", { Cmd: ["sleep", "300"] });
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const session = (await panel.login()).split("=")[1];
    for (const scheme of ["light", "dark"] as const) {
      for (const width of [1440, 390]) {
        const context = await browser.newContext({
          viewport: { width, height: width > 1000 ? 900 : 844 },
          colorScheme: scheme,
        });
        await context.addCookies([{ name: "cm_session", value: session, url: panel.url }]);
        const page = await context.newPage();
        await page.goto(`${panel.url}/containers`);
        await hydrated(page, "ContainersTable");
        const api = page.locator(`tr.ct-row[data-name="${prefix}api"]`);
        await api.waitFor();
        assert.equal(await page.locator(".ct-col-life .ct-sub").count(), 0, "no created line");
        if (width > 1000) {
          assert.match(
            (await api.locator(".ct-col-life").getAttribute("title")) ?? "",
            /created /,
          );
        }
        assert.equal(await page.locator("tr.ct-group").count(), 0, "ungrouped by default");

        await page.getByLabel("Group by stack").check();
        const group = page.locator(`tr.ct-group[data-group="${project}"]`);
        await group.waitFor();
        assert.match(await group.innerText(), /2 containers, 2 running/);
        // The stack's rows follow its header; the loose container sits under "No stack".
        const order = await page.locator("tbody tr").evaluateAll((rows) =>
          rows.map((row) => row.getAttribute("data-group") ?? row.getAttribute("data-name"))
        );
        const at = order.indexOf(project);
        assert.deepEqual(order.slice(at, at + 3), [project, `${prefix}api`, `${prefix}db`]);
        assert.ok(order.indexOf(`${prefix}loose`) > order.indexOf("No stack"));
        await page.screenshot({
          path: await screenshotPath(`containers-grouped-${width}-${scheme}`),
          fullPage: width > 1000,
        });

        const toggle = group.locator("button.ct-group-toggle");
        await toggle.click();
        await api.waitFor({ state: "detached" });
        assert.equal(await toggle.getAttribute("aria-expanded"), "false");
        assert.equal(await page.locator(`tr.ct-row[data-name="${prefix}loose"]`).count(), 1);
        if (width > 1000 && scheme === "light") {
          // "Select every shown container" leaves the collapsed stack's rows out. Only this
          // test's containers are shown: other files create containers at any moment, and a
          // new row would leave "every shown container" unchecked again.
          await page.getByLabel("Filter containers").fill(prefix);
          await page.locator("tbody tr.ct-row").filter({ hasNotText: prefix }).first()
            .waitFor({ state: "detached" });
          await page.getByLabel("Select every shown container").check();
          await page.locator(".ct-bulk-count").waitFor();
          await toggle.click();
          await api.waitFor();
          assert.equal(await api.locator('input[type="checkbox"]').isChecked(), false);
          await page.locator(".ct-bulk").getByRole("button", { name: "Clear" }).click();
          await page.getByLabel("Filter containers").fill("");
          await toggle.click();
          await api.waitFor({ state: "detached" });
        }

        // Both the grouping and the collapsed stack survive a reload.
        await page.reload();
        await hydrated(page, "ContainersTable");
        await page.locator(`tr.ct-group[data-group="${project}"]`).waitFor();
        assert.equal(await page.getByLabel("Group by stack").isChecked(), true);
        await page.locator(`tr.ct-row[data-name="${prefix}loose"]`).waitFor();
        assert.equal(await api.count(), 0, "the stack stays collapsed");
        await page.locator(`tr.ct-group[data-group="${project}"] button`).click();
        await api.waitFor();
        await page.getByLabel("Group by stack").uncheck();
        await page.locator("tr.ct-group").first().waitFor({ state: "detached" });
        await context.close();
      }
    }
  },
});

Deno.test({
  ...e2e,
  name:
    "e2e: user and image deletion confirm in the same modal, Cancel focused; a dangling id once",
  async fn() {
    await using engine = await testEngine("cmconfirm");
    const { docker, prefix } = engine;
    const dangle = `${prefix}dangle:1`;
    await importImage(docker, dangle, randomPayloadTar(`first ${prefix}`, 50_000));
    const danglingId = (await inspectImage(docker, dangle)).Id;
    await importImage(docker, dangle, randomPayloadTar(`second ${prefix}`, 50_000));
    const taggedId = (await inspectImage(docker, dangle)).Id;
    try {
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      const cookie = await panel.login();
      const created = await fetch(`${panel.url}/api/users`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
        body: JSON.stringify({
          username: `${prefix}user`,
          password: "confirm password 123",
          role: "viewer",
        }),
      });
      assert.equal(created.status, 201, await created.text());
      for (
        const [scheme, width] of [["light", 1440], ["dark", 1440], ["light", 390], [
          "dark",
          390,
        ]] as const
      ) {
        const context = await browser.newContext({
          viewport: { width, height: width > 1000 ? 900 : 844 },
          colorScheme: scheme,
        });
        await context.addCookies([{
          name: "cm_session",
          value: cookie.split("=")[1],
          url: panel.url,
        }]);
        const page = await context.newPage();
        await page.goto(`${panel.url}/users`);
        await hydrated(page, "UsersPanel");
        const userRow = page.locator("tr", { hasText: `${prefix}user` });
        await userRow.locator("button", { hasText: "Delete" }).click();
        const dialog = page.locator("dialog#users-delete");
        await dialog.waitFor();
        assert.equal(await focusedText(page), "Cancel", "the destructive button is not default");
        assert.match(await dialog.innerText(), new RegExp(`${prefix}user`));
        await page.screenshot({ path: await screenshotPath(`confirm-user-${width}-${scheme}`) });
        await page.keyboard.press("Enter"); // Cancel: nothing deleted
        await dialog.waitFor({ state: "detached" });
        assert.equal(await userRow.count(), 1);
        if (scheme === "dark" && width === 390) {
          await userRow.locator("button", { hasText: "Delete" }).click();
          await dialog.locator("button.danger", { hasText: "Delete user" }).click();
          await userRow.waitFor({ state: "detached" });
          await page.locator(".notice.ok", { hasText: "was deleted" }).waitFor();
        }

        await page.goto(`${panel.url}/images`);
        await hydrated(page, "ImagesPanel");
        const dangling = page.locator(`tr[data-image-id="${danglingId}"]`);
        await dangling.locator("button", { hasText: "Delete" }).click();
        const confirm = page.locator("dialog#im-delete");
        await confirm.waitFor();
        assert.equal(await focusedText(page), "Cancel");
        const text = await confirm.innerText();
        const shortId = danglingId.replace("sha256:", "").slice(0, 12);
        assert.equal(text.split(shortId).length - 1, 1, `the id once: ${text}`);
        await page.screenshot({ path: await screenshotPath(`confirm-image-${width}-${scheme}`) });
        await confirm.locator("button", { hasText: "Cancel" }).click();
        await confirm.waitFor({ state: "detached" });
        await context.close();
      }
    } finally {
      for (const id of [taggedId, danglingId]) {
        await docker.json("DELETE", `/images/${id}`, { query: { force: "1" } }).catch(() => {});
      }
    }
  },
});
