/**
 * Keyboard: "/" focuses the filter; after Remove… → Esc focus is back on the row's menu
 * button; the Prune dialog's default button is Cancel, so Enter prunes nothing.
 */
import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { randomPayloadTar } from "../fixtures/tar.ts";
import { importImage, inspectImage } from "../../lib/docker/images.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name:
    "e2e: / focuses the filter, Esc on Remove returns focus to the menu button, Enter on Prune prunes nothing",
  ...e2e,
  async fn() {
    await using engine = await testEngine("cmkeys");
    await makeTestContainer(engine.docker, engine.prefix, "keyed", { Cmd: ["sleep", "300"] });
    const dangle = `cmkeys/${engine.prefix.replace(/-$/, "")}:dangle`;
    await importImage(engine.docker, dangle, randomPayloadTar(`first ${engine.prefix}`, 1000));
    const danglingId = (await inspectImage(engine.docker, dangle)).Id;
    await importImage(engine.docker, dangle, randomPayloadTar(`second ${engine.prefix}`, 1000));
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await signIn(page, panel.url);
      await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
      await page.keyboard.press("/");
      assert.equal(await page.evaluate(() => document.activeElement?.className), "ct-filter");
      await page.keyboard.type(`${engine.prefix}keyed`);
      const button = page.locator(`tr[data-name="${engine.prefix}keyed"] .ct-menu-btn`);
      await button.click();
      await page.locator(".ct-menu-item", { hasText: "Remove…" }).click();
      await page.locator("dialog.ct-confirm").waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent),
        "Cancel",
        "a destructive dialog focuses Cancel",
      );
      await page.keyboard.press("Escape");
      await page.locator("dialog.ct-confirm").waitFor({ state: "detached" });
      assert.equal(
        await button.evaluate((element) => element === document.activeElement),
        true,
        "focus is back on the row's menu button",
      );

      await page.goto(`${panel.url}/images`);
      await page.locator('[data-island="ImagesPanel"][data-hydrated="true"]').waitFor();
      await page.locator("button", { hasText: "Prune dangling" }).click();
      await page.locator("dialog.im-prune").waitFor();
      await page.locator("dialog.im-prune button.btn.danger").waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel");
      await page.screenshot({ path: await screenshotPath("keyboard-prune-default-cancel") });
      await page.keyboard.press("Enter");
      await page.locator("dialog.im-prune").waitFor({ state: "detached" });
      await inspectImage(engine.docker, danglingId); // still there: throws if it was pruned
      assert.equal(
        await page.locator("button", { hasText: "Prune dangling" }).evaluate((element) =>
          element === document.activeElement
        ),
        true,
        "focus is back on Prune dangling",
      );
    } finally {
      await engine.docker.json("DELETE", `/images/${dangle}`).catch(() => {});
      await engine.docker.json("DELETE", `/images/${danglingId}`).catch(() => {});
    }
  },
});
