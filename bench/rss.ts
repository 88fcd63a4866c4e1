/**
 * Panel RSS (issue 15), in one run on the same containers: the panel without its memory
 * settings (the baseline), main.ts from source as `deno task dev` runs it (without --watch),
 * and the bundle (dist/container-manager.js, rebuilt here) as `deno task start` and the service
 * unit run it, both with the start task's `deno run` flags (RUN_FLAGS) and allocator settings
 * (MALLOC_ENV):
 * SMALL containers of which RUNNING run; a fresh panel answers 20 lists, then 5 viewers
 * stream the stats of every running container for STREAM_S seconds (RSS sampled every
 * second: the peak and the last), then nobody watches for IDLE_S seconds (the hub's
 * upstreams linger 5 s) and the idle RSS is read. RssAnon (heap, malloc) and RssFile (the
 * mapped Deno binary) are shown apart. BENCH_RSS_VARIANTS="name=run flags|NAME=v,NAME=v|entry;..."
 * compares other settings (run flags space-separated, entry main.ts unless given). Containers
 * carry a unique prefix and the test label and are removed at the end, on failure and on Ctrl-C.
 */
import { createContainer, removeContainer, startContainer } from "../lib/docker/containers.ts";
import { listContainers } from "../lib/docker/containers.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  dockerHost,
  ensureTestImage,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../tests/fixtures/engine.ts";
import { type PanelProcess, startPanel } from "../tests/fixtures/server.ts";
// The start task's run flags and allocator setting (tests/install_test.ts keeps them equal).
import { MALLOC_ENV, RUN_FLAGS } from "../lib/install.ts";
import { reportTarget } from "./report.ts";

const RUNNING = Number(Deno.env.get("BENCH_RUNNING") ?? 100);
const SMALL = Number(Deno.env.get("BENCH_CONTAINERS") ?? 200);
const STREAM_S = Number(Deno.env.get("BENCH_STREAM_S") ?? 30);
const IDLE_S = Number(Deno.env.get("BENCH_IDLE_S") ?? 15);
const VIEWERS = 5;
const BUNDLE = "dist/container-manager.js";
const settings = MALLOC_ENV.replaceAll(" ", ",");
const IDLE_TARGET = 80;
const STREAM_TARGET = 120;

async function buildBundle() {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "bundle"],
    cwd: new URL("../", import.meta.url),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno task bundle failed: ${new TextDecoder().decode(stderr)}`);
  // `deno task bundle` runs a new bundle once, so Deno has cached its analysis and the panel
  // started next does not keep that work (~35 MiB), as a service after its first start.
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function memory(pid: number): { rss: number; anon: number; file: number; fds: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))![1]);
  return {
    rss: kib("VmRSS") / 1024,
    anon: kib("RssAnon") / 1024,
    file: kib("RssFile") / 1024,
    // Open descriptors: upstream stats streams still held show here.
    fds: [...Deno.readDirSync(`/proc/${pid}/fd`)].length,
  };
}

async function drain(url: string, cookie: string, signal: AbortSignal) {
  try {
    const response = await fetch(url, { headers: { Cookie: cookie }, signal });
    const reader = response.body!.getReader();
    signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
    while (!(await reader.read()).done);
  } catch {
    // aborted
  }
}

interface Result {
  name: string;
  flags: string;
  /** Started and signed in, nothing else asked yet. */
  fresh: number;
  afterLists: number;
  peak: number;
  streaming: number;
  idle: ReturnType<typeof memory>;
}

async function measure(name: string, flags: string): Promise<Result> {
  // "run flags|NAME=value,NAME=value|entry": environment variables (allocator knobs) and
  // what to run, besides the `deno run` flags.
  const [runFlags, envText, entry] = flags.split("|");
  const env: Record<string, string> = Object.fromEntries(
    (envText ? envText.split(",") : []).map((pair) => pair.split("=") as [string, string]),
  );
  const panel = await startPanel({
    env,
    runFlags: runFlags ? runFlags.split(" ") : [],
    entry: entry || undefined,
  });
  active = panel;
  try {
    const cookie = await panel.login();
    await sleep(3_000); // the sign-in's password hashing (128 MiB) is given back
    const fresh = memory(panel.child.pid).rss;
    for (let i = 0; i < 20; i++) {
      await (await fetch(`${panel.url}/api/containers`, { headers: { Cookie: cookie } })).json();
    }
    const afterLists = memory(panel.child.pid).rss;
    const viewers = new AbortController();
    const streams = Array.from(
      { length: VIEWERS },
      () => drain(`${panel.url}/api/containers/stats/stream`, cookie, viewers.signal),
    );
    let peak = 0;
    let streaming = 0;
    for (let s = 0; s < STREAM_S; s++) {
      await sleep(1_000);
      streaming = memory(panel.child.pid).rss;
      peak = Math.max(peak, streaming);
    }
    viewers.abort();
    await Promise.all(streams);
    await sleep(IDLE_S * 1_000);
    return { name, flags, fresh, afterLists, peak, streaming, idle: memory(panel.child.pid) };
  } finally {
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true }).catch(() => {});
  }
}

if (dockerHost.kind !== "unix") throw new Error("The benchmark needs a unix DOCKER_HOST");
const docker = createDockerClient(dockerHost);
await ensureTestImage(docker);
const prefix = uniquePrefix("cmrss");
const ids: string[] = [];
let active: PanelProcess | undefined;

async function cleanup() {
  console.log(`\nRemoving the benchmark containers (prefix ${prefix}) ...`);
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
  Promise.resolve(active?.stop()).catch(() => {}).then(cleanup).finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onInterrupt);

try {
  console.log(`Creating ${SMALL} containers (${RUNNING} running) with prefix ${prefix} ...`);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < SMALL) {
      const index = next++;
      const { Id } = await createContainer(docker, {
        Image: TEST_IMAGE,
        Cmd: ["sleep", "36000"],
        Labels: { [TEST_LABEL]: prefix },
      }, `${prefix}${index}`);
      ids.push(Id);
      if (index < RUNNING) await startContainer(docker, Id);
    }
  }));
  const onNode = (await listContainers(docker, { all: true })).length;
  const running = (await listContainers(docker, { all: false })).length;
  const variants = Deno.env.get("BENCH_RSS_VARIANTS")?.split(";").map((pair) => {
    const [name, ...flags] = pair.split("=");
    return [name, flags.join("=")] as const;
  }) ?? [
    ["baseline: main.ts, no settings", ""],
    ["main.ts from source, as `deno task dev` runs it", `${RUN_FLAGS.join(" ")}|${settings}`],
    [
      "the bundle, as `deno task start` and the service unit run it",
      `${RUN_FLAGS.join(" ")}|${settings}|${BUNDLE}`,
    ],
  ];
  if (variants.some(([, flags]) => flags.split("|")[2] === BUNDLE)) await buildBundle();
  const results: Result[] = [];
  for (const [name, flags] of variants) {
    results.push(await measure(name, flags));
    console.log(JSON.stringify(results.at(-1)));
  }
  console.log(
    `\n## Panel RSS, ${onNode} containers on the node, ${running} running, ${VIEWERS} viewers ` +
      `for ${STREAM_S} s, idle read ${IDLE_S} s after they left\n`,
  );
  console.log(
    "| panel | fresh | after 20 lists | 5 viewers: peak | 5 viewers: last | idle | idle anon / file | idle fds |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(
      `| ${r.name}${r.flags ? ` (\`${r.flags}\`)` : ""} | ${r.fresh.toFixed(0)} | ${
        r.afterLists.toFixed(0)
      } | ${r.peak.toFixed(0)} | ${r.streaming.toFixed(0)} | ${r.idle.rss.toFixed(0)} | ${
        r.idle.anon.toFixed(0)
      } / ${r.idle.file.toFixed(0)} | ${r.idle.fds} |`,
    );
  }
  console.log(
    `\nMiB; targets: at most ${STREAM_TARGET} with 5 viewers, at most ${IDLE_TARGET} idle ` +
      "after the burst. Against the baseline (first row):",
  );
  const [baseline, ...measured] = results;
  for (const r of measured) {
    for (
      const [what, target, base, value] of [
        [`with ${VIEWERS} viewers (peak)`, STREAM_TARGET, baseline.peak, r.peak],
        ["idle after the burst", IDLE_TARGET, baseline.idle.rss, r.idle.rss],
      ] as const
    ) {
      const met = value <= target;
      console.log(
        `- ${r.name}, ${what}: ${value.toFixed(0)} MiB (target ${target}, baseline ${
          base.toFixed(0)
        }, ${(value / base).toFixed(2)}x): ${met ? "met" : "NOT met"}`,
      );
      reportTarget({
        measure: `Panel RSS ${what}, ${r.name}, ${onNode} containers`,
        target: `at most ${target} MiB`,
        baseline: `${base.toFixed(0)} MiB`,
        measured: `${value.toFixed(0)} MiB`,
        ratio: value / base,
        met,
      });
    }
  }
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
  await cleanup();
  docker.close();
}
