/**
 * Exec benchmark, each side by side with its baseline in one run:
 *
 * 1. Throughput: `head -c 50000000 /dev/zero` in a TTY exec, read through the panel's
 *    WebSocket, against `docker exec` run directly on the host (the docker CLI).
 * 2. Keystroke round trip: the median time from sending one byte to receiving its echo,
 *    through the panel's WebSocket against a direct hijacked exec on the socket.
 * Also the panel's peak RSS while the fast producer runs (backpressure keeps it bounded).
 */
import { createContainer, removeContainer, startContainer } from "../lib/docker/containers.ts";
import { createExec, startExec } from "../lib/docker/exec.ts";
import {
  engineClient,
  ensureTestImage,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../tests/fixtures/engine.ts";
import { startPanel } from "../tests/fixtures/server.ts";

const BYTES = 50_000_000;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const KEYSTROKES = 300;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rssMiB = (pid: number) =>
  Number(Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+)/)![1]) / 1024;

const docker = await engineClient();
await ensureTestImage(docker);
const prefix = uniquePrefix("cmbench");
const { Id } = await createContainer(docker, {
  Image: TEST_IMAGE,
  Cmd: ["sleep", "3600"],
  Labels: { [TEST_LABEL]: prefix },
});
await startContainer(docker, Id);
const panel = await startPanel();
const cookie = await panel.login();

function openTerminal(): Promise<WebSocket> {
  // Deno's WebSocket takes headers as an option; the DOM typings don't know it.
  const options = { headers: { Cookie: cookie, Origin: panel.url } } as unknown as string[];
  const socket = new WebSocket(
    `${panel.url.replace("http", "ws")}/ws/containers/${Id}/exec`,
    options,
  );
  socket.binaryType = "arraybuffer";
  return new Promise((resolve) => {
    let seen = "";
    socket.onmessage = (event) => {
      seen += new TextDecoder().decode(event.data);
      if (seen.includes("/ # ")) resolve(socket);
    };
  });
}

async function panelThroughput(): Promise<number> {
  const socket = await openTerminal();
  socket.send(new TextEncoder().encode("stty raw -echo; head -c 50000000 /dev/zero; exit\n"));
  let bytes = 0;
  let peakRss = 0;
  // Both paths are timed from their first byte to their last: what is compared is the
  // stream, not the CLI's start-up or the exec's creation.
  let started = 0;
  await new Promise<void>((resolve) => {
    socket.onmessage = (event) => {
      started ||= performance.now();
      bytes += (event.data as ArrayBuffer).byteLength;
      if (bytes % (5 * 1024 * 1024) < 65536) peakRss = Math.max(peakRss, rssMiB(panel.child.pid));
    };
    socket.onclose = () => resolve();
  });
  const seconds = (performance.now() - started) / 1000;
  if (bytes < BYTES) throw new Error(`Only ${bytes} bytes arrived through the panel`);
  panelPeakRss = Math.max(panelPeakRss, peakRss);
  return bytes / seconds;
}
let panelPeakRss = 0;

async function directThroughput(): Promise<number> {
  const child = new Deno.Command("docker", {
    args: ["exec", "-t", Id, "sh", "-c", "stty raw -echo; head -c 50000000 /dev/zero"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let bytes = 0;
  let started = 0;
  for await (const chunk of child.stdout) {
    started ||= performance.now();
    bytes += chunk.length;
  }
  await child.status;
  return bytes / ((performance.now() - started) / 1000);
}

async function panelRoundTrips(): Promise<number[]> {
  const socket = await openTerminal();
  socket.send(new TextEncoder().encode("stty raw -echo; cat\n"));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const times: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      socket.onmessage = (event) => {
        if (new Uint8Array(event.data)[0] === 120) resolve();
      };
      socket.send(new Uint8Array([120])); // "x"
    });
    times.push(performance.now() - started);
  }
  socket.close();
  return times;
}

async function directRoundTrips(): Promise<number[]> {
  const exec = await createExec(docker, Id, ["sh", "-c", "stty raw -echo; cat"]);
  const stream = await startExec(docker, exec);
  const reader = stream.readable.getReader();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const times: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const started = performance.now();
    await stream.write(new Uint8Array([120]));
    while (true) {
      const { value } = await reader.read();
      if (value?.includes(120)) break;
    }
    times.push(performance.now() - started);
  }
  stream.close();
  return times;
}

try {
  const panelRates: number[] = [];
  const directRates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    directRates.push(await directThroughput());
    panelRates.push(await panelThroughput());
  }
  const mb = (rate: number) => (rate / 1e6).toFixed(0);
  console.log(
    `## Exec throughput: ${BYTES / 1e6} MB from /dev/zero in a TTY, ${ROUNDS} alternating rounds\n`,
  );
  console.log("| path | median MB/s |\n| --- | --- |");
  console.log(`| docker exec on the host (baseline) | ${mb(median(directRates))} |`);
  console.log(`| panel WebSocket | ${mb(median(panelRates))} |`);
  console.log(
    `\npanel / direct: ${
      (median(panelRates) / median(directRates) * 100).toFixed(0)
    }% (aim: at least 50%)`,
  );
  console.log(`panel peak RSS while streaming: ${panelPeakRss.toFixed(0)} MiB`);

  const direct = await directRoundTrips();
  const viaPanel = await panelRoundTrips();
  console.log(`\n## Keystroke round trip, ${KEYSTROKES} single bytes echoed by cat\n`);
  console.log("| path | median ms | p95 ms |\n| --- | --- | --- |");
  const p95 = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
  console.log(
    `| direct hijacked exec (baseline) | ${median(direct).toFixed(3)} | ${
      p95(direct).toFixed(3)
    } |`,
  );
  console.log(`| panel WebSocket | ${median(viaPanel).toFixed(3)} | ${p95(viaPanel).toFixed(3)} |`);
  console.log(
    `\nadded by the panel: ${(median(viaPanel) - median(direct)).toFixed(3)} ms (aim: under 2 ms)`,
  );
} finally {
  await panel.stop();
  await Deno.remove(panel.dataDir, { recursive: true });
  await removeContainer(docker, Id, { force: true });
  docker.close();
}
