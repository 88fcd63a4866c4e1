import assert from "node:assert/strict";
import { normaliseProjectName, parseCompose } from "../../../lib/compose/parse.ts";
import { findWarning, parse, rejects, service, web } from "./helpers.ts";

Deno.test("a minimal file: defaults, default network, alphabetical services", () => {
  const project = parse("services:\n  web:\n    image: nginx\n  api:\n    image: node:22\n");
  assert.equal(project.name, "demo");
  assert.deepEqual(project.services.map((s) => s.name), ["api", "web"]);
  assert.deepEqual(project.services[1], {
    name: "web",
    line: 2,
    image: "nginx",
    environment: {},
    labels: {},
    ports: [],
    expose: [],
    volumes: [],
    networks: { default: { aliases: [] } },
    restart: { name: "no", max_retries: 0 },
    depends_on: {},
    cap_add: [],
    cap_drop: [],
    extra_hosts: [],
    sysctls: {},
    tty: false,
    stdin_open: false,
    privileged: false,
  });
  assert.deepEqual(project.networks, { default: { name: "demo_default", external: false } });
  assert.deepEqual(project.volumes, {});
  assert.deepEqual(project.warnings, []);
});

Deno.test("anchors, aliases and merge keys", () => {
  const project = parse([
    "x-defaults: &defaults",
    "  restart: always",
    "  environment: &env",
    "    TZ: UTC",
    "    LANG: C",
    "x-logging: &more",
    "  user: '1000'",
    "  restart: on-failure",
    "services:",
    "  web:",
    "    <<: *defaults",
    "    image: nginx",
    "    restart: unless-stopped", // an explicit key wins over the merged one
    "  api:",
    "    <<: [*more, *defaults]", // the first source wins
    "    image: node",
    "    environment:",
    "      <<: *env",
    "      LANG: en_US.UTF-8",
    "  worker:",
    "    image: node",
    "    environment: *env",
    "    command: &cmd [run, worker]",
    "  cron:",
    "    image: node",
    "    command: *cmd",
  ].join("\n"));
  const [api, cron, web, worker] = project.services;
  assert.deepEqual(web.restart, { name: "unless-stopped", max_retries: 0 });
  assert.deepEqual(web.environment, { TZ: "UTC", LANG: "C" });
  assert.deepEqual(api.restart, { name: "on-failure", max_retries: 0 });
  assert.equal(api.user, "1000");
  assert.deepEqual(api.environment, { TZ: "UTC", LANG: "en_US.UTF-8" });
  assert.deepEqual(worker.environment, { TZ: "UTC", LANG: "C" });
  assert.deepEqual(worker.command, ["run", "worker"]);
  assert.deepEqual(cron.command, ["run", "worker"]);
  assert.deepEqual(project.warnings, []); // x- fields are ignored silently
});

Deno.test("merge keys: a quoted << is an ordinary key; bad merge values are a 400", () => {
  rejects(() => parse("services:\n  web:\n    <<: 5\n    image: nginx\n"), /merge key/);
  rejects(() => parse("services:\n  web:\n    <<: [1]\n    image: nginx\n"), /merge key/);
  const project = parse('services:\n  web:\n    image: nginx\n    "<<": x\n');
  findWarning(project.warnings, "unknown", /"<<"/);
});

Deno.test("restart: every form", () => {
  const restart = (value: string) => service(web(`restart: ${value}`)).restart;
  assert.deepEqual(restart("no"), { name: "no", max_retries: 0 });
  assert.deepEqual(restart('"no"'), { name: "no", max_retries: 0 });
  assert.deepEqual(restart("false"), { name: "no", max_retries: 0 }); // YAML 1.1 habits
  assert.deepEqual(restart("always"), { name: "always", max_retries: 0 });
  assert.deepEqual(restart("unless-stopped"), { name: "unless-stopped", max_retries: 0 });
  assert.deepEqual(restart("on-failure"), { name: "on-failure", max_retries: 0 });
  assert.deepEqual(restart("on-failure:3"), { name: "on-failure", max_retries: 3 });
  // A %YAML 1.1 document reads an unquoted no as false.
  const yaml11 = parseCompose({
    project: "p",
    yaml: "%YAML 1.1\n---\nservices:\n  web:\n    image: nginx\n    restart: no\n",
  });
  assert.deepEqual(yaml11.services[0].restart, { name: "no", max_retries: 0 });
  rejects(() => restart("sometimes"), /restart must be no, always, unless-stopped or on-failure/);
  rejects(() => restart("on-failure:x"), /restart must be/);
  rejects(() => restart("true"), /restart must be/);
});

Deno.test("command and entrypoint: strings split like go-shellwords, lists as is", () => {
  const spec = service(web([
    `command: sh -c 'echo "hello world" && sleep 1' --flag="a b" plain\\ space`,
    'entrypoint: ["/docker-entrypoint.sh", "--opt", "two words"]',
  ].join("\n")));
  assert.deepEqual(spec.command, [
    "sh",
    "-c",
    'echo "hello world" && sleep 1',
    "--flag=a b",
    "plain space",
  ]);
  assert.deepEqual(spec.entrypoint, ["/docker-entrypoint.sh", "--opt", "two words"]);
  // No shell expansion: $HOME, globs and ; are plain characters.
  assert.deepEqual(service(web("command: echo $$HOME *.txt ; ls")).command, [
    "echo",
    "$HOME",
    "*.txt",
    ";",
    "ls",
  ]);
  assert.deepEqual(service(web("command: [sleep, 10]")).command, ["sleep", "10"]);
  assert.deepEqual(service(web('entrypoint: ""')).entrypoint, []);
  assert.equal(service(web("command:")).command, undefined);
  rejects(() => service(web(`command: echo "unterminated`)), /command: Unterminated double quote/);
  rejects(() => service(web("command: {a: 1}")), /command must be a command line or a list/);
});

Deno.test("healthcheck: test forms, durations and disable", () => {
  assert.deepEqual(
    service(web([
      "healthcheck:",
      "  test: curl -f http://localhost/ || exit 1",
      "  interval: 1m30s",
      "  timeout: 10s",
      "  start_period: 500ms",
      "  start_interval: 2s",
      "  retries: 3",
    ].join("\n"))).healthcheck,
    {
      test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
      interval_ms: 90_000,
      timeout_ms: 10_000,
      start_period_ms: 500,
      start_interval_ms: 2000,
      retries: 3,
    },
  );
  assert.deepEqual(
    service(web('healthcheck:\n  test: ["CMD", "pg_isready", "-U", "app"]\n  interval: 1h2m3.5s'))
      .healthcheck,
    { test: ["CMD", "pg_isready", "-U", "app"], interval_ms: 3_723_500 },
  );
  assert.deepEqual(
    service(web('healthcheck:\n  test: ["CMD-SHELL", "true"]')).healthcheck,
    { test: ["CMD-SHELL", "true"] },
  );
  assert.deepEqual(service(web("healthcheck:\n  disable: true")).healthcheck, { test: ["NONE"] });
  assert.deepEqual(service(web("healthcheck:\n  test: [NONE]")).healthcheck, { test: ["NONE"] });
  // Timings only: the image's own test stays.
  assert.deepEqual(service(web("healthcheck:\n  interval: 5s")).healthcheck, {
    test: [],
    interval_ms: 5000,
  });
  rejects(() => service(web("healthcheck:\n  test: [curl, x]")), /must start with CMD/);
  rejects(() => service(web("healthcheck:\n  test: [CMD]")), /no command after CMD/);
  rejects(() => service(web("healthcheck:\n  test: x\n  interval: 10")), /must be a duration/);
  rejects(() => service(web("healthcheck:\n  test: x\n  timeout: 5 s")), /must be a duration/);
  rejects(() => service(web("healthcheck:\n  test: x\n  retries: -1")), /retries must be/);
  rejects(
    () => service(web("healthcheck:\n  test: x\n  disable: true")),
    /test and disable: true cannot be used together/,
  );
});

Deno.test("depends_on: list and map forms; unknown services are a 400", () => {
  const project = parse([
    "services:",
    "  web:",
    "    image: nginx",
    "    depends_on: [api, db]",
    "  api:",
    "    image: node",
    "    depends_on:",
    "      db:",
    "        condition: service_healthy",
    "      cache:",
    "        condition: service_completed_successfully",
    "        required: false",
    "      queue:",
    "  db: {image: postgres}",
    "  cache: {image: redis}",
    "  queue: {image: rabbitmq}",
  ].join("\n"));
  const byName = Object.fromEntries(project.services.map((s) => [s.name, s]));
  assert.deepEqual(byName.web.depends_on, {
    api: { condition: "service_started", required: true },
    db: { condition: "service_started", required: true },
  });
  assert.deepEqual(byName.api.depends_on, {
    db: { condition: "service_healthy", required: true },
    cache: { condition: "service_completed_successfully", required: false },
    queue: { condition: "service_started", required: true },
  });
  const error = rejects(
    () => service(web("depends_on: [ghost]")),
    /Service "web": depends_on names the unknown service "ghost"/,
  );
  assert.equal(error.line, 4);
  rejects(
    () => service(web("depends_on:\n  web2:\n    condition: service_ready", "  web2: {image: x}")),
    /condition must be service_started, service_healthy or service_completed_successfully/,
  );
});

Deno.test("networks: list and map forms, names, the default network", () => {
  const project = parse([
    "services:",
    "  web:",
    "    image: nginx",
    "    networks: [front, back]",
    "  api:",
    "    image: node",
    "    networks:",
    "      back:",
    "        aliases: [api.internal, backend]",
    "      shared:",
    "  db:",
    "    image: postgres",
    "    network_mode: none",
    "  tool:",
    "    image: alpine",
    "networks:",
    "  front:",
    "  back: {driver: bridge}",
    "  shared: {external: true, name: infra_shared}",
    "  legacy: {external: {name: old_net}}",
  ].join("\n"));
  const byName = Object.fromEntries(project.services.map((s) => [s.name, s]));
  assert.deepEqual(byName.web.networks, { front: { aliases: [] }, back: { aliases: [] } });
  assert.deepEqual(byName.api.networks, {
    back: { aliases: ["api.internal", "backend"] },
    shared: { aliases: [] },
  });
  assert.deepEqual(byName.db.networks, {});
  assert.equal(byName.db.network_mode, "none");
  assert.deepEqual(byName.tool.networks, { default: { aliases: [] } });
  assert.deepEqual(project.networks, {
    front: { name: "demo_front", external: false },
    back: { name: "demo_back", external: false, driver: "bridge" },
    shared: { name: "infra_shared", external: true },
    legacy: { name: "old_net", external: true },
    default: { name: "demo_default", external: false },
  });
});

Deno.test("networks: a declared default network is used as declared", () => {
  const project = parse(web("", "networks:\n  default:\n    name: my_net\n"));
  assert.deepEqual(project.networks, { default: { name: "my_net", external: false } });
  const none = parse(web("network_mode: bridge"));
  assert.deepEqual(none.networks, {}); // nobody joins "default"
});

Deno.test("networks: undeclared networks and bad combinations are a 400", () => {
  const error = rejects(
    () => service(web("networks: [nowhere]")),
    /the network "nowhere" is not declared under the top-level networks/,
  );
  assert.equal(error.line, 4);
  rejects(
    () => service(web("networks:\n  nowhere:\n    aliases: [a]")),
    /"nowhere" is not declared/,
  );
  rejects(
    () => service(web("network_mode: host\nnetworks: [default]")),
    /network_mode and networks cannot be used together/,
  );
  rejects(() => service(web("network_mode: service:ghost")), /unknown service "ghost"/);
});

Deno.test("other service fields", () => {
  const spec = service(web([
    "container_name: my-web.1",
    "user: 1000:1000",
    "working_dir: /app",
    "hostname: web-1",
    "cap_add: [NET_ADMIN]",
    "cap_drop: [ALL]",
    "stop_signal: SIGQUIT",
    "stop_grace_period: 1m30s",
    "tty: true",
    "stdin_open: 'true'",
    "network_mode: bridge",
  ].join("\n")));
  assert.equal(spec.container_name, "my-web.1");
  assert.equal(spec.user, "1000:1000");
  assert.equal(spec.working_dir, "/app");
  assert.equal(spec.hostname, "web-1");
  assert.deepEqual(spec.cap_add, ["NET_ADMIN"]);
  assert.deepEqual(spec.cap_drop, ["ALL"]);
  assert.equal(spec.stop_signal, "SIGQUIT");
  assert.equal(spec.stop_grace_period_s, 90);
  assert.equal(spec.tty, true);
  assert.equal(spec.stdin_open, true);
  assert.equal(spec.network_mode, "bridge");
  assert.deepEqual(spec.networks, {});
  assert.equal(service(web("user: 1000")).user, "1000");
  assert.equal(service(web("stop_grace_period: 500ms")).stop_grace_period_s, 1);
  rejects(() => service(web("container_name: -bad")), /container_name "-bad" must be/);
  rejects(() => service(web("container_name: a/b")), /container_name/);
  rejects(() => service(web("working_dir: app")), /working_dir must be an absolute path/);
  rejects(() => service(web("tty: maybe")), /tty must be true or false/);
  rejects(() => service(web("cap_add: [NET ADMIN]")), /is not a capability name/);
  rejects(
    () =>
      parse(
        "services:\n  a: {image: x, container_name: same}\n  b: {image: x, container_name: same}\n",
      ),
    /container_name "same" is also used by "a"/,
  );
});

Deno.test("images are validated with parseReference", () => {
  for (const image of ["nginx", "nginx:1.27", "ghcr.io/org/app:v1", "localhost:5000/app"]) {
    assert.equal(service(`services:\n  web:\n    image: ${image}\n`).image, image);
  }
  const error = rejects(
    () => service("services:\n  web:\n    image: UPPER/Case\n"),
    /Service "web": Invalid image reference "UPPER\/Case"/,
  );
  assert.equal(error.line, 3);
  rejects(() => service("services:\n  web:\n    image: ${NOPE}\n"), /Invalid image reference/);
  rejects(() => service("services:\n  web:\n    image: [a]\n"), /image must be a string/);
});

Deno.test("project name: the request wins over name:, normalised to lowercase", () => {
  assert.equal(parseCompose({ yaml: "name: FromFile\n" + web("") }).name, "fromfile");
  assert.equal(
    parseCompose({ yaml: "name: fromfile\n" + web(""), project: "Req_1" }).name,
    "req_1",
  );
  assert.equal(
    parseCompose({ yaml: "name: ${STACK:-x}-app\n" + web(""), env: "STACK=shop" }).name,
    "shop-app",
  );
  const project = parseCompose({
    yaml: "name: p\n" + web("environment:\n  P: $COMPOSE_PROJECT_NAME"),
  });
  assert.deepEqual(project.services[0].environment, { P: "p" });
  assert.equal(project.networks.default.name, "p_default");
});

Deno.test("project name: invalid or missing names are a 400 on field project", () => {
  for (
    const bad of [
      "../../etc",
      "a/b",
      "..",
      ".hidden",
      "-leading",
      "_leading",
      "has space",
      "é",
      "x".repeat(65),
    ]
  ) {
    const error = rejects(
      () => parseCompose({ yaml: web(""), project: bad }),
      /Invalid project name/,
    );
    assert.equal(error.field, "project", bad);
  }
  const fromFile = rejects(
    () => parseCompose({ yaml: "name: ../../etc\n" + web("") }),
    /Invalid project name/,
  );
  assert.equal(fromFile.field, "project");
  const missing = rejects(
    () => parseCompose({ yaml: web("") }),
    /A project name is required \(give `name:` in the file or a project name\)/,
  );
  assert.equal(missing.field, "project");
  assert.equal(normaliseProjectName("My-App_2"), "my-app_2");
  rejects(() => normaliseProjectName("../../etc"), /Invalid project name "..\/..\/etc"/);
});

Deno.test("bad inputs are a 400 with a message", () => {
  const cases: [string, RegExp][] = [
    ["services: [", /Invalid YAML/],
    ["a: b: c", /Invalid YAML/],
    ["\tservices:\n", /Invalid YAML/],
    ["- a\n- b\n", /top level of a compose file must be a map.*not a list/],
    ["just a string\n", /not a single value/],
    ["", /The compose file is empty/],
    ["# only a comment\n", /The compose file is empty/],
    ["services: [web]\n", /services must be a map/],
    ["services:\n  web:\n", /Service "web" needs an image/],
    [
      "services:\n  web:\n    restart: always\n",
      /Service "web" needs an image: or a build:/,
    ],
    ["services:\n  web: {image: nginx}\n---\nservices: {}\n", /exactly one YAML document/],
    ["services:\n  web: {image: nginx}\n  web: {image: nginx}\n", /Duplicate key "web"/],
    ["services:\n  web: {image: nginx, image: httpd}\n", /Duplicate key "image"/],
    [
      "services:\n  web: {image: nginx, command: *nope}\n",
      /alias \*nope refers to an anchor that is not defined/,
    ],
    ["services:\n  web: {image: !!binary aGk=}\n", /Unsupported YAML value/],
    ["services:\n  bad/name: {image: nginx}\n", /not a valid service name/],
    ["services:\n  ? [a]\n  : {image: nginx}\n", /Only plain strings can be map keys/],
    ["services:\n  web: {image: nginx}\nnetworks: [a]\n", /networks must be a map/],
    ["services:\n  web: {image: nginx}\nvolumes:\n  bad/key:\n", /not a valid volume key/],
  ];
  for (const [yaml, pattern] of cases) rejects(() => parse(yaml), pattern);
  const second = rejects(() => parse("services:\n  web: {image: nginx}\n---\nservices: {}\n"));
  assert.equal(second.line, 3);
  assert.equal(second.field, "yaml");
});

Deno.test("build: a build-only service is kept (image <project>-<service>) and dependents keep depends_on", () => {
  const project = parse([
    "services:",
    "  app:",
    "    build: .",
    "  web:",
    "    image: nginx",
    "    build:",
    "      context: .",
    "    depends_on: [app]",
    "  sidecar:",
    "    image: busybox",
    "    network_mode: service:app",
  ].join("\n"));
  assert.deepEqual(project.services.map((s) => s.name), ["app", "sidecar", "web"]);
  const [app, sidecar, web] = project.services;
  assert.equal(app.image, "demo-app");
  assert.deepEqual(app.build, { context: ".", args: {} });
  assert.equal(web.image, "nginx");
  assert.deepEqual(web.build, { context: ".", args: {} });
  assert.deepEqual(Object.keys(web.depends_on), ["app"]);
  assert.equal(sidecar.network_mode, "service:app");
  assert.deepEqual(project.warnings, []);
});
