import assert from "node:assert/strict";
import { rejects, service, web } from "./helpers.ts";

const tcp = (target: number, published = "", host_ip = "") => ({
  host_ip,
  published,
  target,
  protocol: "tcp",
});

function portsOf(lines: string[]) {
  return service(web(["ports:", ...lines.map((l) => `  - ${l}`)].join("\n"))).ports;
}

Deno.test("ports: short syntax", () => {
  assert.deepEqual(portsOf(['"80"']), [tcp(80)]);
  assert.deepEqual(portsOf(["80"]), [tcp(80)]); // a YAML number
  assert.deepEqual(portsOf(['"8080:80"']), [tcp(80, "8080")]);
  assert.deepEqual(portsOf(['"127.0.0.1:8080:80"']), [tcp(80, "8080", "127.0.0.1")]);
  assert.deepEqual(portsOf(['"[::1]:80:80"']), [tcp(80, "80", "::1")]);
  assert.deepEqual(portsOf(['"127.0.0.1::80"']), [tcp(80, "", "127.0.0.1")]);
  assert.deepEqual(portsOf(['"53:53/udp"']), [{ ...tcp(53, "53"), protocol: "udp" }]);
  assert.deepEqual(portsOf(['"9000:9000/sctp"']), [{ ...tcp(9000, "9000"), protocol: "sctp" }]);
  assert.deepEqual(portsOf(['"8080-8081:80-81"']), [tcp(80, "8080"), tcp(81, "8081")]);
  assert.deepEqual(portsOf(['"80-81"']), [tcp(80), tcp(81)]);
  // A host range for one container port: the Engine picks a free port in it.
  assert.deepEqual(portsOf(['"8080-8090:80"']), [tcp(80, "8080-8090")]);
  assert.deepEqual(
    portsOf(['"127.0.0.1:5000-5001:5000-5001/udp"']),
    [
      { ...tcp(5000, "5000", "127.0.0.1"), protocol: "udp" },
      { ...tcp(5001, "5001", "127.0.0.1"), protocol: "udp" },
    ],
  );
});

Deno.test("ports: long syntax", () => {
  assert.deepEqual(
    portsOf([
      "target: 80",
      "{target: 80, published: 8080}",
      '{target: 80, published: "8081", host_ip: 127.0.0.1, protocol: tcp, mode: host}',
      "{target: 53, published: 5353, protocol: udp}",
      '{target: 80, published: "9000-9010"}',
      "{target: 443, host_ip: '::1', name: https, app_protocol: https}",
    ]),
    [
      tcp(80),
      tcp(80, "8080"),
      tcp(80, "8081", "127.0.0.1"),
      { ...tcp(53, "5353"), protocol: "udp" },
      tcp(80, "9000-9010"),
      tcp(443, "", "::1"),
    ],
  );
});

Deno.test("ports: interpolated values", () => {
  const spec = service(web('ports:\n  - "${PORT:-8080}:80"'), "web", { env: "PORT=9090" });
  assert.deepEqual(spec.ports, [tcp(80, "9090")]);
});

Deno.test("ports: invalid entries are a 400 naming the service and the entry", () => {
  const bad = (entry: string, pattern: RegExp) => {
    const error = rejects(() => portsOf([entry]), pattern);
    assert.match(error.message, /Service "web": ports\[0\]/);
    assert.match(error.message, /\(line 5\)$/);
  };
  bad('"8080-8082:80-81"', /differ in size/);
  bad('"0:80"', /host port must be a number from 1 to 65535/);
  bad('"70000"', /container port must be a number from 1 to 65535/);
  bad('"80:http"', /container port/);
  bad('"81-80"', /runs backwards/);
  bad('"80/xyz"', /protocol must be tcp, udp or sctp/);
  bad('"999.1.1.1:80:80"', /is not an IP address/);
  bad('"8080:"', /has no container port/);
  bad("{published: 80}", /needs a target port/);
  bad("{target: 80, published: 0}", /host port/);
  bad("[80]", /must be a string like "8080:80" or a map/);
  rejects(() => service(web("ports: 80")), /ports must be a list/);
});

Deno.test("expose: ports, ranges and protocols", () => {
  assert.deepEqual(
    service(web('expose:\n  - 80\n  - "8080/udp"\n  - "9000-9001"')).expose,
    ["80", "8080/udp", "9000-9001"],
  );
  rejects(() => service(web("expose:\n  - abc")), /Service "web": expose\[0\] "abc"/);
  rejects(() => service(web("expose:\n  - 0")), /expose\[0\]/);
});
