/**
 * Engine client benchmark: lib/docker against the bare socket, side by side with its
 * baseline in the same run, alternating so drift hits both equally.
 *
 * Today: the overhead of lib/docker's client (validation, version negotiation, error
 * mapping) over a bare fetch on the socket, for `GET /containers/json?all=1`.
 */
import { createDockerClient } from "../lib/docker/client.ts";
import { listContainers } from "../lib/docker/containers.ts";
import { dockerHost } from "../tests/fixtures/engine.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 300);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

if (dockerHost.kind !== "unix") throw new Error("The benchmark needs a unix DOCKER_HOST");
const docker = createDockerClient(dockerHost);
const raw = Deno.createHttpClient({ proxy: { transport: "unix", path: dockerHost.path } });
const version = await docker.apiVersion();
const rawList = async () => {
  const response = await fetch(
    `http://127.0.0.1/v${version}/containers/json?all=1`,
    { client: raw } as RequestInit,
  );
  return await response.json();
};
const clientList = () => listContainers(docker, { all: true });

// Warm both paths (connection pools, JIT).
for (let i = 0; i < 20; i++) {
  await rawList();
  await clientList();
}
const rawTimes: number[] = [];
const clientTimes: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  rawTimes.push(await timed(rawList));
  clientTimes.push(await timed(clientList));
}
const containers = (await clientList()).length;
const row = (name: string, times: number[]) =>
  `| ${name} | ${median(times).toFixed(3)} | ${percentile(times, 0.95).toFixed(3)} |`;
console.log(
  `GET /containers/json?all=1, ${containers} containers, ${ROUNDS} alternating rounds, API ${version}\n`,
);
console.log("| path | median ms | p95 ms |\n| --- | --- | --- |");
console.log(row("raw fetch on the socket (baseline)", rawTimes));
console.log(row("lib/docker listContainers", clientTimes));
console.log(`\nratio of medians: ${(median(clientTimes) / median(rawTimes)).toFixed(2)}x`);
docker.close();
raw.close();
