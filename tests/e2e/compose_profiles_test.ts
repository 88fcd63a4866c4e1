/**
 * The Compose tab's profiles: the preview lists the file's profiles as checkboxes; checking
 * one previews its services, and the deploy stores the choice with the stack, so opening
 * the stack again brings it back. Screenshot: tests/.artifacts/compose-profiles.png.
 */
import assert from "node:assert/strict";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { engineClient, ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject as cleanupProject } from "../fixtures/compose.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "compose tab: profiles are chosen in the preview and stored with the stack",
  e2e,
  async () => {
    const docker = await engineClient();
    const project = `cmprof${crypto.randomUUID().slice(0, 8)}`;
    try {
      await using panel = await startPanel();
      await using browser = await launchBrowser();
      await ensureTestImage(docker);
      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);
      await page.goto(`${panel.url}/compose`);
      await page.locator('[data-island="ComposePanel"][data-hydrated="true"]').waitFor({
        timeout: 15_000,
      });
      await page.fill(
        "#cp-yaml",
        `name: ${project}\nservices:\n  web:\n    image: ${TEST_IMAGE}\n    command: sleep 3600\n` +
          `  debug:\n    image: ${TEST_IMAGE}\n    command: sleep 3600\n    profiles: [debug]\n`,
      );
      await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
      const section = page.locator(".cp-profiles");
      await section.waitFor();
      assert.match(await section.innerText(), /Skipped now: debug/);
      assert.equal(await page.locator('.cp-card[data-service="debug"]').count(), 0);

      await section.locator("input[type=checkbox]").check();
      await page.locator('.cp-card[data-service="debug"]').waitFor({ timeout: 15_000 });
      await page.locator('.cp-preview[data-state="fresh"]').waitFor({ timeout: 15_000 });
      await page.screenshot({ path: await screenshotPath("compose-profiles"), fullPage: true });

      await page.locator("button.cp-deploy-btn").click();
      // The deploy's own result first: stored files are written before the containers and
      // put back if the deploy fails, so the stored profiles alone could be seen mid-way.
      const result = page.locator(".cp-result");
      await result.waitFor({ timeout: 60_000 });
      assert.equal(
        await result.getAttribute("class").then((names) => names?.includes("ok")),
        true,
        `the deploy succeeded: ${await result.innerText()}`,
      );
      await page.waitForFunction(
        async (name) => {
          const answer = await fetch(`/api/containers/compose/stacks/${name}`);
          return answer.ok && (await answer.json()).profiles?.includes("debug");
        },
        project,
        { timeout: 30_000 },
      );
      const stored = await page.evaluate(
        async (name) =>
          (await (await fetch(`/api/containers/compose/stacks/${name}`)).json()).profiles,
        project,
      );
      assert.deepEqual(stored, ["debug"]);
      assert.deepEqual(errors, []);
    } finally {
      await cleanupProject(docker, project);
    }
  },
);
