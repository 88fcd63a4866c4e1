/**
 * The Compose tab's stack files: a bind source the preview warns about disappears from the
 * warnings once the file is added through the panel; a secret file shows as write-only;
 * files are edited and removed. Screenshots: tests/.artifacts/compose-files*.png.
 */
import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { TEST_IMAGE } from "../fixtures/engine.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "compose tab: stack files are added, edited and removed; the bind warning follows",
  e2e,
  async () => {
    const project = `cmfilese2e${crypto.randomUUID().slice(0, 6)}`;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1360, height: 1100 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    await page.goto(`${panel.url}/compose`);
    await page.locator('[data-island="ComposePanel"][data-hydrated="true"]').waitFor({
      timeout: 15_000,
    });
    await page.fill(
      "#cp-yaml",
      `name: ${project}\nservices:\n  web:\n    image: ${TEST_IMAGE}\n    volumes:\n` +
        `      - ./conf/app.conf:/etc/app.conf:ro\n    secrets: [db_pw]\n` +
        `secrets:\n  db_pw:\n    file: ./db_pw.txt\n`,
    );
    await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
    const warnings = page.locator(".cp-warning.kind-host");
    await page.waitForFunction(() =>
      document.querySelectorAll(".cp-warning.kind-host").length === 2
    );
    assert.match(await warnings.first().innerText(), /Docker will create an empty directory here/);

    const files = page.locator(`.cp-files[data-project="${project}"]`);
    await files.getByText("No files yet.").waitFor({ timeout: 10_000 });

    // A config file.
    await files.getByRole("button", { name: "Add file" }).click();
    const dialog = page.locator("#cp-file-dialog");
    await dialog.locator("input.input").fill("conf/app.conf");
    await dialog.locator("textarea").fill("listen 8080\nworkers 2\n");
    await page.screenshot({ path: await screenshotPath("compose-files-dialog") });
    await dialog.getByRole("button", { name: "Save" }).click();
    await files.locator('.cp-file[data-path="conf/app.conf"]').waitFor();

    // A secret file: write-only.
    await files.getByRole("button", { name: "Add file" }).click();
    await dialog.locator("input.input").fill("db_pw.txt");
    await dialog.locator("textarea").fill("hunter2-e2e");
    await dialog.locator("input[type=checkbox]").check();
    await dialog.getByRole("button", { name: "Save" }).click();
    const secret = files.locator('.cp-file[data-path="db_pw.txt"]');
    await secret.waitFor();
    assert.match(await secret.innerText(), /secret/);

    // The preview followed: no more host warnings.
    await page.waitForFunction(
      () => document.querySelectorAll(".cp-warning.kind-host").length === 0,
      {
        timeout: 15_000,
      },
    );
    await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
    await files.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await screenshotPath("compose-files"), fullPage: true });

    // Edit shows the content; replacing a secret never does.
    await files.getByRole("button", { name: "Edit conf/app.conf" }).click();
    assert.equal(await dialog.locator("textarea").inputValue(), "listen 8080\nworkers 2\n");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await files.getByRole("button", { name: "Replace db_pw.txt" }).click();
    assert.equal(await dialog.locator("textarea").inputValue(), "");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    assert.equal((await page.content()).includes("hunter2-e2e"), false);

    // Remove.
    await files.getByRole("button", { name: "Remove db_pw.txt" }).click();
    await page.locator("#cp-file-remove").getByRole("button", { name: "Remove" }).click();
    await secret.waitFor({ state: "detached" });
    await page.waitForFunction(
      () => document.querySelectorAll(".cp-warning.kind-host").length === 1,
      {
        timeout: 15_000,
      },
    );
    assert.deepEqual(errors, []);
  },
);
