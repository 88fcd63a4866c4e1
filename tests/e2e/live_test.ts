/**
 * Every tab tells the truth without a reload: a `docker tag` from the CLI shows on the
 * visible Images tab, a `docker-compose stop` on the visible Stacks list, and a mutation on
 * the visible Audit tab, each within 2 s (issue 14). Networks and volumes made from the CLI
 * show on their tabs too.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { ensureTestImage, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { composeCli } from "../fixtures/compose_cli.ts";
import { cleanupComposeProject } from "../fixtures/compose.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

async function docker(...args: string[]) {
  const { code, stderr } = await new Deno.Command("docker", { args, stderr: "piped" }).output();
  assert.equal(code, 0, `docker ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** Waits for the island and for its live stream to be open (the first event it may miss). */
async function openTab(page: Page, url: string, island: string) {
  const opened = page.waitForResponse((r) => r.url().endsWith("/api/live/events"), {
    timeout: 15_000,
  });
  await page.goto(url);
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).waitFor({
    timeout: 15_000,
  });
  await opened;
  await page.waitForTimeout(300); // the server's subscription follows the response headers
}

Deno.test({
  name: "e2e: Images, Stacks, Volumes, Networks and Audit update live from the Engine's events",
  ...e2e,
  async fn() {
    await using engine = await testEngine("cmlive");
    await ensureTestImage(engine.docker);
    const repo = `cmlive/${engine.prefix.replace(/-$/, "")}`;
    const project = engine.prefix.replace(/-$/, "").replace(/[^a-z0-9]/g, "");
    const dir = await Deno.makeTempDir({ prefix: "cm-live-" });
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await signIn(page, panel.url);

      // Images: a tag from the CLI.
      await openTab(page, `${panel.url}/images`, "ImagesPanel");
      await docker("tag", TEST_IMAGE, `${repo}:live`);
      await page.locator(".im-table", { hasText: `${repo.split("/")[1]}` }).waitFor({
        timeout: 2_000,
      });
      await page.screenshot({ path: await screenshotPath("live-images-tag") });

      // Stacks: a compose project started and then stopped from the CLI.
      await Deno.writeTextFile(
        `${dir}/docker-compose.yml`,
        `services:\n  web:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "300"]\n` +
          `    labels:\n      io.container-manager.test: "${engine.prefix}"\n`,
      );
      const up = await composeCli(["-p", project, "up", "-d"], dir);
      assert.equal(up.code, 0, up.stderr);
      await openTab(page, `${panel.url}/compose`, "ComposePanel");
      const state = page.locator(`tr[data-stack="${project}"] .cp-state`);
      await state.waitFor({ timeout: 5_000 });
      assert.equal(await state.getAttribute("data-state"), "running");
      const stop = await composeCli(["-p", project, "stop", "-t", "0"], dir);
      assert.equal(stop.code, 0, stop.stderr);
      await page.locator(`tr[data-stack="${project}"] .cp-state[data-state="stopped"]`).waitFor({
        timeout: 2_000,
      });
      await page.screenshot({ path: await screenshotPath("live-stacks-stop") });

      // Volumes and networks from the CLI.
      await openTab(page, `${panel.url}/volumes`, "VolumesPanel");
      await docker("volume", "create", `${engine.prefix}vol`);
      await page.locator(".vn-table", { hasText: `${engine.prefix}vol` }).waitFor({
        timeout: 2_000,
      });
      await openTab(page, `${panel.url}/networks`, "NetworksPanel");
      await docker("network", "create", `${engine.prefix}net`);
      await page.locator(".vn-table", { hasText: `${engine.prefix}net` }).waitFor({
        timeout: 2_000,
      });

      // Audit: a mutation through the API (a sign-in is one) shows as a new row.
      await openTab(page, `${panel.url}/audit`, "AuditLog");
      const before = await page.locator("table.audit tbody tr").count();
      await panel.login();
      await page.waitForFunction(
        (count) => document.querySelectorAll("table.audit tbody tr").length > count,
        before,
        { timeout: 2_000 },
      );
      assert.match(await page.locator("table.audit tbody tr").first().innerText(), /auth\.login/);
      assert.match(await page.locator("table.audit th.col-time").textContent() ?? "", /Time \(UTC/);
      await page.screenshot({ path: await screenshotPath("live-audit-row") });
    } finally {
      await cleanupComposeProject(engine.docker, project);
      await docker("rmi", `${repo}:live`).catch(() => {});
      await docker("network", "rm", `${engine.prefix}net`).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
