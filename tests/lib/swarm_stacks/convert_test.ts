/**
 * The conversion of compose files into what `docker stack deploy` creates. Expected specs are
 * what docker/cli's cli/compose/convert (service.go, compose.go, volume.go) builds for the
 * same files.
 */
import assert from "node:assert/strict";
import { planSwarmStack } from "../../../lib/swarm_stacks/parse.ts";
import { ValidationError } from "../../../lib/errors.ts";

const STACK_DIR = "/srv/stacks/_swarm/web";

function plan(yaml: string, options: { env?: string; files?: Record<string, string> } = {}) {
  return planSwarmStack({ name: "web", yaml, env: options.env }, {
    files: options.files,
    stackDir: STACK_DIR,
  });
}

const NS = "com.docker.stack.namespace";

Deno.test("swarm stack: a web + db file becomes what docker stack deploy creates", () => {
  const result = plan(
    `
services:
  api:
    image: registry.local/api:1.2
    command: ["serve", "--port", "8080"]
    entrypoint: /entry.sh
    environment:
      MODE: production
      TOKEN_FILE: /run/secrets/token
    labels: [tier=backend]
    hostname: api-host
    user: "1000:1000"
    working_dir: /app
    stop_grace_period: 20s
    ports:
      - "8080:8080"
      - target: 9000
        published: 9000
        protocol: udp
        mode: host
    networks: [front, back]
    secrets:
      - token
      - source: tls
        target: server.pem
        uid: "1000"
        mode: 0400
    configs: [nginx]
    volumes:
      - data:/var/lib/api
      - ./static:/static:ro
      - type: tmpfs
        target: /cache
    healthcheck:
      test: ["CMD", "wget", "-q", "localhost:8080"]
      interval: 10s
      timeout: 2s
      retries: 3
    deploy:
      replicas: 3
      labels:
        com.example.team: api
      placement:
        constraints: [node.role == worker]
        preferences:
          - spread: node.labels.zone
        max_replicas_per_node: 2
      resources:
        limits: {cpus: "0.5", memory: 256M}
        reservations: {cpus: "0.25", memory: 64M}
      update_config:
        parallelism: 2
        delay: 10s
        order: start-first
        failure_action: rollback
      rollback_config:
        parallelism: 0
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
      endpoint_mode: vip
  db:
    image: postgres:16
    deploy:
      mode: global
networks:
  front:
    attachable: true
  back:
    driver_opts:
      encrypted: "true"
    labels: [purpose=db]
  unused: {}
volumes:
  data:
    labels: {backup: "yes"}
secrets:
  token:
    file: ./token.txt
  tls:
    external: true
    name: shared_tls
configs:
  nginx:
    content: "worker_processes 1;"
`,
    { files: { "token.txt": "s3cr3t" } },
  );

  assert.equal(result.name, "web");
  // Networks: only those services use, <stack>_<key>, overlay, the namespace label.
  assert.deepEqual(result.networks.map((n) => [n.key, n.name, n.external]), [
    ["back", "web_back", false],
    ["default", "web_default", false],
    ["front", "web_front", false],
  ]);
  assert.deepEqual(result.networks[0].create, {
    Name: "web_back",
    Driver: "overlay",
    Labels: { purpose: "db", [NS]: "web" },
    Attachable: false,
    Internal: false,
    CheckDuplicate: true,
    Options: { encrypted: "true" },
  });
  assert.equal(result.networks[2].create?.Attachable, true);

  // Secrets and configs: <stack>_<key> with the file's or inline content, external by name.
  assert.deepEqual(result.secrets, [
    { key: "tls", name: "shared_tls", external: true, labels: {} },
    {
      key: "token",
      name: "web_token",
      external: false,
      labels: { [NS]: "web" },
      data: btoa("s3cr3t"),
    },
  ]);
  assert.deepEqual(result.configs, [{
    key: "nginx",
    name: "web_nginx",
    external: false,
    labels: { [NS]: "web" },
    data: btoa("worker_processes 1;"),
  }]);

  const api = result.services.find((s) => s.key === "api")!;
  assert.equal(api.name, "web_api");
  assert.deepEqual(api.spec, {
    Name: "web_api",
    Labels: {
      "com.example.team": "api",
      [NS]: "web",
      "com.docker.stack.image": "registry.local/api:1.2",
    },
    TaskTemplate: {
      ContainerSpec: {
        Image: "registry.local/api:1.2",
        Labels: { tier: "backend", [NS]: "web" },
        Env: ["MODE=production", "TOKEN_FILE=/run/secrets/token"],
        Privileges: {},
        Command: ["/entry.sh"],
        Args: ["serve", "--port", "8080"],
        Hostname: "api-host",
        Dir: "/app",
        User: "1000:1000",
        StopGracePeriod: 20e9,
        Healthcheck: {
          Test: ["CMD", "wget", "-q", "localhost:8080"],
          Interval: 10e9,
          Timeout: 2e9,
          Retries: 3,
        },
        Mounts: [
          {
            Type: "volume",
            Source: "web_data",
            Target: "/var/lib/api",
            ReadOnly: false,
            VolumeOptions: { Labels: { backup: "yes", [NS]: "web" } },
          },
          { Type: "bind", Source: `${STACK_DIR}/static`, Target: "/static", ReadOnly: true },
          { Type: "tmpfs", Target: "/cache" },
        ],
        Secrets: [
          {
            File: { Name: "server.pem", UID: "1000", GID: "0", Mode: 0o400 },
            SecretName: "shared_tls",
          },
          { File: { Name: "token", UID: "0", GID: "0", Mode: 0o444 }, SecretName: "web_token" },
        ],
        Configs: [
          { File: { Name: "nginx", UID: "0", GID: "0", Mode: 0o444 }, ConfigName: "web_nginx" },
        ],
      },
      Placement: {
        Constraints: ["node.role == worker"],
        Preferences: [{ Spread: { SpreadDescriptor: "node.labels.zone" } }],
        MaxReplicas: 2,
      },
      Networks: [
        { Target: "web_back", Aliases: ["api"] },
        { Target: "web_front", Aliases: ["api"] },
      ],
      Resources: {
        Limits: { NanoCPUs: 5e8, MemoryBytes: 256 * 1024 * 1024 },
        Reservations: { NanoCPUs: 2.5e8, MemoryBytes: 64 * 1024 * 1024 },
      },
      RestartPolicy: { Condition: "on-failure", Delay: 5e9, MaxAttempts: 3 },
    },
    Mode: { Replicated: { Replicas: 3 } },
    EndpointSpec: {
      Mode: "vip",
      Ports: [
        { Protocol: "tcp", TargetPort: 8080, PublishedPort: 8080, PublishMode: "ingress" },
        { Protocol: "udp", TargetPort: 9000, PublishedPort: 9000, PublishMode: "host" },
      ],
    },
    UpdateConfig: {
      Parallelism: 2,
      Delay: 10e9,
      FailureAction: "rollback",
      MaxFailureRatio: 0,
      Order: "start-first",
    },
    RollbackConfig: { Parallelism: 0, Delay: 0, MaxFailureRatio: 0 },
  });

  const db = result.services.find((s) => s.key === "db")!;
  assert.deepEqual(db.spec.Mode, { Global: {} });
  assert.deepEqual((db.spec.TaskTemplate as Record<string, unknown>).Networks, [
    { Target: "web_default", Aliases: ["db"] },
  ]);
  assert.deepEqual(db.spec.EndpointSpec, { Ports: [] });
  assert.deepEqual(result.ignored, []);
  // deploy.* keys are swarm's own: no "not supported" warning survives.
  assert.deepEqual(result.warnings.filter((w) => /deploy/.test(w.message)), []);
});

Deno.test("swarm stack: the keys swarm ignores are listed with their lines", () => {
  const result = plan(
    [
      "services:", //                1
      "  app:", //                   2
      "    image: busybox", //       3
      "    build: .", //             4
      "    container_name: app", //  5
      "    depends_on: [cache]", //  6
      "    restart: always", //      7
      "    privileged: true", //     8
      "    cap_add: [NET_ADMIN]", // 9
      "    links: [cache]", //       10
      "  cache:", //                 11
      "    image: busybox", //       12
      "    network_mode: host", //   13
      "    restart: on-failure:4", // 14
      "    deploy:", //              15
      "      restart_policy:", //    16
      "        condition: any", //   17
      "",
    ].join("\n"),
  );
  assert.deepEqual(
    result.ignored.map((i) => [i.service, i.key, i.line]),
    [
      ["app", "build", 4],
      ["app", "container_name", 5],
      ["app", "depends_on", 6],
      ["app", "privileged", 8],
      ["app", "cap_add", 9],
      ["app", "links", 10],
      ["app", "restart", 7],
      ["cache", "network_mode", 13],
      ["cache", "restart", 14],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || 0),
  );
  for (const item of result.ignored) assert.match(item.message, /swarm/);
  const app = result.services.find((s) => s.key === "app")!.spec;
  const cache = result.services.find((s) => s.key === "cache")!.spec;
  // restart: falls back into the restart policy as the CLI does; deploy.restart_policy wins.
  assert.deepEqual((app.TaskTemplate as Record<string, unknown>).RestartPolicy, {
    Condition: "any",
  });
  assert.deepEqual((cache.TaskTemplate as Record<string, unknown>).RestartPolicy, {
    Condition: "any",
  });
  // network_mode is ignored: the service joins the stack's default network.
  assert.deepEqual((cache.TaskTemplate as Record<string, unknown>).Networks, [
    { Target: "web_default", Aliases: ["cache"] },
  ]);
  // The risk warnings of ignored keys (privileged, cap_add, network_mode: host) are gone.
  assert.deepEqual(result.warnings.filter((w) => w.kind === "risk"), []);
});

Deno.test("swarm stack: external networks and volumes by name, named ones with name:", () => {
  const result = plan(`
services:
  app:
    image: busybox
    networks: [edge, own]
    volumes: [shared:/shared, named:/named]
networks:
  edge:
    external: true
    name: traefik_public
  own:
    name: custom_net
volumes:
  shared:
    external: true
  named:
    name: fixed_volume
`);
  assert.deepEqual(result.networks.map((n) => [n.name, n.external]), [
    ["traefik_public", true],
    ["custom_net", false],
  ]);
  const container = (result.services[0].spec.TaskTemplate as Record<string, unknown>)
    .ContainerSpec as Record<string, unknown>;
  assert.deepEqual(container.Mounts, [
    { Type: "volume", Source: "shared", Target: "/shared", ReadOnly: false, VolumeOptions: {} },
    {
      Type: "volume",
      Source: "fixed_volume",
      Target: "/named",
      ReadOnly: false,
      VolumeOptions: { Labels: { [NS]: "web" } },
    },
  ]);
});

Deno.test("swarm stack: bad files are refused with a 400 that names the problem", () => {
  const bad: [string, RegExp, Record<string, string>?][] = [
    ["services:\n  a:\n    image: busybox\n    deploy:\n      mode: everywhere\n", /deploy\.mode/],
    [
      "services:\n  a:\n    image: busybox\n    deploy:\n      mode: global\n      replicas: 2\n",
      /replicated/,
    ],
    [
      "services:\n  a:\n    image: busybox\n    secrets: [nope]\n",
      /not declared/,
    ],
    [
      "services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    file: ../../etc/passwd\n",
      /inside the stack's folder/,
    ],
    [
      "services:\n  a:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    file: ./missing.txt\n",
      /was not sent/,
    ],
    [
      "services:\n  a:\n    image: busybox\n    deploy:\n      update_config:\n        order: random\n",
      /stop-first or start-first/,
    ],
  ];
  for (const [yaml, message, files] of bad) {
    assert.throws(() => plan(yaml, { files }), (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

Deno.test("swarm stack: interpolation from the .env reaches deploy settings and secrets", () => {
  const result = plan(
    "services:\n  a:\n    image: busybox:${TAG}\n    deploy:\n      replicas: ${N}\n    secrets: [k]\nsecrets:\n  k:\n    environment: KEY\n",
    { env: "TAG=1.36\nN=4\nKEY=value\n" },
  );
  assert.deepEqual(result.services[0].spec.Mode, { Replicated: { Replicas: 4 } });
  assert.equal(
    (result.services[0].spec.Labels as Record<string, string>)["com.docker.stack.image"],
    "busybox:1.36",
  );
  assert.equal(result.secrets[0].data, btoa("value"));
});

Deno.test("swarm stack: container-only rules do not apply; a build without image is refused", () => {
  // container_name with replicas and depends_on on an unknown service are ignored by swarm.
  const result = plan(
    "services:\n  a:\n    image: busybox\n    container_name: a\n    depends_on: [gone]\n    deploy:\n      replicas: 3\n  idle:\n    image: busybox\n    deploy:\n      replicas: 0\n",
  );
  assert.deepEqual(result.services.map((s) => [s.key, s.spec.Mode]), [
    ["a", { Replicated: { Replicas: 3 } }],
    ["idle", { Replicated: { Replicas: 0 } }],
  ]);
  assert.deepEqual(result.ignored.map((i) => i.key), ["container_name", "depends_on"]);
  assert.throws(
    () => plan("services:\n  a:\n    build: .\n"),
    /swarm does not build images/,
  );
});

Deno.test("swarm stack: the run API's process checks apply (a NUL in a command is a 400)", () => {
  assert.throws(
    () => plan('services:\n  a:\n    image: busybox\n    command: ["sh", "a\\0b"]\n'),
    (error: unknown) => error instanceof ValidationError && /NUL/.test((error as Error).message),
  );
});
