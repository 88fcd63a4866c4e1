/**
 * The Run dialog's wider form in headless Chromium against the real Engine: a container run
 * with a network and an alias, labels, limits, a user, a host name, capabilities, log options
 * and a healthcheck, checked in its inspect; a bad value shows on its field (client-side,
 * and the server's `field` on the right row); Duplicate / edit fills the new fields; Reset and
 * a successful run clear them. Screenshots: tests/.artifacts/run-form-*.png.
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { TEST_IMAGE, testEngine, testNetwork } from "../fixtures/engine.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";
import { removeNetwork } from "../../lib/docker/networks.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };

async function openRunDialog(page: Page): Promise<Locator> {
  await page.locator('[data-island="RunContainerDialog"][data-hydrated="true"]').waitFor();
  await page.locator("header").getByRole("button", { name: "Run container" }).click();
  const dialog = page.locator("dialog.ct-run");
  await dialog.waitFor();
  return dialog;
}

function section(dialog: Locator, id: string): Locator {
  return dialog.locator(`[data-run-section="${id}"]`);
}

async function openSection(dialog: Locator, id: string): Promise<Locator> {
  const details = section(dialog, id);
  if (!(await details.evaluate((element) => (element as HTMLDetailsElement).open))) {
    await details.locator("summary").click();
  }
  await details.locator(".ct-run-section-body").waitFor();
  return details;
}

/** The error shown in the field (label) holding input `name`. */
function fieldError(dialog: Locator, name: string): Locator {
  return dialog.locator(".ct-field", { has: dialog.page().locator(`[name="${name}"]`) })
    .locator(".ct-field-error");
}

Deno.test({
  ...e2e,
  name:
    "e2e: the Run form runs a container with networks, labels, limits, user, host name and healthcheck; errors on their fields; duplicate fills them",
  async fn() {
    await using engine = await testEngine("runform");
    const { docker, prefix } = engine;
    const network = `${prefix}net`;
    const gone = `${prefix}gone`;
    await using _net = await testNetwork(docker, prefix, network);
    await using _gone = await testNetwork(docker, prefix, gone);
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    const dialog = await openRunDialog(page);
    const name = `${prefix}web`;
    await dialog.locator('input[name="image"]').fill(TEST_IMAGE);
    await dialog.locator('input[name="name"]').fill(name);
    await dialog.locator('input[name="cmd"]').fill("sleep 600");

    // Network: two networks picked from the Engine's list, an alias on the first.
    const net = await openSection(dialog, "network");
    await net.getByRole("button", { name: "+ Add network" }).click();
    await net.getByLabel("Network 1", { exact: true }).selectOption(network);
    await net.getByLabel("Aliases on network 1").fill("api, api.internal");
    await net.getByRole("button", { name: "+ Add network" }).click();
    await net.getByLabel("Network 2", { exact: true }).selectOption(gone);
    const choices = await net.getByLabel("Network 1", { exact: true }).locator("option")
      .allTextContents();
    assert.ok(choices.includes("bridge") && !choices.includes("host"), choices.join(", "));
    await net.locator('input[name="hostname"]').fill("web-1");

    // A bad alias and a bad memory limit: each message on its own field while typing.
    await net.getByLabel("Aliases on network 1").fill("api, bad alias!");
    await net.locator(".ct-run-item", { hasText: /is not an alias/ }).waitFor();
    assert.equal(await net.getByLabel("Aliases on network 1").getAttribute("aria-invalid"), "true");
    assert.equal(
      await net.getByLabel("Network 1", { exact: true }).getAttribute("aria-invalid"),
      "false",
    );
    await net.getByLabel("Aliases on network 1").fill("api, api.internal");
    const resources = await openSection(dialog, "resources");
    await resources.locator('input[name="memory"]').fill("1m");
    assert.match(await fieldError(dialog, "memory").innerText(), /At least 6m/);
    await resources.locator('input[name="cpus"]').fill("0.5");
    await resources.screenshot({ path: await screenshotPath("run-form-error") });

    // Closed, a section with a problem says so, and Run opens it and focuses the input.
    await resources.locator("summary").click();
    assert.match(await resources.locator("summary").innerText(), /needs a fix/);
    await dialog.getByRole("button", { name: "Run", exact: true }).click();
    await page.waitForFunction(() => document.activeElement?.getAttribute("name") === "memory");
    await resources.locator('input[name="memory"]').fill("64m");

    const processSection = await openSection(dialog, "process");
    await processSection.locator('input[name="user"]').fill("nobody");
    await processSection.locator('input[name="working_dir"]').fill("/srv");

    const security = await openSection(dialog, "security");
    await security.getByRole("button", { name: "+ Add capability" }).click();
    await security.getByLabel("Added capability 1", { exact: true }).fill("net_admin");
    await security.getByRole("button", { name: "+ Drop capability" }).click();
    await security.getByLabel("Dropped capability 1", { exact: true }).fill("MKNOD");
    assert.equal(await dialog.locator(".ct-run-risks").count(), 0, "NET_ADMIN is not a risk");

    const logging = await openSection(dialog, "logging");
    await logging.locator('select[name="log_driver"]').selectOption("json-file");
    await logging.getByRole("button", { name: "+ Add option" }).click();
    await logging.getByLabel("Key of option 1").fill("max-size");
    await logging.getByLabel("Value of option 1").fill("1m");

    const health = await openSection(dialog, "health");
    await health.locator('input[name="healthcheck.test"]').fill("test -d /srv");
    await health.locator('input[name="healthcheck.interval"]').fill("1s");
    await health.locator('input[name="healthcheck.retries"]').fill("2");

    const labels = await openSection(dialog, "labels");
    for (const [i, [key, value]] of [["com.example.team", "ops"], ["tier", "front"]].entries()) {
      await labels.getByRole("button", { name: "+ Add label" }).click();
      await labels.getByLabel(`Key of label ${i + 1}`).fill(key);
      await labels.getByLabel(`Value of label ${i + 1}`).fill(value);
    }
    for (const id of ["process", "network", "resources", "security", "logging", "health"]) {
      await openSection(dialog, id);
      await section(dialog, id).screenshot({ path: await screenshotPath(`run-form-${id}`) });
    }
    await labels.screenshot({ path: await screenshotPath("run-form-labels") });

    // The second network disappears before Run: the server's 400 lands on its row.
    await removeNetwork(docker, gone);
    await dialog.getByRole("button", { name: "Run", exact: true }).click();
    const goneRow = net.locator(".ct-run-item").nth(1);
    await goneRow.locator(".ct-field-error", { hasText: `there is no network "${gone}"` })
      .waitFor();
    assert.equal(
      await net.getByLabel("Network 2", { exact: true }).getAttribute("aria-invalid"),
      "true",
    );
    assert.equal(await net.locator(".ct-run-item .ct-field-error").count(), 1);
    await net.screenshot({ path: await screenshotPath("run-form-server-error") });
    await net.getByRole("button", { name: "Remove network 2" }).click();

    await dialog.getByRole("button", { name: "Run", exact: true }).click();
    await dialog.waitFor({ state: "detached", timeout: 30_000 });
    const info = await inspectContainer(docker, name);
    assert.equal(info.State.Status, "running");
    assert.equal(info.Config.User, "nobody");
    assert.equal(info.Config.Hostname, "web-1");
    assert.equal(info.Config.WorkingDir, "/srv");
    assert.equal(info.Config.Labels?.["com.example.team"], "ops");
    assert.equal(info.Config.Labels?.tier, "front");
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.NanoCpus, 5e8);
    assert.equal(info.HostConfig.NetworkMode, network);
    assert.deepEqual(info.HostConfig.CapAdd, ["NET_ADMIN"]);
    assert.deepEqual(info.HostConfig.CapDrop, ["MKNOD"]);
    assert.deepEqual(info.HostConfig.LogConfig, {
      Type: "json-file",
      Config: { "max-size": "1m" },
    });
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks ?? {}), [network]);
    const aliases = info.NetworkSettings.Networks?.[network]?.Aliases ?? [];
    assert.ok(aliases.includes("api") && aliases.includes("api.internal"), aliases.join(", "));
    assert.deepEqual(info.Config.Healthcheck?.Test, ["CMD-SHELL", "test -d /srv"]);
    assert.equal(info.Config.Healthcheck?.Interval, 1e9);
    assert.equal(info.Config.Healthcheck?.Retries, 2);

    // The draft is gone after the run.
    await page.locator("header").getByRole("button", { name: "Run container" }).click();
    await dialog.waitFor();
    assert.equal(await dialog.locator('input[name="image"]').inputValue(), "");
    assert.deepEqual(
      await dialog.locator(".ct-run-section-summary").allTextContents(),
      Array(7).fill("not set"),
    );
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // Duplicate / edit fills the new fields from the inspect.
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
    await page.getByPlaceholder("Filter by name, image or stack").fill(prefix);
    await page.locator(`tr.ct-row[data-name="${name}"] .ct-menu-btn`).click();
    await page.locator(".ct-menu").getByRole("menuitem", { name: "Duplicate / edit…" }).click();
    await page.waitForFunction(() =>
      document.querySelector<HTMLInputElement>('dialog.ct-run input[name="name"]')?.value
        .endsWith("-copy")
    );
    assert.match(
      await section(dialog, "network").locator(".ct-run-section-summary").innerText(),
      new RegExp(`${network} · host name web-1`),
    );
    await openSection(dialog, "network");
    assert.equal(await net.getByLabel("Network 1", { exact: true }).inputValue(), network);
    assert.equal(await net.getByLabel("Aliases on network 1").inputValue(), "api, api.internal");
    assert.equal(await net.locator('input[name="hostname"]').inputValue(), "web-1");
    await openSection(dialog, "resources");
    assert.equal(await resources.locator('input[name="memory"]').inputValue(), "64m");
    assert.equal(await resources.locator('input[name="cpus"]').inputValue(), "0.5");
    await openSection(dialog, "process");
    assert.equal(await processSection.locator('input[name="user"]').inputValue(), "nobody");
    assert.equal(await processSection.locator('input[name="working_dir"]').inputValue(), "/srv");
    await openSection(dialog, "security");
    assert.equal(
      await security.getByLabel("Added capability 1", { exact: true }).inputValue(),
      "NET_ADMIN",
    );
    assert.equal(
      await security.getByLabel("Dropped capability 1", { exact: true }).inputValue(),
      "MKNOD",
    );
    await openSection(dialog, "logging");
    assert.equal(await logging.locator('select[name="log_driver"]').inputValue(), "json-file");
    assert.equal(await logging.getByLabel("Value of option 1").inputValue(), "1m");
    await openSection(dialog, "health");
    assert.equal(
      await health.locator('input[name="healthcheck.test"]').inputValue(),
      "test -d /srv",
    );
    assert.equal(await health.locator('input[name="healthcheck.interval"]').inputValue(), "1s");
    assert.equal(await health.locator('input[name="healthcheck.retries"]').inputValue(), "2");
    await openSection(dialog, "labels");
    const labelKeys = await labels.locator('input[aria-label^="Key of label"]').evaluateAll(
      (inputs) => inputs.map((input) => (input as HTMLInputElement).value),
    );
    assert.ok(
      labelKeys.includes("com.example.team") && labelKeys.includes("tier"),
      labelKeys.join(", "),
    );
    await page.screenshot({ path: await screenshotPath("run-form-duplicate") });

    // Reset clears the new fields too.
    await dialog.getByRole("button", { name: "Reset" }).click();
    assert.equal(await resources.locator('input[name="memory"]').inputValue(), "");
    assert.equal(await net.locator(".ct-run-item").count(), 0);
    assert.equal(await health.locator('input[name="healthcheck.test"]').inputValue(), "");
    assert.equal(await labels.locator(".ct-run-item").count(), 0);
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: the Run form at phone width (390x844)",
  async fn() {
    await using engine = await testEngine("runform");
    await using _net = await testNetwork(engine.docker, engine.prefix, `${engine.prefix}net`);
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    const dialog = await openRunDialog(page);
    await dialog.locator('input[name="image"]').fill(TEST_IMAGE);
    await page.screenshot({ path: await screenshotPath("run-form-phone") });
    const net = await openSection(dialog, "network");
    await net.getByRole("button", { name: "+ Add network" }).click();
    await net.getByLabel("Network 1", { exact: true }).selectOption(`${engine.prefix}net`);
    await net.getByLabel("Aliases on network 1").fill("api");
    const health = await openSection(dialog, "health");
    await health.locator('input[name="healthcheck.interval"]').fill("soon");
    await health.locator('input[name="healthcheck.test"]').fill("true");
    await net.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await screenshotPath("run-form-phone-sections") });
    await dialog.getByRole("button", { name: "+ Add port" }).click();
    await dialog.getByLabel("Container port of port 1").fill("80");
    const security = await openSection(dialog, "security");
    await security.getByRole("button", { name: "+ Add device" }).click();
    await security.getByLabel("Host path of device 1").fill("/dev/fuse");
    await security.getByRole("button", { name: "+ Add capability" }).click();
    await security.getByLabel("Added capability 1", { exact: true }).fill("sys_admin");
    await dialog.locator(".ct-run-risks").waitFor();
    await security.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await screenshotPath("run-form-phone-security") });
    await health.scrollIntoViewIfNeeded();
    await page.screenshot({ path: await screenshotPath("run-form-phone-health") });
    // Nothing in the dialog is wider than the screen.
    const overflow = await dialog.evaluate((element) => {
      const width = document.documentElement.clientWidth;
      return [...element.querySelectorAll("input, select, button")]
        .filter((item) => item.getBoundingClientRect().right > width + 1)
        .map((item) =>
          item.getAttribute("aria-label") ?? item.getAttribute("name") ?? item.tagName
        );
    });
    assert.deepEqual(overflow, []);
    assert.deepEqual(errors, []);
  },
});
