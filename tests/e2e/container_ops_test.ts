/**
 * Container operations in headless Chromium against the real Engine: a crash-looping
 * container reads `restarting` with a growing restart count, bulk selection with shift-click
 * ranges and one confirmation, the stats view (charts and processes) and its empty state,
 * and the inspect drawer's new sections. Screenshots land in tests/.artifacts/ops-*.png.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath, signIn, watchErrors } from "../fixtures/browser.ts";
import { startPanel } from "../fixtures/server.ts";
import { makeTestContainer, testEngine } from "../fixtures/engine.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

const e2e = { sanitizeResources: false, sanitizeOps: false };
const QUICK_STOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

async function openTable(page: Page, url: string, query: string) {
  await page.goto(`${url}/containers?q=${encodeURIComponent(query)}`);
  await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor();
}

function row(page: Page, name: string) {
  return page.locator(`tr.ct-row[data-name="${name}"]`);
}

async function menuAction(page: Page, name: string, item: string) {
  await row(page, name).locator(".ct-menu-btn").click();
  await page.locator(".ct-menu").getByRole("menuitem", { name: item, exact: true }).click();
}

Deno.test({
  ...e2e,
  name: "e2e: a crash-looping container reads restarting with a growing restart count",
  async fn() {
    await using engine = await testEngine("cmops");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await signIn(page, panel.url);
    await openTable(page, panel.url, prefix);
    const name = `${prefix}loop`;
    await makeTestContainer(docker, prefix, "loop", {
      Cmd: ["sh", "-c", "exit 1"],
      HostConfig: { RestartPolicy: { Name: "always" } },
    });
    await row(page, name).waitFor();

    const samples: { at: number; state: string; restarts: number }[] = [];
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      const sample = await row(page, name).evaluate((tr) => ({
        state: tr.querySelector(".ct-col-state .pill")?.getAttribute("data-state") ??
          tr.querySelector(".ct-col-state .pill")?.textContent ?? "",
        restarts: Number(tr.querySelector(".badge-restarts")?.getAttribute("data-restarts") ?? 0),
      }));
      samples.push({ at: Date.now(), ...sample });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await page.screenshot({ path: await screenshotPath("ops-crash-loop") });
    const engineCount = (await inspectContainer(docker, name)).RestartCount ?? 0;

    const states = samples.map((s) => s.state);
    assert.ok(states.includes("restarting"), `states seen: ${[...new Set(states)].join(", ")}`);
    const counts = samples.map((s) => s.restarts);
    assert.ok(Math.max(...counts) > Math.min(...counts), "the restart count grows");
    assert.ok(Math.max(...counts) <= engineCount, "never more than the Engine's count");
    // A bare "exited" lasts at most the moment between the Engine's die and the panel's
    // re-read, never a back-off gap (seconds, later in the loop).
    let streak = 0;
    let longest = 0;
    for (let i = 0; i < samples.length; i++) {
      if (samples[i].state === "exited") {
        streak += i > 0 ? samples[i].at - samples[i - 1].at : 0;
        longest = Math.max(longest, streak);
      } else streak = 0;
    }
    const exited = states.filter((state) => state === "exited").length;
    assert.ok(
      longest <= 1_500,
      `exited for ${longest} ms in a row (${exited} of ${samples.length} samples)`,
    );
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name: "e2e: bulk selection with a shift-click range, one confirmation listing them, stop",
  async fn() {
    await using engine = await testEngine("cmops");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const names = ["a1", "a2", "a3", "a4"].map((n) => `${prefix}${n}`);
    for (const name of names) {
      await makeTestContainer(docker, prefix, name.slice(prefix.length), { Cmd: QUICK_STOP });
    }
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.setViewportSize({ width: 1400, height: 900 });
    await signIn(page, panel.url);
    await openTable(page, panel.url, prefix);
    for (const name of names) await row(page, name).waitFor();

    await row(page, names[0]).locator(".ct-col-select input").click();
    await row(page, names[2]).locator(".ct-col-select input").click({ modifiers: ["Shift"] });
    await page.locator(".ct-bulk-count").getByText("3 selected").waitFor();
    assert.equal(await row(page, names[3]).locator(".ct-col-select input").isChecked(), false);
    await page.screenshot({ path: await screenshotPath("ops-bulk-selected") });

    await page.locator(".ct-bulk").getByRole("button", { name: "Stop", exact: true }).click();
    const list = page.locator('[data-testid="bulk-list"] li');
    await list.first().waitFor();
    assert.deepEqual(
      (await list.allTextContents()).map((text) => text.split(" ")[0]),
      names.slice(0, 3),
    );
    await page.screenshot({ path: await screenshotPath("ops-bulk-confirm") });
    await page.getByRole("button", { name: "Stop 3 containers" }).click();
    for (const name of names.slice(0, 3)) {
      await row(page, name).locator('.pill[data-state="exited"]').waitFor({ timeout: 20_000 });
    }
    assert.equal((await inspectContainer(docker, names[3])).State.Running, true);
    // A clean exit is neutral, not red.
    const pill = row(page, names[0]).locator(".pill");
    assert.match((await pill.getAttribute("class"))!, /exit-ok/);
    assert.equal(await pill.textContent(), "exited (0)");
    await page.locator(".ct-bulk").waitFor({ state: "detached" });
    await page.screenshot({ path: await screenshotPath("ops-bulk-done") });
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name:
    "e2e: the stats view charts a running container and lists its processes; inspect shows limits and raw JSON",
  async fn() {
    await using engine = await testEngine("cmops");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const name = `${prefix}stats`;
    await makeTestContainer(docker, prefix, "stats", {
      Cmd: QUICK_STOP,
      Env: ["API_TOKEN=hunter2"],
      User: "nobody",
      WorkingDir: "/tmp",
      HostConfig: { Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, CapAdd: ["NET_ADMIN"] },
    });
    await makeTestContainer(docker, prefix, "idle", { Cmd: QUICK_STOP }, false);
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.setViewportSize({ width: 1400, height: 900 });
    await signIn(page, panel.url);
    await openTable(page, panel.url, prefix);

    await menuAction(page, name, "Stats");
    await page.locator('.ct-chart[data-chart="CPU"] polyline').waitFor({ timeout: 20_000 });
    for (const chart of ["CPU", "Memory", "Network", "Block I/O"]) {
      await page.locator(`.ct-chart[data-chart="${chart}"]`).waitFor();
    }
    await page.locator(".ct-top-table td", { hasText: "trap" }).first().waitFor();
    await page.waitForTimeout(2_500);
    await page.screenshot({ path: await screenshotPath("ops-stats") });

    await page.getByRole("tab", { name: "Inspect" }).click();
    await page.getByText("Restarts").waitFor();
    const inspect = page.locator(".ct-inspect");
    await inspect.getByText("67 MB").first().waitFor(); // 64 MiB, in the panel's decimal units
    await inspect.getByText("add: NET_ADMIN").waitFor();
    await page.getByRole("button", { name: "Raw JSON" }).click();
    const raw = page.locator('[data-testid="raw-json"]');
    await raw.waitFor();
    assert.match((await raw.textContent())!, /"NanoCpus": 500000000/);
    await page.screenshot({ path: await screenshotPath("ops-inspect-raw") });
    await page.keyboard.press("Escape");

    await menuAction(page, `${prefix}idle`, "Stats");
    await page.getByText("Not running: no stats to show").waitFor();
    await page.screenshot({ path: await screenshotPath("ops-stats-empty") });
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  ...e2e,
  name:
    "e2e: Duplicate / edit fills the Run form from a container; an image row's Run fills the image; Reset clears",
  async fn() {
    await using engine = await testEngine("cmops");
    const { docker, prefix } = engine;
    await using panel = await startPanel();
    await using browser = await launchBrowser();
    const name = `${prefix}orig`;
    await makeTestContainer(docker, prefix, "orig", {
      Cmd: ["sleep", "600"],
      Env: ["MODE=blue"],
      HostConfig: { RestartPolicy: { Name: "unless-stopped" } },
    });
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.setViewportSize({ width: 1400, height: 900 });
    await signIn(page, panel.url);
    await openTable(page, panel.url, prefix);
    await menuAction(page, name, "Duplicate / edit…");
    const dialog = page.locator("dialog.ct-run");
    await page.waitForFunction(() =>
      document.querySelector<HTMLInputElement>('dialog.ct-run input[name="name"]')?.value
        .endsWith("-copy")
    );
    assert.equal(
      await dialog.locator('input[name="image"]').inputValue(),
      "cm-test/busybox:latest",
    );
    assert.equal(await dialog.locator('input[name="name"]').inputValue(), `${name}-copy`);
    const values = await dialog.evaluate((element) =>
      [...element.querySelectorAll<HTMLInputElement>("input, textarea")].map((input) => input.value)
    );
    assert.ok(values.includes("sleep 600"), values.join(" | "));
    assert.ok(values.includes("MODE") || values.some((v) => v.includes("MODE=blue")));
    await page.screenshot({ path: await screenshotPath("ops-duplicate") });
    await dialog.getByRole("button", { name: "Reset" }).click();
    assert.equal(await dialog.locator('input[name="image"]').inputValue(), "");
    await page.keyboard.press("Escape");

    await page.goto(`${panel.url}/images`);
    await page.locator('[data-island="ImagesPanel"][data-hydrated="true"]').waitFor();
    await page.getByRole("button", { name: "Run cm-test/busybox:latest" }).click();
    await dialog.waitFor();
    assert.equal(
      await dialog.locator('input[name="image"]').inputValue(),
      "cm-test/busybox:latest",
    );
    await page.screenshot({ path: await screenshotPath("ops-image-run") });
    assert.deepEqual(errors, []);
  },
});
