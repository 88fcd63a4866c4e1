/** The planner: create bodies and labels as the Engine and the compose CLI expect them. */
import assert from "node:assert/strict";
import { findWarning, parse, rejects, web } from "./helpers.ts";
import {
  configHash,
  containerLabels,
  createBody,
  engineWarnings,
  LABEL,
  networkAttachments,
  type PlanContainer,
  planProject,
  previewProject,
  supportsStartInterval,
} from "../../../lib/compose/plan.ts";
import { deployOrder } from "../../../lib/compose/order.ts";
import { createProjectLocks } from "../../../lib/compose/lock.ts";
import { parseDevice } from "../../../lib/compose/normalise.ts";
import type { ComposeProject } from "../../../lib/compose/types.ts";

const STACK_DIR = "/data/stacks/demo";

function bodyOf(project: ComposeProject, name = "web", apiVersion?: string) {
  const found = project.services.find((s) => s.name === name);
  assert.ok(found, `service ${name} not found`);
  return createBody(project, found, STACK_DIR, { apiVersion });
}

Deno.test("network_mode: service:x becomes container:<x's container name>", () => {
  const project = parse([
    "services:",
    "  web:",
    "    image: nginx",
    "  sidecar:",
    "    image: busybox",
    "    network_mode: service:web",
    "  named:",
    "    image: busybox",
    "    container_name: the-vpn",
    "  client:",
    "    image: busybox",
    "    network_mode: service:named",
    "  plain:",
    "    image: busybox",
    "    network_mode: none",
  ].join("\n"));
  const sidecar = bodyOf(project, "sidecar");
  assert.equal(sidecar.HostConfig.NetworkMode, "container:demo-web-1");
  assert.equal(sidecar.NetworkingConfig, undefined, "no endpoint config with a shared stack");
  assert.equal(bodyOf(project, "client").HostConfig.NetworkMode, "container:the-vpn");
  assert.equal(bodyOf(project, "plain").HostConfig.NetworkMode, "none");
  assert.equal(bodyOf(project, "web").HostConfig.NetworkMode, "demo_default");
  // The implied dependency restarts the sidecar with its target, as compose-go writes it.
  assert.equal(
    bodyOf(project, "sidecar").Labels[LABEL.dependsOn],
    "web:service_started:true",
  );
});

Deno.test("depends_on label: service:condition:restart, restart defaulting to false", () => {
  const project = parse([
    "services:",
    "  db:",
    "    image: postgres",
    "  cache:",
    "    image: redis",
    "  queue:",
    "    image: rabbitmq",
    "  list:",
    "    image: busybox",
    "    depends_on: [db, cache]",
    "  long:",
    "    image: busybox",
    "    depends_on:",
    "      db: {condition: service_healthy, restart: true}",
    "      cache: {condition: service_started, required: false}",
    "      queue:",
    "        condition: service_completed_successfully",
    "        restart: false",
  ].join("\n"));
  const label = (name: string) =>
    containerLabels(project, project.services.find((s) => s.name === name)!, STACK_DIR)[
      LABEL.dependsOn
    ];
  assert.equal(label("list"), "db:service_started:false,cache:service_started:false");
  assert.equal(
    label("long"),
    "db:service_healthy:true,cache:service_started:false,queue:service_completed_successfully:false",
  );
  assert.equal(label("db"), "");
  const long = project.services.find((s) => s.name === "long")!;
  assert.deepEqual(long.depends_on, {
    db: { condition: "service_healthy", required: true, restart: true },
    cache: { condition: "service_started", required: false },
    queue: { condition: "service_completed_successfully", required: true },
  });
  assert.ok(
    !project.warnings.some((w) => /restart/.test(w.message)),
    `restart: is supported now: ${JSON.stringify(project.warnings)}`,
  );
  rejects(
    () => parse(web("depends_on:\n  db: {restart: sometimes}", "  db:\n    image: x\n")),
    /depends_on\.db\.restart/,
  );
});

Deno.test("depends_on restart: false keeps the config hash of a service without it", () => {
  const plain = parse(
    web("depends_on: {db: {condition: service_started}}", "  db:\n    image: x\n"),
  );
  const explicit = parse(
    web("depends_on: {db: {condition: service_started, restart: false}}", "  db:\n    image: x\n"),
  );
  const hash = (p: ComposeProject) => configHash(p.services.find((s) => s.name === "web")!);
  assert.equal(hash(plain), hash(explicit));
});

Deno.test("pid: host is sent as PidMode", () => {
  assert.equal(bodyOf(parse(web("pid: host"))).HostConfig.PidMode, "host");
  assert.equal("PidMode" in bodyOf(parse(web(""))).HostConfig, false);
});

Deno.test("devices are sent in the Engine's form, every way of writing them", () => {
  const project = parse(web([
    "devices:",
    "  - /dev/ttyUSB0",
    '  - "/dev/sda:/dev/xvda"',
    '  - "/dev/sdb:/dev/xvdb:r"',
    '  - "/dev/fuse:rw"',
    "  - {source: /dev/kvm, target: /dev/kvm2, permissions: rwm}",
    "  - {source: /dev/net/tun}",
  ].join("\n")));
  assert.deepEqual(bodyOf(project).HostConfig.Devices, [
    { PathOnHost: "/dev/ttyUSB0", PathInContainer: "/dev/ttyUSB0", CgroupPermissions: "rwm" },
    { PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "rwm" },
    { PathOnHost: "/dev/sdb", PathInContainer: "/dev/xvdb", CgroupPermissions: "r" },
    { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rw" },
    { PathOnHost: "/dev/kvm", PathInContainer: "/dev/kvm2", CgroupPermissions: "rwm" },
    { PathOnHost: "/dev/net/tun", PathInContainer: "/dev/net/tun", CgroupPermissions: "rwm" },
  ]);
  findWarning(project.warnings, "risk", /devices gives the container direct access/);
  assert.equal("Devices" in bodyOf(parse(web(""))).HostConfig, false);
});

Deno.test("devices: invalid entries are a 400, CDI names a warning", () => {
  rejects(() => parse(web("devices: [dev/sda]")), /devices\[0\].*host path must be absolute/);
  rejects(() => parse(web('devices: ["/dev/sda:xvda:r"]')), /container path must be absolute/);
  rejects(() => parse(web('devices: ["/dev/sda:/dev/sda:rwx"]')), /permissions/);
  rejects(() => parse(web('devices: ["/dev/sda:/dev/sda:rr"]')), /permissions/);
  rejects(() => parse(web('devices: ["/a:/b:r:w"]')), /too many/);
  const project = parse(web('devices: ["nvidia.com/gpu=all"]'));
  findWarning(project.warnings, "unsupported", /CDI device "nvidia.com\/gpu=all"/);
  assert.equal(project.services[0].devices, undefined);
  assert.deepEqual(parseDevice("/dev/a:m"), {
    PathOnHost: "/dev/a",
    PathInContainer: "/dev/a",
    CgroupPermissions: "m",
  });
});

Deno.test("healthcheck.start_interval: StartInterval in ns when the API has it, else a warning", () => {
  const project = parse(web([
    "healthcheck:",
    "  test: [CMD, true]",
    "  interval: 30s",
    "  start_period: 10s",
    "  start_interval: 2s",
  ].join("\n")));
  const modern = bodyOf(project, "web", "1.44").Healthcheck!;
  assert.equal(modern.StartInterval, 2_000_000_000);
  assert.equal(modern.StartPeriod, 10_000_000_000);
  assert.equal(bodyOf(project, "web", "1.45").Healthcheck!.StartInterval, 2_000_000_000);
  const old = bodyOf(project, "web", "1.41").Healthcheck!;
  assert.equal("StartInterval" in old, false);
  assert.equal(old.Interval, 30_000_000_000);
  assert.deepEqual(engineWarnings(project, "1.44"), []);
  const [warning] = engineWarnings(project, "1.43");
  assert.equal(warning.service, "web");
  assert.equal(warning.kind, "unsupported");
  assert.equal(warning.line, 2);
  assert.match(warning.message, /start_interval needs Docker Engine API 1\.44.*speaks 1\.43/);
  assert.deepEqual(engineWarnings(parse(web("healthcheck: {test: [CMD, true]}")), "1.41"), []);
  assert.equal(supportsStartInterval(undefined), true);
  assert.equal(supportsStartInterval("1.9"), false);
});

Deno.test("bind create_host_path: false is a Mounts entry (never creates the host path)", () => {
  const project = parse(web([
    "volumes:",
    "  - type: bind",
    "    source: /srv/must-exist",
    "    target: /a",
    "    read_only: true",
    "    bind: {create_host_path: false}",
    "  - type: bind",
    "    source: ./conf",
    "    target: /b",
    "    bind: {create_host_path: false}",
    "  - type: bind",
    "    source: /srv/created",
    "    target: /c",
    "  - /srv/short:/d:ro,z",
  ].join("\n")));
  const { HostConfig } = bodyOf(project);
  assert.deepEqual(HostConfig.Mounts, [
    { Type: "bind", Source: "/srv/must-exist", Target: "/a", ReadOnly: true },
    { Type: "bind", Source: `${STACK_DIR}/conf`, Target: "/b", ReadOnly: false },
  ]);
  assert.deepEqual(HostConfig.Binds, ["/srv/created:/c:rw", "/srv/short:/d:ro,z"]);
});

Deno.test("bind create_host_path: false with selinux warns that the label is dropped", () => {
  const project = parse(web([
    "volumes:",
    "  - type: bind",
    "    source: /srv/x",
    "    target: /x",
    "    bind: {create_host_path: false, selinux: z}",
  ].join("\n")));
  const warning = findWarning(project.warnings, "unsupported", /selinux cannot be applied/);
  assert.equal(warning.line, 8);
  assert.deepEqual(bodyOf(project).HostConfig.Mounts, [
    { Type: "bind", Source: "/srv/x", Target: "/x", ReadOnly: false },
  ]);
});

/** A container as the Engine lists it, made from the service as deploy would have made it. */
function containerOf(
  project: ComposeProject,
  name: string,
  state: string,
  overrides: Partial<PlanContainer> = {},
): PlanContainer {
  const spec = project.services.find((s) => s.name === name)!;
  return {
    Id: `${name}-id`.padEnd(64, "0"),
    Names: [`/demo-${name}-1`],
    Image: spec.image,
    ImageID: "sha256:x",
    Command: "",
    Created: 0,
    State: state,
    Status: state,
    Ports: [],
    Labels: containerLabels(project, spec, STACK_DIR),
    NetworkSettings: {
      Networks: Object.fromEntries(
        Object.keys(spec.networks).map((key) => [project.networks[key].name, {}]),
      ),
    },
    ...overrides,
  };
}

const facts = (containers: PlanContainer[], present = true) => ({
  containers,
  hasImage: () => present,
  networkExists: () => true,
  volumeExists: () => false,
});

Deno.test("planProject: one action and reason per service, network, volume and orphan", () => {
  const yaml = [
    "services:",
    "  db:",
    "    image: postgres",
    "    volumes: [data:/var/lib/postgresql/data]",
    "  api:",
    "    image: api",
    "    depends_on: {db: {condition: service_started, restart: true}}",
    "  side:",
    "    image: busybox",
    "    network_mode: service:db",
    "  worker:",
    "    image: worker",
    "    networks: [default, back]",
    "  idle:",
    "    image: idle",
    "networks:",
    "  back: {}",
    "volumes:",
    "  data: {}",
  ].join("\n");
  const before = parse(yaml);
  const after = parse(yaml.replace("image: postgres", "image: postgres:17"));
  const order = deployOrder(after);
  const containers = [
    containerOf(before, "db", "running"),
    containerOf(before, "api", "running"),
    containerOf(before, "side", "running"),
    // Left behind by an old deploy whose connect failed: only on the default network.
    containerOf(before, "worker", "created", {
      NetworkSettings: { Networks: { demo_default: {} } },
    }),
    containerOf(before, "idle", "exited"),
    { ...containerOf(before, "idle", "running"), Id: "gone".padEnd(64, "0") } as PlanContainer,
  ];
  // The orphan: a service no longer in the file.
  containers[5].Labels = { ...containers[5].Labels, [LABEL.service]: "old" };
  containers[5].Names = ["/demo-old-1"];
  const plan = planProject(after, order, facts(containers));
  const steps = Object.fromEntries(
    plan.services.map((s) => [s.service, `${s.action}: ${s.reason}`]),
  );
  assert.deepEqual(steps, {
    db: "recreate: its image changed from postgres to postgres:17",
    api: "restart: it depends on db with restart: true, which is renewed",
    side: "recreate: it shares the network stack of db, which is replaced",
    worker: 'recreate: its container is not attached to "demo_back" (left half-configured)',
    idle: "start: unchanged; its container is exited",
  });
  assert.equal(plan.services.find((s) => s.service === "db")?.current, containers[0].Id);
  assert.deepEqual(plan.volumes.map((v) => `${v.key}:${v.action}`), ["data:create"]);
  assert.deepEqual(plan.orphans.map((o) => `${o.container}:${o.action}`), ["demo-old-1:keep"]);
  assert.deepEqual(
    planProject(after, order, facts(containers), { removeOrphans: true }).orphans
      .map((o) => o.action),
    ["remove"],
  );
  // Unchanged and running: nothing to do; absent: created (and pulled when not present).
  const same = planProject(before, deployOrder(before), facts(containers.slice(0, 3)), {});
  const expected: Record<string, string> = {
    db: "unchanged",
    api: "unchanged",
    side: "unchanged",
    worker: "create",
    idle: "create",
  };
  assert.deepEqual(
    same.services.map((s) => `${s.service}:${s.action}:${s.pull}`),
    deployOrder(before).map((s) => `${s.name}:${expected[s.name]}:false`),
  );
  assert.ok(
    planProject(before, deployOrder(before), facts([], false)).services.every((s) => s.pull),
  );
});

Deno.test("networks at create: every endpoint from API 1.44, below it the primary one and connects", () => {
  const project = parse([
    "services:",
    "  web:",
    "    image: nginx",
    "    networks:",
    "      front: {aliases: [www]}",
    "      back: {ipv4_address: 10.77.0.5}",
    "networks:",
    "  front: {}",
    "  back:",
    "    ipam:",
    "      config: [{subnet: 10.77.0.0/24}]",
  ].join("\n"));
  const web = project.services[0];
  // The primary network is the first by priority, then by key: back.
  const old = networkAttachments(project, web, "1.41");
  assert.deepEqual(Object.keys(old.atCreate), ["demo_back"]);
  assert.deepEqual(old.later.map((n) => n.name), ["demo_front"]);
  const all = {
    ...old.atCreate,
    ...Object.fromEntries(old.later.map((n) => [n.name, n.endpoint])),
  };
  assert.deepEqual(all["demo_back"], {
    Aliases: ["web"],
    IPAMConfig: { IPv4Address: "10.77.0.5" },
  });
  assert.deepEqual(all["demo_front"], { Aliases: ["web", "www"] });
  const current = networkAttachments(project, web, "1.44");
  assert.deepEqual(current.later, []);
  assert.deepEqual(current.atCreate, all);
  assert.deepEqual(bodyOf(project, "web", "1.44").NetworkingConfig, { EndpointsConfig: all });
  assert.deepEqual(
    Object.keys(bodyOf(project, "web", "1.41").NetworkingConfig!.EndpointsConfig),
    Object.keys(old.atCreate),
  );
});

Deno.test("project lock: a second holder is refused with who and since when, until released", () => {
  const locks = createProjectLocks(() => new Date("2026-11-02T10:00:00Z"));
  const release = locks.acquire("demo", { operation: "deploy", actor: "alice" });
  assert.throws(
    () => locks.acquire("demo", { operation: "teardown", actor: "bob" }),
    (error: Error & { status?: number }) => {
      assert.equal(error.status, 409);
      assert.equal(
        error.message,
        'A deploy of "demo" is running, started by alice at 2026-11-02T10:00:00.000Z; try again when it has finished',
      );
      return true;
    },
  );
  locks.acquire("other", { operation: "stop", actor: "bob" })();
  release();
  release(); // twice is harmless
  locks.acquire("demo", { operation: "teardown", actor: "bob" });
  assert.equal(locks.holder("demo")?.actor, "bob");
});

Deno.test("planProject: deploy.replicas plans one step per container, and scaling down removes the highest numbers", () => {
  const three = parse(web("deploy: {replicas: 3}"));
  const created = planProject(three, deployOrder(three), facts([]));
  assert.deepEqual(
    created.services.map((s) => `${s.container}#${s.number}:${s.action}`),
    ["demo-web-1#1:create", "demo-web-2#2:create", "demo-web-3#3:create"],
  );
  // Each replica carries its own number label, as the CLI's do.
  const numbered = (number: number, state = "running"): PlanContainer => {
    const container = containerOf(three, "web", state);
    return {
      ...container,
      Id: `web-${number}`.padEnd(64, "0"),
      Names: [`/demo-web-${number}`],
      Labels: { ...container.Labels, [LABEL.number]: String(number) },
    };
  };
  assert.equal(
    createBody(three, three.services[0], STACK_DIR, { number: 2 }).Labels[LABEL.number],
    "2",
  );
  const running = [numbered(3), numbered(1), numbered(2)];
  const two = parse(web("deploy: {replicas: 2}"));
  // The hash covers the spec, replicas included: a scale change alone must not recreate.
  const scaled = planProject(two, deployOrder(two), facts(running));
  assert.deepEqual(
    scaled.services.map((s) => `${s.container}:${s.action}:${s.reason}`),
    [
      "demo-web-1:unchanged:unchanged and running",
      "demo-web-2:unchanged:unchanged and running",
      "demo-web-3:remove:scaled down to 2 replicas",
    ],
  );
  assert.equal(scaled.services[2].current, running[0].Id);
  assert.deepEqual(scaled.orphans, []);
  const preview = previewProject(two, deployOrder(two), facts(running));
  assert.equal(preview.services[0].replicas, 2);
  assert.equal(preview.services[0].action, "remove");
  assert.match(preview.services[0].reason, /demo-web-3: remove/);
});
