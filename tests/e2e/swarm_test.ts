/**
 * The Swarm tab end to end on a 3-node swarm from the netns fixture, added as an environment:
 * the tab shows for a manager only; nodes with roles (drain and back); a service created
 * from the dialog reaches 3/3, is scaled to 5, gets a rolling image update and is rolled
 * back, shows its tasks and logs in the drawer and is removed; a secret is created and
 * removed. Screenshots at 1440 and 390 px, light and dark.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";
import { TEST_IMAGE } from "../fixtures/engine.ts";
import type { NetnsEngines } from "../fixtures/netns_engines.ts";

const LONG = 90_000;
const V2 = "cm-test/busybox:v2";

/** TEST_IMAGE under a second name on every node, for the rolling update. */
async function tagEverywhere(swarm: NetnsEngines) {
  for (const engine of swarm.engines) {
    const [image] = await engine.docker.json<{ Id: string }[]>("GET", "/images/json", {
      query: { filters: JSON.stringify({ reference: [TEST_IMAGE] }) },
    });
    await engine.docker.json("POST", `/images/${image.Id.replace("sha256:", "")}/tag`, {
      query: { repo: "cm-test/busybox", tag: "v2" },
    });
  }
}

async function hydrated(page: Page, island: string) {
  await page.locator(`[data-island="${island}"][data-hydrated="true"]`).first().waitFor({
    timeout: 20_000,
  });
}

Deno.test({
  name: "e2e: swarm tab on a 3-node swarm: nodes, drain, create, scale, tasks, logs, secrets",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using swarm = await startNetnsEngines("swarmui", { count: 3, swarm: true });
    await tagEverywhere(swarm);
    await using panel = await startPanel();
    const cookie = await panel.login();
    const suffix = crypto.randomUUID().slice(0, 6);
    const added = await fetch(`${panel.url}/api/environments`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: panel.url, Cookie: cookie },
      body: JSON.stringify({ name: `swarm-${suffix}`, url: `unix://${swarm.manager.socket}` }),
    });
    assert.equal(added.status, 201, await added.clone().text());
    const { id: env } = await added.json() as { id: string };

    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);

    // The local Engine is not a swarm manager: no Swarm tab there.
    assert.equal(await page.locator("nav.tabs a", { hasText: "Swarm" }).count(), 0);

    // The manager's environment shows the tab once the monitor has seen its swarm.
    const base = `${panel.url}/environments/${env}`;
    for (let i = 0;; i++) {
      await page.goto(`${base}/containers`);
      if (await page.locator("nav.tabs a", { hasText: "Swarm" }).count() === 1) break;
      assert.ok(i < 30, "the Swarm tab shows for a swarm manager");
      await page.waitForTimeout(2_000);
    }
    await page.locator("nav.tabs a", { hasText: "Swarm" }).click();
    await page.waitForURL(`${base}/swarm`);
    await hydrated(page, "SwarmPanel");

    // Nodes: 3, one leader; drain a worker and make it active again.
    await page.locator(".sw-nodes tbody tr").nth(2).waitFor({ timeout: LONG });
    assert.equal(await page.locator(".sw-nodes tbody tr").count(), 3);
    assert.equal(await page.locator(".sw-nodes .sw-badge.is-leader").count(), 1);
    const worker = page.locator(".sw-nodes tbody tr", { hasText: "worker" }).first();
    const hostname = (await worker.getAttribute("data-node"))!;
    await worker.locator("select").selectOption("drain");
    await page.locator(`tr[data-node="${hostname}"][data-availability="drain"]`).waitFor({
      timeout: LONG,
    });
    await page.locator(".sw-notice", { hasText: "Draining" }).waitFor();
    await page.screenshot({ path: await screenshotPath("swarm-nodes-1440-light") });
    await page.locator(`tr[data-node="${hostname}"] select`).selectOption("active");
    await page.locator(`tr[data-node="${hostname}"][data-availability="active"]`).waitFor({
      timeout: LONG,
    });
    // A label added to that node shows as a chip.
    await page.locator(`tr[data-node="${hostname}"]`).getByRole("button", { name: "Labels" })
      .click();
    const labels = page.locator("#sw-labels");
    await labels.locator("textarea").fill("zone=east");
    await labels.getByRole("button", { name: "Save labels" }).click();
    await labels.waitFor({ state: "detached", timeout: LONG });
    await page.locator(`tr[data-node="${hostname}"] .sw-chip`, { hasText: "zone=east" }).waitFor({
      timeout: LONG,
    });

    // A secret first (listed, never its value), for the service to use.
    const secret = `e2e-secret-${suffix}`;
    await page.locator(".sw-section", { hasText: "Secrets" }).click();
    await page.getByRole("button", { name: "Create secret" }).click();
    const secretDialog = page.locator("#sw-secret-create");
    await secretDialog.locator('input[name="name"]').fill(secret);
    await secretDialog.locator('textarea[name="data"]').fill("s3cr3t-value");
    await secretDialog.getByRole("button", { name: "Create secret" }).click();
    await secretDialog.waitFor({ state: "detached", timeout: LONG });
    await page.locator(`tr[data-object="${secret}"]`).waitFor({ timeout: LONG });
    assert.ok(!(await page.content()).includes("s3cr3t-value"));

    // Services: create with 3 replicas using the secret, then scale to 5.
    const service = `e2e-web-${suffix}`;
    await page.locator(".sw-section", { hasText: "Services" }).click();
    await page.getByRole("button", { name: "Create service" }).click();
    const create = page.locator("#sw-create");
    await create.locator('input[name="name"]').fill(service);
    await create.locator('input[name="image"]').fill(TEST_IMAGE);
    await create.locator('input[name="replicas"]').fill("3");
    // Says hello when the secret is there, then ends at once on SIGTERM, so a rolling
    // update does not wait 10 s a task.
    await create.locator('input[name="command"]').fill(
      `sh -c "test -f /run/secrets/${secret} && echo hello-from-task; ` +
        `trap 'exit 0' TERM; while true; do sleep 1; done"`,
    );
    await create.locator("summary", { hasText: "Secrets, update" }).click();
    await create.locator('input[name="secrets"]').fill(secret);
    await create.locator('input[name="update_parallelism"]').fill("2");
    await create.locator('input[name="update_delay"]').fill("1s");
    await create.locator('input[name="ports"]').fill("80:80, bad");
    await create.getByRole("button", { name: "Create service" }).click();
    await create.locator(".im-field-error", { hasText: "not a port" }).waitFor();
    await create.locator('input[name="ports"]').fill("");
    await create.locator('input[name="memory"]').fill("64m");
    await page.screenshot({ path: await screenshotPath("swarm-create-1440-light") });
    await create.getByRole("button", { name: "Create service" }).click();
    await create.waitFor({ state: "detached", timeout: LONG });
    const row = page.locator(`tr[data-service="${service}"]`);
    await row.locator('[data-replicas="3 / 3"]').waitFor({ timeout: LONG });

    await row.getByRole("button", { name: "Scale" }).click();
    const scale = page.locator("#sw-scale");
    await scale.locator("input").fill("5");
    await scale.getByRole("button", { name: "Scale" }).click();
    await scale.waitFor({ state: "detached", timeout: LONG });
    await row.locator('[data-replicas="5 / 5"]').waitFor({ timeout: LONG });
    await page.screenshot({ path: await screenshotPath("swarm-services-1440-light") });

    // A rolling update to another image, then a rollback to the first.
    await row.getByRole("button", { name: "Update image" }).click();
    const update = page.locator("#sw-image");
    await update.locator("input").fill(V2);
    await update.getByRole("button", { name: "Start rolling update" }).click();
    await update.waitFor({ state: "detached", timeout: 180_000 });
    await row.locator("td.sw-col-image", { hasText: V2 }).waitFor({ timeout: LONG });
    await page.locator(".sw-notice", { hasText: `now runs ${V2}` }).waitFor();
    await row.getByRole("button", { name: "Roll back" }).click();
    const rollback = page.locator("#sw-rollback");
    await rollback.getByRole("button", { name: "Roll back" }).click();
    await rollback.waitFor({ state: "detached", timeout: 180_000 });
    await row.locator("td.sw-col-image", { hasText: TEST_IMAGE }).waitFor({ timeout: LONG });
    await row.locator('[data-replicas="5 / 5"]').waitFor({ timeout: LONG });

    // Tasks and logs in the drawer.
    await row.locator(".sw-link").click();
    const drawer = page.locator("dialog.sw-drawer");
    await drawer.locator('tr[data-task-state="running"]').nth(4).waitFor({ timeout: LONG });
    await page.screenshot({ path: await screenshotPath("swarm-tasks-1440-light") });
    await drawer.getByRole("tab", { name: "Logs" }).click();
    await drawer.locator(".sw-logs", { hasText: "hello-from-task" }).waitFor({ timeout: LONG });
    await page.screenshot({ path: await screenshotPath("swarm-logs-1440-light") });
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });

    // Screenshots of every section at both widths and themes.
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const size of [{ w: 1440, h: 900 }, { w: 390, h: 844 }]) {
        await page.setViewportSize({ width: size.w, height: size.h });
        for (const section of ["nodes", "services", "objects"]) {
          await page.goto(`${base}/swarm#${section}`);
          await hydrated(page, "SwarmPanel");
          await page.locator(".sw-section.active").waitFor();
          if (section === "nodes") await page.locator(".sw-nodes tbody tr").nth(2).waitFor();
          if (section === "services") await row.waitFor({ timeout: LONG });
          if (section === "objects") await page.locator(`tr[data-object="${secret}"]`).waitFor();
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - innerWidth
          );
          assert.ok(overflow <= 0, `${section} at ${size.w} px does not scroll sideways`);
          await page.screenshot({
            path: await screenshotPath(`swarm-${section}-${size.w}-${scheme}`),
            fullPage: true,
          });
        }
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 1440, height: 900 });

    // The secret in use: its removal is refused in the dialog, naming the service.
    await page.goto(`${base}/swarm#objects`);
    await hydrated(page, "SwarmPanel");
    const secretRow = page.locator(`tr[data-object="${secret}"]`);
    assert.match(await secretRow.innerText(), new RegExp(service));
    await secretRow.getByRole("button", { name: "Remove" }).click();
    const removeSecret = page.locator("#sw-secret-remove");
    await removeSecret.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Cancel");
    await removeSecret.getByRole("button", { name: "Remove secret" }).click();
    await removeSecret.locator(".notice.error", { hasText: service }).waitFor({ timeout: LONG });
    await page.screenshot({ path: await screenshotPath("swarm-secret-in-use-1440-light") });
    await removeSecret.getByRole("button", { name: "Cancel" }).click();

    // Remove the service, then the secret, through their confirm dialogs.
    await page.goto(`${base}/swarm#services`);
    await hydrated(page, "SwarmPanel");
    await row.getByRole("button", { name: "Remove" }).click();
    await page.locator("#sw-remove").getByRole("button", { name: "Remove service" }).click();
    await row.waitFor({ state: "detached", timeout: LONG });
    await page.goto(`${base}/swarm#objects`);
    await hydrated(page, "SwarmPanel");
    await secretRow.getByRole("button", { name: "Remove" }).click();
    await removeSecret.getByRole("button", { name: "Remove secret" }).click();
    await secretRow.waitFor({ state: "detached", timeout: LONG });
    assert.deepEqual(errors, []);
  },
});
