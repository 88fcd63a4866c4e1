// deno-lint-ignore-file no-explicit-any -- Engine inspect JSON is compared field by field, read loosely.
/**
 * The newer compose keys, deployed through the panel and by Debian's docker-compose (1.29)
 * for the same file: what each creates is compared field by field in the Engine's inspect.
 * (1.29 lacks include:, depends_on.required, pids limits and tmpfs mode: those are unit-tested.)
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { composeCli, inspectByService } from "../fixtures/compose_cli.ts";
import { cleanupComposeProject as cleanupProject, deployStack } from "../fixtures/compose.ts";
import { CREATED_BY_LABEL } from "../../lib/docker/views.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * Deploys `yaml(which)` through the panel and with the CLI (each under its own project,
 * with `files` beside it) and hands both projects' containers to `check`.
 */
async function bothWays(
  label: string,
  yaml: (which: "panel" | "cli") => string,
  options: { files?: Record<string, string>; profiles?: string[] },
  check: (
    panel: Map<string, Record<string, any>>,
    cli: Map<string, Record<string, any>>,
    names: { panel: string; cli: string },
    t: TestApp,
  ) => Promise<void> | void,
) {
  const t = await createTestApp();
  const id = crypto.randomUUID().slice(0, 8);
  const names = { panel: `cmsp${label}${id}`, cli: `cmsc${label}${id}` };
  const dir = await Deno.makeTempDir({ prefix: "cm-compose-spec-" });
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser(`spec-${label}`, "admin"));
    const result = await deployStack(t, admin, {
      yaml: yaml("panel"),
      project: names.panel,
      ...(options.files ? { files: options.files } : {}),
      ...(options.profiles ? { profiles: options.profiles } : {}),
    });
    assert.equal(result.status, 200, JSON.stringify(result.error));
    assert.equal(result.last?.done, true, JSON.stringify(result.last));
    assert.equal(result.last?.error, undefined, JSON.stringify(result.last));

    for (const [path, text] of Object.entries(options.files ?? {})) {
      await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${path}`, text);
    }
    await Deno.writeTextFile(`${dir}/docker-compose.yml`, yaml("cli"));
    const up = await composeCli([
      "-f",
      `${dir}/docker-compose.yml`,
      "-p",
      names.cli,
      ...(options.profiles ?? []).flatMap((p) => ["--profile", p]),
      "up",
      "-d",
    ]);
    assert.equal(up.code, 0, up.stderr);
    await check(
      await inspectByService(t.deps.docker, names.panel),
      await inspectByService(t.deps.docker, names.cli),
      names,
      t,
    );
  } finally {
    await composeCli(["-f", `${dir}/docker-compose.yml`, "-p", names.cli, "down", "-v"]);
    await cleanupProject(t.deps.docker, names.cli);
    await cleanupProject(t.deps.docker, names.panel);
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function userLabels(container: Record<string, any>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(container.Config.Labels as Record<string, string>).filter(([key]) =>
      !key.startsWith("com.docker.compose.") && key !== CREATED_BY_LABEL
    ),
  );
}

Deno.test("profiles and extends: the panel creates the services and settings the CLI creates", async () => {
  const yaml = () => `
services:
  base:
    image: ${TEST_IMAGE}
    command: sleep 3600
    environment: [A=1, B=2]
    labels: {tier: base}
  web:
    extends: base
    environment: {B: "3"}
  worker:
    extends: {file: ./common/base.yml, service: job}
    labels: {role: worker}
  debug:
    image: ${TEST_IMAGE}
    command: sleep 3600
    profiles: [debug]
  tools:
    image: ${TEST_IMAGE}
    command: sleep 3600
    profiles: [tools]
`;
  const files = {
    "common/base.yml": `services:\n  job:\n    image: ${TEST_IMAGE}\n` +
      `    command: sleep 3601\n    environment: {JOB: "yes"}\n`,
  };
  await bothWays("pe", yaml, { files, profiles: ["debug"] }, (panel, cli) => {
    assert.deepEqual([...panel.keys()].sort(), ["base", "debug", "web", "worker"]);
    assert.deepEqual([...panel.keys()].sort(), [...cli.keys()].sort());
    for (const service of panel.keys()) {
      const ours = panel.get(service)!;
      const theirs = cli.get(service)!;
      assert.deepEqual(ours.Config.Cmd, theirs.Config.Cmd, service);
      assert.equal(ours.Config.Image, theirs.Config.Image, service);
      const env = (c: Record<string, any>) =>
        (c.Config.Env as string[]).filter((e) => /^(A|B|JOB)=/.test(e)).sort();
      assert.deepEqual(env(ours), env(theirs), service);
      assert.deepEqual(userLabels(ours), userLabels(theirs), service);
    }
    assert.deepEqual(panel.get("worker")!.Config.Cmd, ["sleep", "3601"]);
    assert.ok((panel.get("web")!.Config.Env as string[]).includes("B=3"));
  });
});

Deno.test("ipam, ipv4_address and network priority: the same subnets, addresses and primary network as the CLI", async () => {
  const octet = 10 + Math.floor(Math.random() * 200);
  const yaml = (which: "panel" | "cli") => {
    const net = which === "panel" ? 251 : 252;
    return `
services:
  web:
    image: ${TEST_IMAGE}
    command: sleep 3600
    networks:
      front: {ipv4_address: 10.${net}.${octet}.10, priority: 1}
      back: {priority: 5}
  plain:
    image: ${TEST_IMAGE}
    command: sleep 3600
    networks: [front, back]
networks:
  front:
    ipam:
      driver: default
      config:
        - subnet: 10.${net}.${octet}.0/24
          ip_range: 10.${net}.${octet}.128/25
          gateway: 10.${net}.${octet}.254
  back: {}
`;
  };
  await bothWays("ip", yaml, {}, async (panel, cli, names, t) => {
    const swap = (text: string) => text.replaceAll(".251.", ".252.");
    for (const service of ["web", "plain"]) {
      const ours = panel.get(service)!;
      const theirs = cli.get(service)!;
      // The primary network: the highest priority, then by name (back before front).
      assert.equal(
        ours.HostConfig.NetworkMode.replace(names.panel, "P"),
        theirs.HostConfig.NetworkMode.replace(names.cli, "P"),
        service,
      );
    }
    assert.equal(panel.get("web")!.HostConfig.NetworkMode, `${names.panel}_back`);
    const address = (c: Record<string, any>, project: string) =>
      c.NetworkSettings.Networks[`${project}_front`];
    const ours = address(panel.get("web")!, names.panel);
    const theirs = address(cli.get("web")!, names.cli);
    assert.equal(swap(ours.IPAMConfig.IPv4Address), theirs.IPAMConfig.IPv4Address);
    assert.equal(swap(ours.IPAddress), theirs.IPAddress);
    const ipam = async (name: string) =>
      (await t.deps.docker.json<Record<string, any>>("GET", `/networks/${name}`)).IPAM;
    const ourIpam = await ipam(`${names.panel}_front`);
    const theirIpam = await ipam(`${names.cli}_front`);
    assert.equal(ourIpam.Driver, theirIpam.Driver);
    assert.deepEqual(JSON.parse(swap(JSON.stringify(ourIpam.Config))), theirIpam.Config);
  });
});

Deno.test("deploy.resources and tmpfs size: the same limits and mounts as the CLI", async () => {
  const yaml = () => `
services:
  web:
    image: ${TEST_IMAGE}
    command: sleep 3600
    deploy:
      resources:
        limits: {memory: 64M, cpus: "0.5"}
        reservations: {memory: 32M}
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1000000}
      - {type: tmpfs, target: /plain}
    tmpfs:
      - /run/app:size=2000,mode=1770
`;
  await bothWays("rt", yaml, {}, (panel, cli) => {
    const ours = panel.get("web")!.HostConfig;
    const theirs = cli.get("web")!.HostConfig;
    assert.equal(ours.Memory, 64 * 1024 * 1024, "the memory limit is visible in inspect");
    for (const key of ["Memory", "MemoryReservation", "NanoCpus", "Tmpfs"]) {
      assert.deepEqual(ours[key], theirs[key], key);
    }
    const tmpfsMounts = (h: Record<string, any>) =>
      (h.Mounts ?? []).filter((m: { Type: string }) => m.Type === "tmpfs")
        // The CLI's order of Mounts varies from run to run.
        .sort((a: { Target: string }, b: { Target: string }) => a.Target < b.Target ? -1 : 1);
    assert.deepEqual(tmpfsMounts(ours), tmpfsMounts(theirs));
    const mounted = (c: Record<string, any>) =>
      (c.Mounts as { Type: string; Destination: string }[]).filter((m) => m.Type === "tmpfs")
        .map((m) => m.Destination).sort();
    assert.deepEqual(mounted(panel.get("web")!), mounted(cli.get("web")!));
  });
});
