import assert from "node:assert/strict";
import {
  createBody,
  parsePort,
  parseRestart,
  parseRunSpec,
  parseVolume,
} from "../../lib/docker/run_spec.ts";
import { ValidationError } from "../../lib/errors.ts";
import { splitShellwords } from "../../lib/shellwords.ts";

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  assert.fail("expected a ValidationError");
}

Deno.test("ports: short and object forms", () => {
  assert.deepEqual(parsePort("8080:80", "p"), {
    hostIp: "",
    hostPort: "8080",
    containerPort: 80,
    proto: "tcp",
  });
  assert.deepEqual(parsePort("127.0.0.1:8080:80/udp", "p"), {
    hostIp: "127.0.0.1",
    hostPort: "8080",
    containerPort: 80,
    proto: "udp",
  });
  assert.deepEqual(parsePort("[::1]:53:53/udp", "p"), {
    hostIp: "::1",
    hostPort: "53",
    containerPort: 53,
    proto: "udp",
  });
  assert.deepEqual(parsePort("80", "p"), {
    hostIp: "",
    hostPort: "",
    containerPort: 80,
    proto: "tcp",
  });
  assert.deepEqual(parsePort({ container_port: 443, host_port: 8443, host_ip: "127.0.0.1" }, "p"), {
    hostIp: "127.0.0.1",
    hostPort: "8443",
    containerPort: 443,
    proto: "tcp",
  });
  for (
    const bad of ["70000:80", "80:0", "a:b", "1.2.3:80:80", "80/icmp", "1:2:3:4", "8080:", 80, {
      host_port: 1,
    }]
  ) {
    assert.equal(fieldOf(() => parsePort(bad, "ports[3]")), "ports[3]", JSON.stringify(bad));
  }
});

Deno.test("volumes: named, bind and object forms; traversal and relative paths refused", () => {
  assert.equal(parseVolume("data:/var/lib/data", "v"), "data:/var/lib/data");
  assert.equal(parseVolume("/srv/www:/www:ro", "v"), "/srv/www:/www:ro");
  assert.equal(
    parseVolume({ type: "bind", source: "/etc/hosts", target: "/h", read_only: true }, "v"),
    "/etc/hosts:/h:ro",
  );
  for (
    const bad of ["data", "data:relative", "/a/../etc:/x", "./x:/y", "data:/x:zz", "a:b:c:d", {
      source: "x",
    }]
  ) {
    assert.equal(fieldOf(() => parseVolume(bad, "volumes[0]")), "volumes[0]", JSON.stringify(bad));
  }
});

Deno.test("restart policies", () => {
  assert.deepEqual(parseRestart("no"), { Name: "no" });
  assert.deepEqual(parseRestart("unless-stopped"), { Name: "unless-stopped" });
  assert.deepEqual(parseRestart("on-failure:5"), { Name: "on-failure", MaximumRetryCount: 5 });
  for (const bad of ["sometimes", "on-failure:x", "always:3", 3]) {
    assert.equal(fieldOf(() => parseRestart(bad)), "restart_policy");
  }
});

Deno.test("a whole spec: env as list or map, cmd as list or command line, unknown fields refused", () => {
  const spec = parseRunSpec({
    image: "cm-test/busybox:latest",
    name: "web-1",
    env: { A: "1", B: 2, C: true, D: null },
    ports: ["8080:80"],
    volumes: ["data:/data"],
    restart_policy: "always",
    cmd: `sh -c "echo 'hi there'"`,
  });
  assert.deepEqual(spec.env, ["A=1", "B=2", "C=true", "D="]);
  assert.deepEqual(spec.cmd, ["sh", "-c", "echo 'hi there'"]);
  const body = createBody(spec, { managed: "true" });
  assert.deepEqual(body.ExposedPorts, { "80/tcp": {} });
  assert.deepEqual(body.HostConfig?.PortBindings, { "80/tcp": [{ HostIp: "", HostPort: "8080" }] });
  assert.deepEqual(body.HostConfig?.Binds, ["data:/data"]);

  assert.equal(fieldOf(() => parseRunSpec({ image: "x", env: ["NOEQUALS"] })), "env[0]");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", env: ["1BAD=x"] })), "env[0]");
  assert.equal(fieldOf(() => parseRunSpec({ image: "", env: [] })), "image");
  assert.equal(fieldOf(() => parseRunSpec({ image: "Bad Image" })), "image");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", name: "-bad" })), "name");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", name: "a/b" })), "name");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", pid_mode: "host" })), "pid_mode");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", cmd: "echo 'open" })), "cmd");
  assert.equal(fieldOf(() => parseRunSpec({ image: "x", cmd: [1] })), "cmd");
});

Deno.test("shellwords splits like go-shellwords without any expansion", () => {
  assert.deepEqual(splitShellwords(`a  b\t"c d" 'e "f"' g\\ h "i\\"j" $HOME`), [
    "a",
    "b",
    "c d",
    'e "f"',
    "g h",
    'i"j',
    "$HOME",
  ]);
  assert.deepEqual(splitShellwords(`""`), [""]);
  assert.deepEqual(splitShellwords("   "), []);
  assert.throws(() => splitShellwords(`"open`), /Unterminated double quote/);
});

Deno.test("the wider run fields: networks with aliases, labels, entrypoint, user, limits, caps, devices, logging, healthcheck", () => {
  const spec = parseRunSpec({
    image: "busybox",
    networks: ["front", { name: "back", aliases: ["api", "db-client"] }],
    labels: { "com.example.team": "ops" },
    entrypoint: "sh -c",
    cmd: ["echo hi"],
    working_dir: "/srv",
    user: "nobody:nogroup",
    hostname: "web-1.internal",
    memory: "256m",
    cpus: "1.5",
    cap_add: ["net_admin"],
    cap_drop: ["CAP_MKNOD"],
    devices: ["/dev/fuse", "/dev/sda:/dev/xvda:r"],
    privileged: false,
    log_driver: "json-file",
    log_options: { "max-size": "10m" },
    healthcheck: { test: "wget -q -O- localhost", interval: "30s", timeout: "5s", retries: 3 },
  });
  const body = createBody(spec, { "io.panel": "true" });
  assert.deepEqual(body.Entrypoint, ["sh", "-c"]);
  assert.equal(body.WorkingDir, "/srv");
  assert.equal(body.User, "nobody:nogroup");
  assert.equal(body.Hostname, "web-1.internal");
  assert.deepEqual(body.Labels, { "com.example.team": "ops", "io.panel": "true" });
  assert.deepEqual(body.Healthcheck, {
    Test: ["CMD-SHELL", "wget -q -O- localhost"],
    Interval: 30e9,
    Timeout: 5e9,
    Retries: 3,
    StartPeriod: undefined,
  });
  const host = body.HostConfig!;
  assert.equal(host.Memory, 256 * 1024 * 1024);
  assert.equal(host.NanoCpus, 1.5e9);
  assert.deepEqual(host.CapAdd, ["NET_ADMIN"]);
  assert.deepEqual(host.CapDrop, ["MKNOD"]);
  assert.deepEqual(host.Devices, [
    { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
    { PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r" },
  ]);
  assert.deepEqual(host.LogConfig, { Type: "json-file", Config: { "max-size": "10m" } });
  assert.equal(host.NetworkMode, "front");
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { front: {} } });
  assert.deepEqual(spec.networks[1], { name: "back", aliases: ["api", "db-client"] });
});

Deno.test("every wider run field names itself when wrong", () => {
  const base = { image: "busybox" };
  const cases: [Record<string, unknown>, string][] = [
    [{ networks: ["front", "front"] }, "networks[1]"],
    [{ networks: ["host"] }, "networks[0]"],
    [{ networks: [{ name: "x", aliases: ["bad alias"] }] }, "networks[0].aliases"],
    [{ networks: [{ name: "x", ip: "1.2.3.4" }] }, "networks[0]"],
    [{ labels: { "bad key!": "x" } }, "labels"],
    [{ entrypoint: 'sh "-c' }, "entrypoint"],
    [{ working_dir: "relative/path" }, "working_dir"],
    [{ user: "root; rm" }, "user"],
    [{ hostname: "-bad-" }, "hostname"],
    [{ memory: "1m" }, "memory"],
    [{ cpus: "lots" }, "cpus"],
    [{ cap_add: ["NOT A CAP"] }, "cap_add"],
    [{ cap_drop: [5] }, "cap_drop"],
    [{ devices: ["/etc/passwd"] }, "devices[0]"],
    [{ devices: ["/dev/../etc/shadow"] }, "devices[0]"],
    [{ privileged: "yes" }, "privileged"],
    [{ log_driver: "carrier-pigeon" }, "log_driver"],
    [{ log_options: { "max-size": "1m" } }, "log_options"],
    [{ healthcheck: { test: [] } }, "healthcheck.test"],
    [{ healthcheck: { test: "true", interval: "soon" } }, "healthcheck.interval"],
    [{ healthcheck: { test: "true", retries: 0 } }, "healthcheck.retries"],
    [{ healthcheck: { test: "true", every: "1s" } }, "healthcheck.every"],
  ];
  for (const [extra, field] of cases) {
    assert.equal(fieldOf(() => parseRunSpec({ ...base, ...extra })), field, JSON.stringify(extra));
  }
});
