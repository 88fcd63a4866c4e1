/**
 * The Compose tab on a swarm manager (a 3-node netns swarm added as an environment): the
 * "Swarm stacks" card (empty, then with a CLI stack with a long name), "Deploy as swarm
 * stack…" with the preview of services and of what swarm ignores, the deploy, and Remove
 * (Cancel focused). Screenshots at 1440 and 390 px, light and dark.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";
import { TEST_IMAGE } from "../fixtures/engine.ts";

const LONG = 90_000;

const FILE = `services:
  web:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "8080"]
    container_name: web
    ports: ["18080:8080"]
    deploy:
      replicas: 2
  worker:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on: [web]
    privileged: true
`;

async function docker(socket: string, ...args: string[]) {
  const output = await new Deno.Command("docker", {
    args: ["-H", `unix://${socket}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: output.success, stderr: new TextDecoder().decode(output.stderr) };
}

async function openCompose(page: Page, base: string) {
  await page.goto(`${base}/compose`);
  await page.locator('[data-island="ComposePanel"][data-hydrated="true"]').waitFor({
    timeout: 20_000,
  });
  await page.locator(".cp-swarm").waitFor({ timeout: LONG });
}

Deno.test({
  name: "e2e: swarm stacks in the Compose tab: list, deploy with the ignored keys, remove",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using swarm = await startNetnsEngines("swstui", { count: 3, swarm: true });
    const socket = swarm.manager.socket;
    await using panel = await startPanel();
    const cookie = await panel.login();
    const suffix = crypto.randomUUID().slice(0, 6);
    const stack = `e2e-${suffix}`;
    const cliStack = `cli-deployed-stack-with-a-rather-long-name-${suffix}`;
    try {
      const added = await fetch(`${panel.url}/api/environments`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
        body: JSON.stringify({ name: `swarm-${suffix}`, url: `unix://${socket}` }),
      });
      assert.equal(added.status, 201, await added.clone().text());
      const { id: env } = await added.json() as { id: string };
      const base = `${panel.url}/environments/${env}`;

      await using browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors = watchErrors(page);
      await signIn(page, panel.url);

      // The local Engine is not a swarm manager: no swarm card there.
      await page.goto(`${panel.url}/compose`);
      await page.locator('[data-island="ComposePanel"][data-hydrated="true"]').waitFor({
        timeout: 20_000,
      });
      await page.waitForTimeout(1000);
      assert.equal(await page.locator(".cp-swarm").count(), 0);

      await openCompose(page, base);
      await page.locator(".cp-swarm .cp-empty-title", { hasText: "No swarm stacks yet." })
        .waitFor({ timeout: LONG });
      await page.screenshot({ path: await screenshotPath("swarm-stacks-empty-1440-light") });

      // A stack deployed with the CLI shows, marked CLI.
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(
          `${dir}/compose.yaml`,
          `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n`,
        );
        const deployed = await docker(
          socket,
          "stack",
          "deploy",
          "--resolve-image",
          "never",
          "--detach=true",
          "-c",
          `${dir}/compose.yaml`,
          cliStack,
        );
        assert.ok(deployed.ok, deployed.stderr);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      await page.locator(".cp-swarm").getByRole("button", { name: "Refresh" }).click();
      const cliRow = page.locator(`tr[data-swarm-stack="${cliStack}"]`);
      await cliRow.waitFor({ timeout: LONG });
      assert.match(await cliRow.innerText(), /CLI/);

      // Deploy the editor's file: the preview lists the services and what swarm ignores.
      await page.fill("#cp-yaml", FILE);
      await page.fill("#cp-project", stack);
      await page.locator(".cp-swarm").getByRole("button", { name: "Deploy as swarm stack…" })
        .click();
      const dialog = page.locator("#cp-swarm-deploy");
      await dialog.locator(`tr[data-swarm-service="${stack}_web"]`).waitFor({ timeout: LONG });
      const ignored = await dialog.locator("[data-ignored]").evaluateAll((items) =>
        items.map((item) => item.getAttribute("data-ignored"))
      );
      assert.deepEqual(ignored, ["container_name", "depends_on", "privileged"]);
      assert.match(await dialog.innerText(), /line 5/);
      await page.screenshot({ path: await screenshotPath("swarm-stacks-deploy-1440-light") });
      await dialog.getByRole("button", { name: "Deploy to swarm" }).click();
      await dialog.waitFor({ state: "detached", timeout: LONG });
      await page.locator(".cp-swarm .notice", { hasText: `Deployed swarm stack ${stack}` })
        .waitFor();
      const row = page.locator(`tr[data-swarm-stack="${stack}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /ours/);

      // Screenshots: both widths and themes; nothing scrolls sideways.
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const size of [{ w: 1440, h: 900 }, { w: 390, h: 844 }]) {
          await page.setViewportSize({ width: size.w, height: size.h });
          await openCompose(page, base);
          await row.waitFor({ timeout: LONG });
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - innerWidth
          );
          assert.ok(overflow <= 0, `the Compose tab at ${size.w} px does not scroll sideways`);
          await page.locator(".cp-swarm").screenshot({
            path: await screenshotPath(`swarm-stacks-${size.w}-${scheme}`),
          });
        }
      }
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.fill("#cp-yaml", FILE);
      await page.fill("#cp-project", stack);
      await page.locator(".cp-swarm").getByRole("button", { name: "Deploy as swarm stack…" })
        .click();
      await dialog.locator(`tr[data-swarm-service="${stack}_web"]`).waitFor({ timeout: LONG });
      await page.screenshot({ path: await screenshotPath("swarm-stacks-deploy-390-light") });
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await page.setViewportSize({ width: 1440, height: 900 });

      // Remove: Cancel is focused; then the stack goes.
      await row.getByRole("button", { name: `Remove ${stack}` }).click();
      await page.locator("#cp-swarm-remove").waitFor();
      await page.waitForFunction(() => document.activeElement?.textContent?.trim() === "Cancel", {
        timeout: 5_000,
      });
      await page.locator("#cp-swarm-remove").getByRole("button", { name: "Remove", exact: true })
        .click();
      await row.waitFor({ state: "detached", timeout: LONG });
      assert.deepEqual(errors, []);
    } finally {
      await docker(socket, "stack", "rm", cliStack);
      await docker(socket, "stack", "rm", stack);
    }
  },
});
