import assert from "node:assert/strict";
import { parse, rejects, service } from "./helpers.ts";

const IPAM = `
networks:
  front:
    ipam:
      driver: default
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
        - subnet: "fd00:28::/64"
    enable_ipv6: true
  back: {}
`;

Deno.test("networks: ipam driver, subnets, ranges and gateways", () => {
  const project = parse(`services:\n  web:\n    image: nginx\n    networks: [front]\n${IPAM}`);
  assert.deepEqual(project.networks.front, {
    name: "demo_front",
    external: false,
    enable_ipv6: true,
    ipam: {
      driver: "default",
      config: [
        { subnet: "172.28.0.0/16", ip_range: "172.28.5.0/24", gateway: "172.28.5.254" },
        { subnet: "fd00:28::/64" },
      ],
    },
  });
  const bad = (config: string) =>
    parse(`services:\n  web: {image: nginx}\nnetworks:\n  n:\n    ipam:\n      config:\n${config}`);
  rejects(() => bad("        - subnet: 10.0.0.0/33\n"), /ipam\.config\[0\]\.subnet/);
  rejects(
    () => bad("        - subnet: 10.1.0.0/16\n          gateway: 10.2.0.1\n"),
    /gateway 10\.2\.0\.1 is outside the subnet 10\.1\.0\.0\/16/,
  );
  rejects(
    () => bad("        - subnet: 10.1.0.0/16\n        - subnet: 10.1.2.0/24\n"),
    /overlaps 10\.1\.0\.0\/16/,
  );
});

Deno.test("networks: ipv4_address and ipv6_address need a subnet that holds them", () => {
  const web = service(
    `services:\n  web:\n    image: nginx\n    networks:\n      front:\n` +
      `        ipv4_address: 172.28.5.4\n        ipv6_address: "fd00:28::10"\n${IPAM}`,
  );
  assert.deepEqual(web.networks, {
    front: { aliases: [], ipv4_address: "172.28.5.4", ipv6_address: "fd00:28::10" },
  });
  const error = rejects(
    () =>
      parse(
        `services:\n  web:\n    image: nginx\n    networks:\n      back: {ipv4_address: 10.0.0.2}\n${IPAM}`,
      ),
    /back\.ipv4_address needs an IPv4 subnet under networks\.back\.ipam\.config/,
  );
  assert.equal(error.line, 5);
  rejects(
    () =>
      parse(
        `services:\n  web:\n    image: nginx\n    networks:\n      front: {ipv4_address: 10.0.0.2}\n${IPAM}`,
      ),
    /10\.0\.0\.2 is outside the subnet/,
  );
  rejects(
    () =>
      parse(
        `services:\n  web:\n    image: nginx\n    networks:\n      front: {ipv4_address: "fd00:28::1"}\n${IPAM}`,
      ),
    /is not an IPv4 address/,
  );
});

Deno.test("networks: the primary network is the highest priority, then the first by name", () => {
  const file = (web: string) => `services:\n  web:\n    image: nginx\n    networks:\n${web}${IPAM}`;
  // File order says back first; by name front comes first.
  assert.deepEqual(
    Object.keys(service(file("      back: {}\n      front: {}\n")).networks),
    ["back", "front"].sort(),
  );
  const web = service(file("      front: {priority: 1}\n      back: {priority: 5}\n"));
  assert.deepEqual(Object.keys(web.networks), ["back", "front"]);
  assert.equal(web.networks.back.priority, 5);
  assert.deepEqual(
    Object.keys(service(file("      back: {}\n      front: {priority: 10}\n")).networks),
    ["front", "back"],
  );
  assert.deepEqual(
    Object.keys(service(file("      - front\n      - back\n")).networks),
    ["back", "front"],
  );
});
