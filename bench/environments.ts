/**
 * Environments (issue 12): the local environment's API and pages with a remote environment
 * up, and with that environment's daemon killed, side by side in one run, on the real panel
 * process. The remote Engine is a dockerd with --tlsverify in its own network namespace
 * (tests/fixtures/netns_engines.ts). Measured, alternating, ROUNDS times each:
 * `GET /api/containers`, the Containers page, and `GET /api/environments` (what the header
 * switcher polls): with the environment up, down, and down while a second client keeps asking
 * its routes (a browser tab left open on it).
 */
import { startNetnsEngines } from "../tests/fixtures/netns_engines.ts";
import { startPanel } from "../tests/fixtures/server.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 40);

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
const p95 = (values: number[]) =>
  sorted(values)[Math.min(values.length - 1, Math.floor(values.length * 0.95))];
const ms = (value: number) => value.toFixed(1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await using engines = await startNetnsEngines("benchenv", { count: 1, tls: true });
await using panel = await startPanel();
const cookie = await panel.login();
const call = (method: string, path: string, json?: unknown) =>
  fetch(`${panel.url}${path}`, {
    method,
    headers: {
      Cookie: cookie,
      Origin: panel.url,
      ...(json === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });

const certs = engines.certs!;
const added = await call("POST", "/api/environments", {
  name: "bench remote",
  url: engines.manager.tcpUrl,
  tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
});
if (added.status !== 201) throw new Error(`Adding the environment failed: ${await added.text()}`);
const { id } = await added.json();

async function envStatus(): Promise<string> {
  const { environments } = await (await call("GET", "/api/environments")).json();
  return environments.find((env: { id: string }) => env.id === id)?.state.status ?? "missing";
}
async function waitFor(status: string) {
  const deadline = Date.now() + 90_000;
  while ((await envStatus()) !== status) {
    if (Date.now() > deadline) throw new Error(`The environment never became ${status}`);
    await sleep(250);
  }
}

const PATHS = ["/api/containers", "/containers", "/api/environments"] as const;

async function measure(): Promise<Record<(typeof PATHS)[number], number[]>> {
  const times = Object.fromEntries(PATHS.map((path) => [path, [] as number[]])) as Record<
    (typeof PATHS)[number],
    number[]
  >;
  // Warm-up.
  for (const path of PATHS) await (await call("GET", path)).arrayBuffer();
  for (let round = 0; round < ROUNDS; round++) {
    for (const path of PATHS) {
      const started = performance.now();
      const response = await call("GET", path);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      times[path].push(performance.now() - started);
    }
  }
  return times;
}

await waitFor("up");
const up = await measure();

await engines.manager.kill();
await waitFor("down");
// The killed daemon's containerd and shims tidy up for a moment; that is not the panel.
await sleep(5_000);
const down = await measure();
// A tab left open on the dead environment keeps asking for it meanwhile.
let pestering = true;
let pestered = 0;
const pester = (async () => {
  while (pestering) {
    const response = await call("GET", `/api/environments/${id}/containers`);
    await response.arrayBuffer();
    pestered++;
    await sleep(200);
  }
})();
const pestered_ = await measure();
pestering = false;
await pester;

const restarted = performance.now();
await engines.manager.start();
await waitFor("up");
const recoveredAfter = performance.now() - restarted;
// Up again, so drift in the machine's load shows as a difference between the two up columns.
const upAgain = await measure();

console.log(`${ROUNDS} rounds each, alternating; the remote environment over mutual TLS.\n`);
console.log(
  "| Local request, median / p95 (ms) | env up | env down | env down, a tab asking it " +
    "| env up again |",
);
console.log("|---|---|---|---|---|");
const cell = (values: number[]) => `${ms(median(values))} / ${ms(p95(values))}`;
for (const path of PATHS) {
  console.log(
    `| \`GET ${path}\` | ${cell(up[path])} | ${cell(down[path])} | ${cell(pestered_[path])} | ` +
      `${cell(upAgain[path])} |`,
  );
}
console.log(
  `\nIn the "tab asking it" column a second client asked the dead environment's containers ` +
    `${pestered} times (every 200 ms). After the daemon restarted, the environment showed up ` +
    `again ${ms(recoveredAfter / 1000)} s later (a down Engine is checked every 3 s).`,
);
await (await call("DELETE", `/api/environments/${id}`)).arrayBuffer();
