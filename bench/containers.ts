/**
 * Containers benchmarks (issue: containers table), each against its baseline in one run:
 *
 * 1. With 200 containers (50 running): the median latency of the panel's
 *    `GET /api/containers` over HTTP against a raw `GET /containers/json?all=1` on the
 *    socket, measured alternately.
 * 2. With those 50 running and 5 table clients on `/api/containers/stats/stream`: how many
 *    upstream Engine stats streams are open (must be 50, not 250), and the panel's and
 *    dockerd's CPU over 30 s, against 5 naive clients each opening one Engine stats
 *    stream per running container (250 streams) over the same 30 s.
 * 3. Panel RSS at idle and with the 5 clients streaming.
 */
import {
  createContainer,
  listContainers,
  removeContainer,
  startContainer,
} from "../lib/docker/containers.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  dockerHost,
  ensureTestImage,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../tests/fixtures/engine.ts";
import { createTestApp } from "../tests/fixtures/app.ts";
import { startPanel } from "../tests/fixtures/server.ts";

const TOTAL = Number(Deno.env.get("BENCH_CONTAINERS") ?? 200);
const RUNNING = Number(Deno.env.get("BENCH_RUNNING") ?? 50);
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 200);
const WINDOW_MS = Number(Deno.env.get("BENCH_WINDOW_MS") ?? 30_000);
const CLIENTS = 5;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

function dockerdPid(): number {
  const out = new Deno.Command("pidof", { args: ["dockerd"], stdout: "piped" }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim().split(" ")[0]);
}

async function measureCpu(pids: number[], windowMs: number) {
  const before = pids.map(cpuTicks);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return pids.map((pid, i) => ((cpuTicks(pid) - before[i]) / 100) / (windowMs / 1000) * 100);
}

/** Reads an SSE or chunked body until aborted, counting bytes. */
function drain(response: Response, signal: AbortSignal) {
  const reader = response.body!.getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
  return (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // cancelled
    }
  })();
}

const docker = createDockerClient(dockerHost);
await ensureTestImage(docker);
const prefix = uniquePrefix("cmbench");
console.log(`Creating ${TOTAL} containers (${RUNNING} running) with prefix ${prefix} ...`);
const ids: string[] = [];
for (let i = 0; i < TOTAL; i++) {
  const { Id } = await createContainer(docker, {
    Image: TEST_IMAGE,
    Cmd: ["sleep", "3600"],
    Labels: { [TEST_LABEL]: prefix },
  }, `${prefix}${i}`);
  ids.push(Id);
  if (i < RUNNING) await startContainer(docker, Id);
}

try {
  // 1. List latency through the real panel process over HTTP.
  const panel = await startPanel();
  const cookie = await panel.login();
  const raw = Deno.createHttpClient({
    proxy: { transport: "unix", path: dockerHost.kind === "unix" ? dockerHost.path : "" },
  });
  const version = await docker.apiVersion();
  const rawList = async () => {
    const response = await fetch(
      `http://docker/v${version}/containers/json?all=1`,
      { client: raw } as RequestInit,
    );
    return await response.json();
  };
  const panelList = async () => {
    const response = await fetch(`${panel.url}/api/containers`, { headers: { Cookie: cookie } });
    return await response.json();
  };
  for (let i = 0; i < 10; i++) {
    await rawList();
    await panelList();
  }
  const rawTimes: number[] = [];
  const panelTimes: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let start = performance.now();
    await rawList();
    rawTimes.push(performance.now() - start);
    start = performance.now();
    await panelList();
    panelTimes.push(performance.now() - start);
  }
  const listed = (await panelList()).containers.length;
  console.log(
    `\n## GET /api/containers with ${listed} containers (${RUNNING} running), ${ROUNDS} alternating rounds\n`,
  );
  console.log("| path | median ms | p95 ms |\n| --- | --- | --- |");
  console.log(
    `| raw GET /containers/json?all=1 on the socket | ${median(rawTimes).toFixed(2)} | ${
      p95(rawTimes).toFixed(2)
    } |`,
  );
  console.log(
    `| panel GET /api/containers over HTTP | ${median(panelTimes).toFixed(2)} | ${
      p95(panelTimes).toFixed(2)
    } |`,
  );
  console.log(
    `\nratio of medians: ${
      (median(panelTimes) / median(rawTimes)).toFixed(2)
    }x (target at most 1.3x)`,
  );

  // 3a. Idle RSS of the panel process.
  const panelPid = panel.child.pid;
  const idleRss = rssMiB(panelPid);

  // 2. Five table clients on the multiplexed stats stream of the panel process.
  const dockerd = dockerdPid();
  const clients = new AbortController();
  const streams = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        fetch(`${panel.url}/api/containers/stats/stream`, {
          headers: { Cookie: cookie },
          signal: clients.signal,
        }),
    ),
  );
  const drains = streams.map((response) => drain(response, clients.signal));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const [panelCpu, dockerdCpuPanel] = await measureCpu([panelPid, dockerd], WINDOW_MS);
  const streamingRss = rssMiB(panelPid);
  clients.abort();
  await Promise.all(drains);

  // The upstream count is read in-process: an app with the same hub, 5 subscribers.
  const t = await createTestApp();
  const cookieIn = t.cookieFor(await t.addUser("bench", "admin"));
  const inProcess = new AbortController();
  const inStreams = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () => t.request("GET", "/api/containers/stats/stream", { cookie: cookieIn }),
    ),
  );
  const inDrains = inStreams.map((response) => drain(response, inProcess.signal));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const upstreams = t.deps.stats.upstreams();
  inProcess.abort();
  await Promise.all(inDrains);
  await t.close();

  await panel.stop();
  await Deno.remove(panel.dataDir, { recursive: true });

  // Baseline: 5 naive clients, each with one raw Engine stats stream per running container.
  const running = await listContainers(docker, {
    all: false,
    filters: { label: [`${TEST_LABEL}=${prefix}`] },
  });
  const naive = new AbortController();
  const naiveClient = Deno.createHttpClient({
    proxy: { transport: "unix", path: dockerHost.kind === "unix" ? dockerHost.path : "" },
  });
  const naiveStreams = await Promise.all(
    Array.from({ length: CLIENTS }).flatMap(() =>
      running.map((c) =>
        fetch(`http://docker/v${version}/containers/${c.Id}/stats?stream=1`, {
          client: naiveClient,
          signal: naive.signal,
        } as RequestInit)
      )
    ),
  );
  const naiveDrains = naiveStreams.map((response) => drain(response, naive.signal));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const [selfCpu, dockerdCpuNaive] = await measureCpu([Deno.pid, dockerd], WINDOW_MS);
  naive.abort();
  await Promise.all(naiveDrains);
  naiveClient.close();
  raw.close();

  console.log(
    `\n## Stats with ${running.length} running containers and ${CLIENTS} clients, ${
      WINDOW_MS / 1000
    } s each\n`,
  );
  console.log(
    `upstream Engine stats streams held by the panel's hub: ${upstreams} (naive: ${naiveStreams.length})\n`,
  );
  console.log("| setup | client-side CPU % | dockerd CPU % |\n| --- | --- | --- |");
  console.log(
    `| panel, 5 clients on /api/containers/stats/stream | ${panelCpu.toFixed(1)} (panel) | ${
      dockerdCpuPanel.toFixed(1)
    } |`,
  );
  console.log(
    `| 5 naive clients, one Engine stream per container | ${selfCpu.toFixed(1)} (bench process) | ${
      dockerdCpuNaive.toFixed(1)
    } |`,
  );
  console.log(
    `\npanel RSS: ${idleRss.toFixed(0)} MiB idle, ${
      streamingRss.toFixed(0)
    } MiB with ${CLIENTS} clients streaming`,
  );
} finally {
  console.log(`\nRemoving the ${TOTAL} benchmark containers ...`);
  for (const id of ids) await removeContainer(docker, id, { force: true }).catch(() => {});
  docker.close();
}
