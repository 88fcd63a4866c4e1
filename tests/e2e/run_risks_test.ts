/**
 * The Run dialog flags escape-shaped settings by the server's rules (lib/risks.ts) and
 * runs them only once they are acknowledged. Screenshot: tests/.artifacts/run-risks.png.
 */
import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

Deno.test({
  name: "Run dialog: a bind of / is flagged and runs only after the risks are acknowledged",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using engine = await testEngine("runrisk");
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    await page.locator('[data-island="RunContainerDialog"][data-hydrated="true"]').waitFor();
    await page.locator("header").getByRole("button", { name: "Run container" }).click();
    const dialog = page.locator("dialog.ct-run");
    await dialog.waitFor();
    const name = `${engine.prefix}risky`;
    await dialog.locator('input[name="image"]').fill(TEST_IMAGE);
    await dialog.locator('input[name="name"]').fill(name);
    await dialog.locator('input[name="cmd"]').fill("sleep 3600");
    await dialog.getByRole("button", { name: "+ Add volume" }).click();
    await dialog.getByLabel("Source of volume 1").fill("/srv");
    await dialog.getByLabel("Container path of volume 1").fill("/host");
    assert.equal(await dialog.locator(".ct-run-risks").count(), 0, "/srv is not a risk");

    await dialog.getByLabel("Source of volume 1").fill("/");
    const risks = dialog.locator(".ct-run-risks");
    await risks.waitFor();
    assert.match(await risks.innerText(), /Volume 1:.*whole filesystem/);
    // Run without the acknowledgement: nothing is sent, the box says what to do.
    await dialog.getByRole("button", { name: "Run", exact: true }).click();
    await risks.locator(".form-error", { hasText: /Tick the box/ }).waitFor();
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("name")),
      "acknowledge_risks",
    );
    await risks.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await screenshotPath("run-risks") });

    await risks.locator('input[name="acknowledge_risks"]').check();
    await dialog.getByRole("button", { name: "Run", exact: true }).click();
    await dialog.waitFor({ state: "detached", timeout: 30_000 });
    const info = await inspectContainer(engine.docker, name);
    assert.equal(info.State.Status, "running");
    assert.deepEqual(errors, []);
  },
});
