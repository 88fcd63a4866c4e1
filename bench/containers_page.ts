/**
 * The Containers page at scale (issue 15), in headless Chromium against the real panel
 * process and the real Engine, with COUNT containers of ours on the node (created from
 * TEST_IMAGE, not started), side by side with a baseline: the same measurements against the
 * panel of BASELINE_REV (default: the commit before the table was virtualised), unpacked with
 * `git archive` into a temporary folder (the working tree is not touched), its islands built
 * there. Page loads alternate between the two panels. BENCH_PAGE_REV measures that revision
 * (unpacked the same way) instead of the working tree.
 *
 * - the page's HTML size and server time (target under 400 KiB);
 * - time from navigation to the first row visible, and to the island hydrated (target: rows
 *   visible under 1 s);
 * - a sort click and a filter keystroke: the time from the event to the next frame painted
 *   (target under 100 ms), measured in the page (click/input, then a frame, then a task).
 *
 * The current panel's islands bundle is whatever static/build holds (`deno task bench`
 * rebuilds it when stale). BENCH_PAGE_BASELINE= (empty) skips the baseline. Containers carry
 * a unique name prefix and the test label and are removed at the end, on failure and on
 * Ctrl-C.
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
import { PANEL_ADMIN_PASSWORD, startPermissions } from "../tests/fixtures/server.ts";
import { freePort } from "../tests/fixtures/registry.ts";
import { launchBrowser, watchErrors } from "../tests/fixtures/browser.ts";
import type { BrowserContext, Page } from "playwright-core";
import { reportTarget } from "./report.ts";

const COUNT = Number(Deno.env.get("BENCH_PAGE_CONTAINERS") ?? 1000);
const LOADS = Number(Deno.env.get("BENCH_PAGE_LOADS") ?? 5);
const REPAINTS = Number(Deno.env.get("BENCH_PAGE_REPAINTS") ?? 10);
/** The parent of the commit that virtualised the table (cd77b7e). */
const BASELINE_REV = Deno.env.get("BENCH_PAGE_BASELINE") ?? "cd77b7e^";
/**
 * Measures this revision instead of the working tree (unpacked like the baseline): a tree
 * whose static/build others rebuild during the run breaks the page loads.
 */
const CURRENT_REV = Deno.env.get("BENCH_PAGE_REV");
const ROOT = new URL("../", import.meta.url).pathname;

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
const max = (values: number[]) => Math.max(...values);
const ms = (value: number) => value.toFixed(0);
const verdict = (ok: boolean) => ok ? "met" : "NOT met";

interface Panel {
  label: string;
  url: string;
  cookie: string;
  stop(): Promise<void>;
}

interface Figures {
  bytes: number;
  html: number[];
  visible: number[];
  hydrated: number[];
  sorts: number[];
  filters: number[];
}

async function run(command: string, args: string[], cwd: string) {
  const output = await new Deno.Command(command, { args, cwd, stderr: "piped", stdout: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return output.stdout;
}

/** main.ts of `dir` with the start task's permissions, on a free port with a fresh data dir. */
async function startPanelIn(dir: string, label: string): Promise<Panel> {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "cm-bench-page-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(await startPermissions()),
      "main.ts",
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      dataDir,
    ],
    cwd: dir,
    env: { NO_COLOR: "1", CM_ADMIN_PASSWORD: PANEL_ADMIN_PASSWORD },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const deadline = Date.now() + 60_000;
  while (!output.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The ${label} panel did not start:\n${output}`);
    }
    output += value;
  }
  // Keep reading, so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  const response = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: url },
    body: JSON.stringify({ username: "admin", password: PANEL_ADMIN_PASSWORD }),
  });
  await response.body?.cancel();
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith("cm_session="))!
    .split(";")[0];
  return {
    label,
    url,
    cookie,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** `rev` unpacked into a temporary folder with its islands built. */
async function treeOf(rev: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cm-bench-page-tree-" });
  trees.push(dir);
  const tar = await run("git", ["archive", "--format=tar", rev], ROOT);
  const untar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  const writer = untar.stdin.getWriter();
  await writer.write(tar);
  await writer.close();
  if (!(await untar.status).success) throw new Error("Unpacking the baseline failed");
  await run(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-write=static/build",
    "--allow-env",
    "--allow-run=deno",
    "scripts/build_islands.ts",
  ], dir);
  return dir;
}

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

/** One page load: HTML over fetch, then the page in Chromium; repaints when `repaints`. */
async function measureLoad(
  panel: Panel,
  context: BrowserContext,
  figures: Figures,
  repaints: boolean,
) {
  const start = performance.now();
  const response = await fetch(`${panel.url}/containers`, { headers: { Cookie: panel.cookie } });
  figures.bytes = (await response.arrayBuffer()).byteLength;
  figures.html.push(performance.now() - start);

  const page = await context.newPage();
  const errors = watchErrors(page);
  try {
    const loaded = performance.now();
    await page.goto(`${panel.url}/containers`, { waitUntil: "commit" });
    await page.locator("tr.ct-row").first().waitFor({ state: "visible", timeout: 60_000 });
    figures.visible.push(performance.now() - loaded);
    await page.locator('[data-island="ContainersTable"][data-hydrated="true"]').waitFor({
      timeout: 60_000,
    }).catch((error) => {
      throw new Error(`${panel.label}: ${error}\npage errors: ${errors.join("\n")}`);
    });
    figures.hydrated.push(performance.now() - loaded);
    if (!repaints) return;
    await page.waitForTimeout(500);
    // Alternate the Image and Name sort headers.
    for (let i = 0; i < REPAINTS; i++) {
      const column = i % 2 === 0 ? "ct-col-image" : "ct-col-name";
      figures.sorts.push(await repaintAfter(page, { sort: column }));
      await page.waitForTimeout(100);
    }
    // Keystrokes in the filter: the benchmark's prefix, one character more each time.
    const typed = prefix.slice(0, REPAINTS);
    for (let i = 1; i <= typed.length; i++) {
      figures.filters.push(await repaintAfter(page, { filter: typed.slice(0, i) }));
      await page.waitForTimeout(100);
    }
  } finally {
    await page.close();
  }
}

if (dockerHost.kind !== "unix") throw new Error("The benchmark needs a unix DOCKER_HOST");
const docker = createDockerClient(dockerHost);
await ensureTestImage(docker);
const prefix = uniquePrefix("cmpage");
const ids: string[] = [];
const panels: Panel[] = [];
const trees: string[] = [];

async function cleanup() {
  for (const panel of panels.splice(0)) await panel.stop().catch(() => {});
  for (const dir of trees.splice(0)) await Deno.remove(dir, { recursive: true }).catch(() => {});
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

const onInterrupt = () => {
  cleanup().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

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

  if (BASELINE_REV) {
    panels.push(await startPanelIn(await treeOf(BASELINE_REV), `baseline (${BASELINE_REV})`));
  }
  panels.push(
    CURRENT_REV
      ? await startPanelIn(await treeOf(CURRENT_REV), CURRENT_REV)
      : await startPanelIn(ROOT, "this tree"),
  );
  await using browser = await launchBrowser();
  const results = new Map<Panel, Figures>();
  const contexts = new Map<Panel, BrowserContext>();
  for (const panel of panels) {
    results.set(panel, { bytes: 0, html: [], visible: [], hydrated: [], sorts: [], filters: [] });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const [name, value] = panel.cookie.split("=");
    await context.addCookies([{ name, value, url: panel.url }]);
    contexts.set(panel, context);
  }
  for (let load = 0; load < LOADS; load++) {
    for (const panel of panels) {
      await measureLoad(panel, contexts.get(panel)!, results.get(panel)!, load === LOADS - 1);
    }
  }

  const load = Deno.loadavg().map((n) => n.toFixed(1)).join(" ");
  console.log(
    `\n${onNode} containers on the node (${COUNT} of the benchmark's, created, not started);` +
      ` viewport 1440x900; ${LOADS} page loads each, alternating; load average ${load}\n`,
  );
  const current = results.get(panels.at(-1)!)!;
  const base = panels.length > 1 ? results.get(panels[0])! : null;
  const ratio = (pick: (f: Figures) => number) =>
    base ? `${(pick(current) / pick(base)).toFixed(2)}x` : "";
  const row = (
    label: string,
    pick: (f: Figures) => number,
    unit: string,
    target?: number,
    shown: (f: Figures) => string = (f) => `${ms(pick(f))} ${unit}`,
  ) => {
    if (target !== undefined) {
      reportTarget({
        measure: `Containers page in Chromium, ${onNode} containers: ${label}`,
        target: `under ${target} ${unit}`,
        baseline: base ? shown(base) : "",
        measured: shown(current),
        ratio: base ? pick(current) / pick(base) : undefined,
        met: pick(current) < target,
      });
    }
    console.log(
      `| ${label} | ${base ? `${shown(base)} | ` : ""}${shown(current)} | ${ratio(pick)} | ${
        target === undefined ? "" : `${target} ${unit}: ${verdict(pick(current) < target)}`
      } |`,
    );
  };
  console.log(`| measure | ${base ? "baseline | " : ""}this tree | ratio | target |`);
  console.log(`| --- | ${base ? "---: | " : ""}---: | ---: | --- |`);
  row("HTML size", (f) => f.bytes / 1024, "KiB", 400);
  row("HTML served, median", (f) => median(f.html), "ms");
  row("rows visible, median", (f) => median(f.visible), "ms", 1000);
  row("rows visible, max", (f) => max(f.visible), "ms");
  row("island hydrated, median", (f) => median(f.hydrated), "ms");
  row("sort click repaint, median", (f) => median(f.sorts), "ms", 100);
  row("sort click repaint, max", (f) => max(f.sorts), "ms");
  row("filter keystroke repaint, median", (f) => median(f.filters), "ms", 100);
  row("filter keystroke repaint, max", (f) => max(f.filters), "ms");
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
  await cleanup();
  docker.close();
}
