/**
 * Containers benchmarks (issue 15, "Scale"), each against its baseline in one run, all on
 * the real panel process (tests/fixtures/server.ts startPanel) and the real Engine:
 *
 * 1. Streams never starve requests: with RUNNING running containers, a table client opens
 *    `/api/containers/stats/stream`; every container's first sample must come within 2 s,
 *    and `/api/health` and `GET /api/containers` during that fill within 2x their idle
 *    latency (measured just before), health never saying the Engine is down.
 * 2. dockerd CPU with 5 viewers against 1 viewer (each extra viewer costs it nothing: one
 *    upstream per container), and the upstream count held by the hub (in process).
 * 3. Panel RSS with 5 viewers streaming, and idle after that stats burst.
 * 4. `GET /api/containers` against a raw `GET /containers/json?all=1` on the socket (also
 *    with one container renamed by another client before each list),
 *    alternating, at SMALL and at LARGE containers on the node (most of them created, not
 *    started); the Containers page's HTML size and time at both.
 *
 * Containers carry a unique name prefix and the test label, and are removed at the end,
 * on failure, and on Ctrl-C. The panel runs with the start task's V8 flags and allocator
 * setting; BENCH_V8_FLAGS runs it with other V8 flags.
 */
import {
  createContainer,
  listContainers,
  removeContainer,
  renameContainer,
  startContainer,
} from "../lib/docker/containers.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { containerView } from "../lib/docker/views.ts";
import type { ContainerSummary } from "../lib/docker/types.ts";
import {
  dockerHost,
  ensureTestImage,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../tests/fixtures/engine.ts";
import { createTestApp } from "../tests/fixtures/app.ts";
import { type PanelProcess, startPanel } from "../tests/fixtures/server.ts";
import { MALLOC_ENV, RUN_FLAGS } from "../lib/install.ts";
import { reportTarget } from "./report.ts";

const RUNNING = Number(Deno.env.get("BENCH_RUNNING") ?? 100);
const SMALL = Number(Deno.env.get("BENCH_CONTAINERS") ?? 200);
const LARGE = Number(Deno.env.get("BENCH_CONTAINERS_LARGE") ?? 1000);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 100);
/** BENCH_PARTS=list runs only the list against the raw Engine call (part 4). */
const LIST_ONLY = Deno.env.get("BENCH_PARTS") === "list";
const WINDOW_MS = Number(Deno.env.get("BENCH_WINDOW_MS") ?? 20_000);
const VIEWERS = 5;
/** main.ts with the start task's run flags and allocator settings; BENCH_V8_FLAGS compares others. */
const benchV8Flags = Deno.env.get("BENCH_V8_FLAGS");
const panelOptions = {
  runFlags: benchV8Flags === undefined ? [...RUN_FLAGS] : [],
  env: {
    ...(benchV8Flags === undefined ? {} : { DENO_V8_FLAGS: benchV8Flags }),
    ...Object.fromEntries(MALLOC_ENV.split(" ").map((word) => word.split("="))),
  },
};

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
const p95 = (values: number[]) =>
  sorted(values)[Math.min(values.length - 1, Math.floor(values.length * 0.95))];
const max = (values: number[]) => Math.max(...values);
const ms = (value: number) => value.toFixed(1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const verdict = (ok: boolean) => ok ? "**met**" : "**not met**";

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

/** Open sockets of a process (its Engine connections among them). */
function sockets(pid: number): number {
  let count = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith("socket:")) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

function dockerdPid(): number {
  const out = new Deno.Command("pidof", { args: ["dockerd"], stdout: "piped" }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim().split(" ")[0]);
}

async function cpuPercent(pid: number, windowMs: number): Promise<number> {
  const before = cpuTicks(pid);
  await sleep(windowMs);
  // Clock ticks are 1/100 s: ticks / seconds is the percentage of one core.
  return (cpuTicks(pid) - before) / (windowMs / 1000);
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

/** An SSE client: calls `onEvent` for each event until aborted. */
async function sse(
  url: string,
  cookie: string,
  signal: AbortSignal,
  onEvent: (event: string, data: string) => void,
) {
  const response = await fetch(url, { headers: { Cookie: cookie }, signal });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  // Aborting the fetch does not always reach a body read through a pipe: cancel it too.
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  let buffer = "";
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        onEvent(event, data);
      }
    }
  } catch {
    // aborted
  }
}

if (dockerHost.kind !== "unix") throw new Error("The benchmark needs a unix DOCKER_HOST");
const docker = createDockerClient(dockerHost);
await ensureTestImage(docker);
const version = await docker.apiVersion();
const prefix = uniquePrefix("cmbench");
const ids: string[] = [];

async function cleanup() {
  console.log(`\nRemoving the ${ids.length} benchmark containers (prefix ${prefix}) ...`);
  const label = `${TEST_LABEL}=${prefix}`;
  const ours = await listContainers(docker, { all: true, filters: { label: [label] } })
    .catch(() => []);
  const all = [...new Set([...ids, ...ours.map((c) => c.Id)])];
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < all.length) {
      await removeContainer(docker, all[next++], { force: true }).catch(() => {});
    }
  }));
}
/** The panel process running now, stopped on Ctrl-C too. */
let activePanel: PanelProcess | undefined;
const onInterrupt = () => {
  Promise.resolve(activePanel?.stop()).catch(() => {}).then(cleanup).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

/** Creates containers up to `total` of ours, starting the first `running` of them. */
async function grow(total: number, running: number) {
  let next = ids.length;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < total) {
      const index = next++;
      const { Id } = await createContainer(docker, {
        Image: TEST_IMAGE,
        Cmd: ["sleep", "36000"],
        Labels: { [TEST_LABEL]: prefix },
      }, `${prefix}${index}`);
      ids.push(Id);
      if (index < running) await startContainer(docker, Id);
    }
  }));
}

const raw = Deno.createHttpClient({ proxy: { transport: "unix", path: dockerHost.path } });
const rawList = async () => {
  const response = await fetch(
    `http://127.0.0.1/v${version}/containers/json?all=1`,
    { client: raw } as RequestInit,
  );
  return await response.json();
};

async function listRatio(panel: PanelProcess, cookie: string) {
  const panelList = async () => {
    const response = await fetch(`${panel.url}/api/containers`, { headers: { Cookie: cookie } });
    return await response.json();
  };
  // The fixed cost of any request to the panel: the HTTP hop, the middleware (session
  // lookup included) and a handler that asks the Engine nothing.
  const panelMe = async () =>
    await (await fetch(`${panel.url}/api/auth/me`, { headers: { Cookie: cookie } })).text();
  for (let i = 0; i < 5; i++) {
    await rawList();
    await panelList();
    await panelMe();
  }
  const rawTimes: number[] = [];
  const panelTimes: number[] = [];
  const meTimes: number[] = [];
  // Which goes first alternates, so whatever one call leaves the Engine (its garbage
  // collector, say) weighs on both alike.
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2) rawTimes.push((await timed(rawList))[0]);
    panelTimes.push((await timed(panelList))[0]);
    if (!(i % 2)) rawTimes.push((await timed(rawList))[0]);
    meTimes.push((await timed(panelMe))[0]);
  }
  // The same after one container changed: another client renames one of ours (as the CLI
  // would) 100 ms before each panel list, so the panel reads that container again.
  const renamed = ids[ids.length - 1];
  const changedTimes: number[] = [];
  const rawAgain: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await renameContainer(docker, renamed, `${prefix}renamed-${ids.length}-${i % 2}`);
    await sleep(100);
    if (i % 2) rawAgain.push((await timed(rawList))[0]);
    changedTimes.push((await timed(panelList))[0]);
    if (!(i % 2)) rawAgain.push((await timed(rawList))[0]);
  }
  const listed = (await panelList()).containers.length;
  const changedRatio = median(changedTimes) / median(rawAgain);
  const ratio = median(panelTimes) / median(rawTimes);
  // The panel's own work on the Engine's answer, timed here in one process: parse, views,
  // serialise (what GET /api/containers adds to the Engine call besides the hop).
  const engineText = JSON.stringify(await rawList());
  const work = () =>
    JSON.stringify({
      containers: (JSON.parse(engineText) as ContainerSummary[]).map((summary) =>
        containerView(summary, "io.container-manager.managed")
      ),
    });
  for (let i = 0; i < 20; i++) work();
  const workTimes: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    work();
    workTimes.push(performance.now() - start);
  }
  console.log(
    `\n## GET /api/containers with ${listed} containers on the node, ${ROUNDS} alternating rounds\n`,
  );
  console.log("| path | median ms | p95 ms |\n| --- | --- | --- |");
  console.log(
    `| raw GET /containers/json?all=1 on the socket (baseline) | ${ms(median(rawTimes))} | ${
      ms(p95(rawTimes))
    } |`,
  );
  console.log(
    `| panel GET /api/containers over HTTP | ${ms(median(panelTimes))} | ${ms(p95(panelTimes))} |`,
  );
  console.log(
    `| raw GET /containers/json?all=1, rounds with a rename (baseline) | ${
      ms(median(rawAgain))
    } | ${ms(p95(rawAgain))} |`,
  );
  console.log(
    `| panel GET /api/containers, one container renamed by another client before each | ${
      ms(median(changedTimes))
    } | ${ms(p95(changedTimes))} |`,
  );
  console.log(
    `\nthe panel's parts: GET /api/auth/me ` +
      `(HTTP hop, middleware, session lookup; no Engine call) ${ms(median(meTimes))} ms median, ` +
      `${ms(p95(meTimes))} ms p95; parsing the Engine's ${
        (engineText.length / 1024).toFixed(0)
      } KiB, building the views and serialising them ${median(workTimes).toFixed(2)} ms`,
  );
  reportTarget({
    measure: `GET /api/containers, ${listed} containers`,
    target: "at most 1.1x the raw Engine list",
    baseline: `${ms(median(rawTimes))} ms`,
    measured: `${ms(median(panelTimes))} ms`,
    ratio,
    met: ratio <= 1.1,
  });
  reportTarget({
    measure: `GET /api/containers, ${listed} containers, one changed before each list`,
    target: "at most 1.1x the raw Engine list",
    baseline: `${ms(median(rawAgain))} ms`,
    measured: `${ms(median(changedTimes))} ms`,
    ratio: changedRatio,
    met: changedRatio <= 1.1,
  });
  console.log(
    `\nratio of medians: ${ratio.toFixed(2)}x, and ${
      changedRatio.toFixed(2)
    }x with one container changed before each list (target at most 1.1x: ${
      verdict(ratio <= 1.1 && changedRatio <= 1.1)
    })`,
  );

  const pageTimes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const [time, html] = await timed(async () =>
      await (await fetch(`${panel.url}/containers`, { headers: { Cookie: cookie } })).text()
    );
    pageTimes.push(time);
    bytes = new TextEncoder().encode(html).length;
  }
  reportTarget({
    measure: `Containers page HTML, ${listed} containers (server)`,
    target: "under 400 KiB",
    baseline: "",
    measured: `${(bytes / 1024).toFixed(0)} KiB`,
    met: bytes < 400 * 1024,
  });
  console.log(
    `\nContainers page: ${(bytes / 1024).toFixed(0)} KiB of HTML (target under 400 KiB: ${
      verdict(bytes < 400 * 1024)
    }), served in ${ms(median(pageTimes))} ms (median of 5)`,
  );
}

/** Parts 1 to 3 on a freshly started panel with `running` running containers. */
async function streamsViewersAndRss(panel: PanelProcess, cookie: string, running: number) {
  const health = async () => {
    const response = await fetch(`${panel.url}/api/health`, { headers: { Cookie: cookie } });
    return (await response.json()) as { docker: { reachable: boolean } };
  };
  const list = async () =>
    await (await fetch(`${panel.url}/api/containers`, { headers: { Cookie: cookie } })).json();
  const idleHealth: number[] = [];
  const idleList: number[] = [];
  for (let i = 0; i < 20; i++) {
    idleHealth.push((await timed(health))[0]);
    idleList.push((await timed(list))[0]);
  }

  const viewers = new AbortController();
  const firstSample = new Map<string, number>();
  const opened = performance.now();
  const table = sse(`${panel.url}/api/containers/stats/stream`, cookie, viewers.signal, (
    event,
    data,
  ) => {
    if (event !== "stats") return;
    const id = (JSON.parse(data) as { id: string }).id;
    if (!firstSample.has(id)) firstSample.set(id, performance.now() - opened);
  });
  const fillHealth: number[] = [];
  const fillList: number[] = [];
  let downReports = 0;
  const deadline = opened + 15_000;
  while (firstSample.size < running && performance.now() < deadline) {
    const [healthTime, answer] = await timed(health);
    fillHealth.push(healthTime);
    if (!answer.docker.reachable) downReports++;
    fillList.push((await timed(list))[0]);
  }
  const fill = max([...firstSample.values()]);
  const healthRatio = median(fillHealth) / median(idleHealth);
  const listRatioFill = median(fillList) / median(idleList);
  console.log(
    `\n## Opening the table's stats stream with ${running} running containers (fresh panel)\n`,
  );
  console.log(
    `first sample of every container: ${firstSample.size} of ${running} within ${ms(fill)} ms ` +
      `(median ${ms(median([...firstSample.values()]))} ms; target every one within 2 s: ${
        verdict(firstSample.size >= running && fill <= 2_000)
      })\n`,
  );
  console.log("| request | idle median ms | during the fill: median ms | max ms | ratio |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    `| GET /api/health | ${ms(median(idleHealth))} | ${ms(median(fillHealth))} | ${
      ms(max(fillHealth))
    } | ${healthRatio.toFixed(2)}x |`,
  );
  console.log(
    `| GET /api/containers | ${ms(median(idleList))} | ${ms(median(fillList))} | ${
      ms(max(fillList))
    } | ${listRatioFill.toFixed(2)}x |`,
  );
  reportTarget({
    measure: `first stats sample of all ${running} running containers`,
    target: "within 2 s",
    baseline: "",
    measured: `${firstSample.size} in ${ms(fill)} ms`,
    met: firstSample.size >= running && fill <= 2_000,
  });
  for (
    const [name, idle, during, ratioNow] of [
      ["/api/health", idleHealth, fillHealth, healthRatio],
      ["GET /api/containers", idleList, fillList, listRatioFill],
    ] as const
  ) {
    reportTarget({
      measure: `${name} while the stats streams open`,
      target: `within 2x idle${name === "/api/health" ? ', never "down"' : ""}`,
      baseline: `${ms(median(idle))} ms idle`,
      measured: `${ms(median(during))} ms${
        name === "/api/health" ? `, ${downReports} down of ${fillHealth.length}` : ""
      }`,
      ratio: ratioNow,
      met: ratioNow <= 2 && (name !== "/api/health" || downReports === 0),
    });
  }
  console.log(
    `\n${fillHealth.length} health checks during the fill, ${downReports} said the Engine is down ` +
      `(target: none, both within 2x: ${
        verdict(downReports === 0 && healthRatio <= 2 && listRatioFill <= 2)
      })`,
  );

  // 2. and 3. dockerd CPU with 1 viewer, then with 5; RSS with 5 streaming.
  const dockerd = dockerdPid();
  await sleep(2_000);
  const oneViewer = await cpuPercent(dockerd, WINDOW_MS);
  const socketsOne = sockets(panel.child.pid);
  const extra = new AbortController();
  const more = Array.from(
    { length: VIEWERS - 1 },
    () => sse(`${panel.url}/api/containers/stats/stream`, cookie, extra.signal, () => {}),
  );
  await sleep(2_000);
  const panelBefore = cpuTicks(panel.child.pid);
  const fiveViewers = await cpuPercent(dockerd, WINDOW_MS);
  const panelCpu = (cpuTicks(panel.child.pid) - panelBefore) / (WINDOW_MS / 1000);
  const streamingRss = rssMiB(panel.child.pid);
  const socketsFive = sockets(panel.child.pid);
  // Back to one viewer: a second baseline window, so other suites' load on the Engine shows.
  extra.abort();
  await Promise.all(more);
  await sleep(2_000);
  const oneAgain = await cpuPercent(dockerd, WINDOW_MS);
  viewers.abort();
  await table;

  // The hub's upstream count, read in process: the same hub code, 5 subscribers.
  const t = await createTestApp();
  const inProcess = new AbortController();
  const inCookie = t.cookieFor(await t.addUser("bench", "admin"));
  const inStreams = await Promise.all(
    Array.from(
      { length: VIEWERS },
      () => t.request("GET", "/api/containers/stats/stream", { cookie: inCookie }),
    ),
  );
  const drains = inStreams.map(async (response) => {
    const reader = response.body!.getReader();
    inProcess.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
    try {
      while (!(await reader.read()).done);
    } catch {
      // cancelled
    }
  });
  await sleep(3_000);
  const upstreams = t.deps.stats.upstreams();
  const runningNow = (await listContainers(docker, { all: false })).length;
  inProcess.abort();
  await Promise.all(drains);
  await t.close();

  console.log(
    `\n## ${VIEWERS} viewers against 1 on the stats of ${running} running containers, ${
      WINDOW_MS / 1000
    } s each\n`,
  );
  console.log("| viewers | dockerd CPU % |\n| --- | --- |");
  console.log(`| 1 (baseline) | ${oneViewer.toFixed(1)} |`);
  console.log(`| ${VIEWERS} | ${fiveViewers.toFixed(1)} |`);
  console.log(`| 1 again (baseline) | ${oneAgain.toFixed(1)} |`);
  console.log(
    `\nopen sockets of the real panel process: ${socketsOne} with 1 viewer, ${socketsFive} with ` +
      `${VIEWERS} (${VIEWERS - 1} more viewers' own connections; one upstream per container ` +
      `would keep the difference near ${VIEWERS - 1}, one per viewer near ${
        (VIEWERS - 1) * running
      }: ${verdict(socketsFive - socketsOne <= 2 * VIEWERS)})`,
  );
  reportTarget({
    measure: `extra table viewers' cost to dockerd, ${running} running containers`,
    target: "zero: one upstream per container",
    baseline: `1 viewer: ${socketsOne} sockets, ${oneViewer.toFixed(1)} % CPU`,
    measured: `${VIEWERS} viewers: ${socketsFive} sockets, ${
      fiveViewers.toFixed(1)
    } % CPU, ${upstreams} upstreams`,
    ratio: fiveViewers / ((oneViewer + oneAgain) / 2),
    met: socketsFive - socketsOne <= 2 * VIEWERS && upstreams <= runningNow + 2,
  });
  console.log(
    `\nratio ${
      (fiveViewers / ((oneViewer + oneAgain) / 2)).toFixed(2)
    }x against the mean of the two baselines; upstream Engine stats streams held by the ` +
      `hub with ${VIEWERS} subscribers: ${upstreams} for ${runningNow} running containers ` +
      `(one per container, not ${VIEWERS * runningNow}: ${
        verdict(upstreams <= runningNow + 2)
      }; other suites may start or stop a few meanwhile). Panel CPU with ${VIEWERS} viewers: ` +
      `${panelCpu.toFixed(1)} %.`,
  );

  // Idle after the burst: the hub's upstreams linger 5 s after the last viewer left.
  await sleep(10_000);
  const idleRss = rssMiB(panel.child.pid);
  // The memory targets are judged by bench/rss.ts, on the bundle `deno task start` and the
  // unit run; this is main.ts from source after this benchmark's lists and viewers.
  console.log("\n## Panel RSS, main.ts from source (VmRSS of the real process)\n");
  console.log("| moment | RSS MiB |\n| --- | --- |");
  console.log(
    `| ${VIEWERS} viewers streaming stats of ${running} running containers | ${
      streamingRss.toFixed(0)
    } |`,
  );
  console.log(`| idle with ${SMALL}+ containers, 10 s after that burst | ${idleRss.toFixed(0)} |`);
}

try {
  console.log(
    `Creating ${SMALL} containers (${RUNNING} running) with prefix ${prefix} ...`,
  );
  await grow(SMALL, RUNNING);
  const running = (await listContainers(docker, { all: false })).length;

  // 1. Streams never starve requests, on a freshly started panel.
  const panel = await startPanel(panelOptions);
  activePanel = panel;
  try {
    const cookie = await panel.login();
    if (!LIST_ONLY) await streamsViewersAndRss(panel, cookie, running);

    // 4. List against the raw Engine call, at SMALL containers.
    await listRatio(panel, cookie);
  } finally {
    await panel.stop();
    if (Deno.env.get("BENCH_DEBUG")) console.log(panel.output());
    await Deno.remove(panel.dataDir, { recursive: true }).catch(() => {});
  }

  if (LARGE > SMALL) {
    console.log(`\nCreating ${LARGE - SMALL} more containers (not started) ...`);
    await grow(LARGE, RUNNING);
    const large = await startPanel(panelOptions);
    activePanel = large;
    try {
      await listRatio(large, await large.login());
    } finally {
      await large.stop();
      await Deno.remove(large.dataDir, { recursive: true }).catch(() => {});
    }
  }
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
  await cleanup();
  raw.close();
  docker.close();
}
