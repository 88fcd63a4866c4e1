/**
 * The Containers page at scale (issue 15), in headless Chromium against the real panel
 * process (tests/fixtures/server.ts startPanel) and the real Engine, with COUNT containers
 * of ours on the node (created from TEST_IMAGE, not started):
 *
 * - the page's HTML size and server time (target under 400 KiB);
 * - time from navigation to the first row visible, and to the island hydrated (target: rows
 *   visible under 1 s);
 * - a sort click and a filter keystroke: the time from the event to the next frame painted
 *   (target under 100 ms), measured in the page (click/input, then a frame, then a task).
 *
 * The panel's islands bundle is whatever static/build holds (`deno task bench` rebuilds it
 * when stale). Containers carry a unique name prefix and the test label and are removed at
 * the end, on failure and on Ctrl-C.
 */
import { createContainer, listContainers, removeContainer } from "../lib/docker/containers.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  dockerHost,
  ensureTestImage,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../tests/fixtures/engine.ts";
import { type PanelProcess, startPanel } from "../tests/fixtures/server.ts";
import { launchBrowser } from "../tests/fixtures/browser.ts";
import type { Page } from "playwright-core";

const COUNT = Number(Deno.env.get("BENCH_PAGE_CONTAINERS") ?? 1000);
const LOADS = Number(Deno.env.get("BENCH_PAGE_LOADS") ?? 5);
const REPAINTS = Number(Deno.env.get("BENCH_PAGE_REPAINTS") ?? 10);

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
const max = (values: number[]) => Math.max(...values);
const ms = (value: number) => value.toFixed(0);
const verdict = (ok: boolean) => ok ? "met" : "NOT met";

if (dockerHost.kind !== "unix") throw new Error("The benchmark needs a unix DOCKER_HOST");
const docker = createDockerClient(dockerHost);
await ensureTestImage(docker);
const prefix = uniquePrefix("cmpage");
const ids: string[] = [];

async function cleanup() {
  console.log(`Removing the benchmark containers (prefix ${prefix}) ...`);
  const ours = await listContainers(docker, {
    all: true,
    filters: { label: [`${TEST_LABEL}=${prefix}`] },
  }).catch(() => []);
  const all = [...new Set([...ids, ...ours.map((c) => c.Id)])];
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < all.length) {
      await removeContainer(docker, all[next++], { force: true }).catch(() => {});
    }
  }));
}

let activePanel: PanelProcess | undefined;
const onInterrupt = () => {
  Promise.resolve(activePanel?.stop()).catch(() => {}).then(cleanup).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

/**
 * Runs in the page: clicks the sort header of `column`, or types `text` into the filter (one
 * input event), and answers the time from that event to the next painted frame.
 */
function repaintAfter(
  page: Page,
  act: { sort: string } | { filter: string },
): Promise<number> {
  return page.evaluate((act) =>
    new Promise<number>((resolve) => {
      const start = performance.now();
      if ("sort" in act) {
        document.querySelector<HTMLButtonElement>(`th.${act.sort} button`)!.click();
      } else {
        const input = document.querySelector<HTMLInputElement>("input.ct-filter")!;
        input.value = act.filter;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
    }), act);
}

try {
  console.log(`Creating ${COUNT} containers (created, not started) ...`);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < COUNT) {
      const index = next++;
      const { Id } = await createContainer(docker, {
        Image: TEST_IMAGE,
        Cmd: ["sleep", "36000"],
        Labels: { [TEST_LABEL]: prefix },
      }, `${prefix}${String(index).padStart(4, "0")}`);
      ids.push(Id);
    }
  }));
  const onNode = (await listContainers(docker, { all: true })).length;

  const panel = activePanel = await startPanel();
  try {
    const cookie = await panel.login();
    const htmlTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < LOADS; i++) {
      const start = performance.now();
      const response = await fetch(`${panel.url}/containers`, { headers: { Cookie: cookie } });
      bytes = (await response.arrayBuffer()).byteLength;
      htmlTimes.push(performance.now() - start);
    }

    await using browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const [name, value] = cookie.split("=");
    await context.addCookies([{ name, value, url: panel.url }]);
    const visible: number[] = [];
    const hydrated: number[] = [];
    const sorts: number[] = [];
    const filters: number[] = [];
    for (let load = 0; load < LOADS; load++) {
      const page = await context.newPage();
      const start = performance.now();
      await page.goto(`${panel.url}/containers`, { waitUntil: "commit" });
      await page.locator("tr.ct-row").first().waitFor({ state: "visible", timeout: 30_000 });
      visible.push(performance.now() - start);
      await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor({
        timeout: 30_000,
      });
      hydrated.push(performance.now() - start);
      if (load === LOADS - 1) {
        // Repaints on the last load: alternate the Image and Name sort headers.
        await page.waitForTimeout(500);
        for (let i = 0; i < REPAINTS; i++) {
          const column = i % 2 === 0 ? "ct-col-image" : "ct-col-name";
          sorts.push(await repaintAfter(page, { sort: column }));
          await page.waitForTimeout(100);
        }
        // Keystrokes in the filter: the prefix's characters one by one, then cleared.
        const typed = prefix.slice(0, REPAINTS);
        for (let i = 1; i <= typed.length; i++) {
          filters.push(await repaintAfter(page, { filter: typed.slice(0, i) }));
          await page.waitForTimeout(100);
        }
        const rendered = await page.locator("tr.ct-row").count();
        console.log(`(rows in the DOM after the last keystroke: ${rendered})`);
      }
      await page.close();
    }

    console.log(
      `\n${onNode} containers on the node (${COUNT} of the benchmark's, created, not started);` +
        ` viewport 1440x900; ${LOADS} page loads\n`,
    );
    console.log("| measure | median | max | target | |");
    console.log("| --- | ---: | ---: | ---: | --- |");
    const kib = bytes / 1024;
    console.log(`| HTML size | ${kib.toFixed(0)} KiB | | 400 KiB | ${verdict(kib < 400)} |`);
    console.log(
      `| HTML served (ms) | ${ms(median(htmlTimes))} | ${ms(max(htmlTimes))} | | |`,
    );
    console.log(
      `| rows visible (ms) | ${ms(median(visible))} | ${ms(max(visible))} | 1000 | ${
        verdict(median(visible) < 1000)
      } |`,
    );
    console.log(
      `| island hydrated (ms) | ${ms(median(hydrated))} | ${ms(max(hydrated))} | | |`,
    );
    console.log(
      `| sort click repaint (ms) | ${ms(median(sorts))} | ${ms(max(sorts))} | 100 | ${
        verdict(median(sorts) < 100)
      } |`,
    );
    console.log(
      `| filter keystroke repaint (ms) | ${ms(median(filters))} | ${ms(max(filters))} | 100 | ${
        verdict(median(filters) < 100)
      } |`,
    );
  } finally {
    activePanel = undefined;
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true }).catch(() => {});
  }
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
  await cleanup();
  docker.close();
}
