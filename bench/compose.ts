/**
 * Compose benchmark, side by side in one run:
 * 1. Preview of a generated 300-service file through the panel's API (parse, interpolate,
 *    normalise, order, compare with the Engine): warm parse worker against a cold one
 *    (a new worker, which every preview started before the worker was kept warm).
 * 2. Deploy time of a 10-service stack from local images: the panel's
 *    `POST /api/containers/compose/deploy` against Debian's `docker-compose up -d` on the
 *    same file, alternating, each followed by a full teardown.
 */
import { listContainers, removeContainer } from "../lib/docker/containers.ts";
import { engineClient, ensureTestImage, TEST_IMAGE } from "../tests/fixtures/engine.ts";
import { startPanel } from "../tests/fixtures/server.ts";
import { reportTarget } from "./report.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function generated(services: number): string {
  const lines = ["services:"];
  for (let i = 0; i < services; i++) {
    lines.push(
      `  svc${i}:`,
      `    image: ${TEST_IMAGE}`,
      `    command: sleep 3600`,
      `    environment:`,
      `      INDEX: "${i}"`,
      `    labels:`,
      `      bench: "yes"`,
      ...(i > 0 ? [`    depends_on: [svc${i - 1}]`] : []),
    );
  }
  return lines.join("\n") + "\n";
}

const docker = await engineClient();
await ensureTestImage(docker);
const panel = await startPanel();
const cookie = await panel.login();
const headers = { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" };

async function teardown(project: string) {
  const filters = { label: [`com.docker.compose.project=${project}`] };
  for (const c of await listContainers(docker, { all: true, filters })) {
    await removeContainer(docker, c.Id, { force: true }).catch(() => {});
  }
  const query = { filters: JSON.stringify(filters) };
  for (const n of await docker.json<{ Id: string }[]>("GET", "/networks", { query })) {
    await docker.json("DELETE", `/networks/${n.Id}`).catch(() => {});
  }
}

try {
  const big = generated(300);
  const preview = async () => {
    const started = performance.now();
    const response = await fetch(`${panel.url}/api/containers/compose/preview`, {
      method: "POST",
      headers,
      body: JSON.stringify({ yaml: big, project: "cmbenchpreview" }),
    });
    const plan = await response.json();
    if (plan.services?.length !== 300) {
      throw new Error(`Preview failed: ${JSON.stringify(plan).slice(0, 300)}`);
    }
    return performance.now() - started;
  };
  // Cold: a new parse worker (what every preview paid when the worker ended after each);
  // warm: the previews that follow within the worker's idle period.
  const coldTimes: number[] = [];
  const warmTimes: number[] = [];
  for (let round = 0; round < 3; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 16_000)); // worker ends
    coldTimes.push(await preview());
    for (let i = 0; i < 5; i++) warmTimes.push(await preview());
  }
  console.log(
    `## Compose preview of a generated 300-service file (${(big.length / 1024).toFixed(0)} KiB)\n`,
  );
  console.log("| preview | runs | median ms | min ms |\n| --- | --- | --- | --- |");
  console.log(
    `| cold: new parse worker (before: every preview) | ${coldTimes.length} | ${
      median(coldTimes).toFixed(0)
    } | ${Math.min(...coldTimes).toFixed(0)} |`,
  );
  console.log(
    `| warm worker (a preview within 15 s of the last) | ${warmTimes.length} | ${
      median(warmTimes).toFixed(0)
    } | ${Math.min(...warmTimes).toFixed(0)} |`,
  );
  reportTarget({
    measure: "Compose preview of a 300-service file (warm parse worker)",
    target: "under 100 ms",
    baseline: `${median(coldTimes).toFixed(0)} ms cold`,
    measured: `${median(warmTimes).toFixed(0)} ms`,
    ratio: median(warmTimes) / median(coldTimes),
    met: median(warmTimes) < 100,
  });
  console.log(
    `\nratio warm/cold ${
      (median(warmTimes) / median(coldTimes)).toFixed(2)
    }x; target under 100 ms: ${median(warmTimes) < 100 ? "**met**" : "**not met**"}`,
  );

  const small = generated(10);
  const dir = await Deno.makeTempDir({ prefix: "cm-bench-compose-" });
  await Deno.writeTextFile(`${dir}/docker-compose.yml`, small);
  const panelTimes: number[] = [];
  const cliTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const cliProject = `cmbenchcli${round}`;
    let started = performance.now();
    const cli = await new Deno.Command("docker-compose", {
      args: ["-f", `${dir}/docker-compose.yml`, "-p", cliProject, "up", "-d"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!cli.success) throw new Error(new TextDecoder().decode(cli.stderr));
    cliTimes.push(performance.now() - started);
    await teardown(cliProject);

    const panelProject = `cmbenchpanel${round}`;
    started = performance.now();
    const response = await fetch(`${panel.url}/api/containers/compose/deploy`, {
      method: "POST",
      headers,
      body: JSON.stringify({ yaml: small, project: panelProject }),
    });
    const last = JSON.parse((await response.text()).trim().split("\n").at(-1)!);
    if (!last.done) throw new Error(`Deploy failed: ${last.error}`);
    panelTimes.push(performance.now() - started);
    await teardown(panelProject);
  }
  console.log(
    `\n## Deploy of a 10-service stack from local images, ${ROUNDS} alternating rounds\n`,
  );
  console.log("| path | median s |\n| --- | --- |");
  console.log(
    `| docker-compose up -d (Debian's 1.29, baseline) | ${(median(cliTimes) / 1000).toFixed(2)} |`,
  );
  console.log(
    `| panel POST /api/containers/compose/deploy | ${(median(panelTimes) / 1000).toFixed(2)} |`,
  );
  await Deno.remove(dir, { recursive: true });
} finally {
  await panel.stop();
  await Deno.remove(panel.dataDir, { recursive: true });
  docker.close();
}
