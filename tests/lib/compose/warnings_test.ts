import assert from "node:assert/strict";
import { parse } from "./helpers.ts";

Deno.test("warnings: every dropped or unknown key, with its line and service", () => {
  const project = parse([
    'version: "3.9"', // 1
    "x-anchors: {}", // 2
    "x-more: {}", // 3
    "services:", // 4
    "  web:", // 5
    "    image: nginx", // 6
    "    x-custom: ignored", // 7
    "    configs: [site]", // 8
    "    secrets: [token]", // 9
    "    deploy:", // 10
    "      mode: global", // 11
    "    isolation: default", // 12
    "    mem_swappiness: 0", // 13
    "    logging: {driver: syslog}", // 14
    "    pid: service:other", // 15
    "  api:", // 16
    "    image: node", // 17
    "    deploy:", // 18
    "      restart_policy: {condition: on-failure}", // 19
    "    healthcheck:", // 20
    "      test: [CMD, true]", // 21
    "      unknown_field: 1", // 22
    "configs:", // 23
    "  site: {file: ./site.conf}", // 24
    "secrets:", // 25
    "  token: {external: true}", // 26
    "networks:", // 27
    "  back:", // 28
    "    internal: true", // 29
    "frobnicate: 1", // 30
  ].join("\n"));
  assert.deepEqual(
    project.warnings.map((w) => [w.line, w.service, w.kind]),
    [
      [1, null, "obsolete"],
      [9, "web", "unsupported"],
      [11, "web", "unsupported"],
      [12, "web", "unknown"],
      [13, "web", "unknown"],
      [14, "web", "unknown"],
      [15, "web", "unsupported"],
      [19, "api", "unsupported"],
      [22, "api", "unknown"],
      [29, null, "unsupported"],
      [30, null, "unknown"],
    ],
  );
  const messages = project.warnings.map((w) => w.message);
  assert.match(messages[0], /version: is obsolete and was ignored/);
  assert.match(messages[1], /"token" is external: external secrets need swarm mode/);
  assert.match(messages[2], /^Service "web": deploy\.mode is not supported and was ignored$/);
  assert.match(
    messages[7],
    /^Service "api": deploy\.restart_policy is not supported.*would have overridden restart:/,
  );
  assert.match(messages[3], /"isolation" is not supported here and was ignored/);
  assert.match(messages[5], /"logging" is not supported here and was ignored/);
  assert.match(messages[9], /networks\.back\.internal is not supported/);
  assert.match(messages[10], /Unknown top-level key "frobnicate"/);
});

Deno.test("warnings: risky settings are flagged with their lines", () => {
  const project = parse([
    "services:", // 1
    "  web:", // 2
    "    image: nginx", // 3
    "    privileged: true", // 4
    "    cap_add: [NET_ADMIN, SYS_ADMIN]", // 5
    "    pid: host", // 6
    "    devices:", // 7
    '      - "/dev/ttyUSB0:/dev/ttyUSB0"', // 8
    "      - {source: /dev/sda, target: /dev/xvda, permissions: r}", // 9
    "    volumes:", // 10
    "      - /:/host:ro", // 11
    "  net:", // 12
    "    image: busybox", // 13
    "    network_mode: host", // 14
    "    cap_add: [all]", // 15
    "    privileged: false", // 16
  ].join("\n"));
  assert.deepEqual(
    project.warnings.map((w) => [w.line, w.service, w.kind]),
    [
      [4, "web", "risk"],
      [5, "web", "risk"],
      [6, "web", "risk"],
      [7, "web", "risk"],
      [11, "web", "risk"],
      [14, "net", "risk"],
      [15, "net", "risk"],
    ],
  );
  const web = project.services.find((s) => s.name === "web")!;
  assert.equal(web.privileged, true);
  assert.equal(web.pid, "host");
  assert.deepEqual(web.devices, ["/dev/ttyUSB0:/dev/ttyUSB0", "/dev/sda:/dev/xvda:r"]);
  assert.match(project.warnings[0].message, /privileged: true/);
  assert.match(project.warnings[1].message, /cap_add SYS_ADMIN/);
  assert.match(project.warnings[4].message, /whole filesystem/);
  assert.match(project.warnings[5].message, /network_mode: host/);
});

Deno.test("warnings: unknown keys in nested maps name their path", () => {
  const project = parse([
    "services:", // 1
    "  web:", // 2
    "    image: nginx", // 3
    "    ports:", // 4
    "      - target: 80", // 5
    "        flavour: spicy", // 6
    "    volumes:", // 7
    "      - type: bind", // 8
    "        source: ./x", // 9
    "        target: /x", // 10
    "        bind: {propagation: rshared}", // 11
    "      - type: npipe", // 12
    "        source: x", // 13
    "        target: /pipe", // 14
    "    networks:", // 15
    "      default: {link_local_ips: [169.254.1.1]}", // 16
  ].join("\n"));
  assert.deepEqual(
    project.warnings.map((w) => [w.line, w.kind, w.message]),
    [
      [6, "unknown", 'Service "web": unknown key "flavour" in ports[0] was ignored'],
      [
        11,
        "unsupported",
        'Service "web": volumes[0].bind.propagation is not supported and was ignored',
      ],
      [
        12,
        "unsupported",
        'Service "web": volumes[1]: mounts of type "npipe" are not supported; the mount was ignored',
      ],
      [
        16,
        "unsupported",
        'Service "web": networks.default.link_local_ips is not supported and was ignored',
      ],
    ],
  );
  assert.equal(project.services[0].volumes.length, 1);
});
