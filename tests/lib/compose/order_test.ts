import assert from "node:assert/strict";
import { deployOrder } from "../../../lib/compose/order.ts";
import { ComposeError } from "../../../lib/compose/parse.ts";
import { newServiceSpec } from "../../../lib/compose/normalise.ts";
import type { ComposeProject, ServiceSpec } from "../../../lib/compose/types.ts";
import { parse, rejects } from "./helpers.ts";

function project(deps: Record<string, string[]>): ComposeProject {
  const services = Object.keys(deps).sort().map((name, i): ServiceSpec => ({
    ...newServiceSpec(name, i + 1, "nginx"),
    depends_on: Object.fromEntries(
      deps[name].map((dep) => [dep, { condition: "service_started", required: true }]),
    ),
  }));
  return { name: "p", services, networks: {}, volumes: {}, warnings: [] };
}

const order = (deps: Record<string, string[]>) => deployOrder(project(deps)).map((s) => s.name);

Deno.test("deployOrder: dependencies first, alphabetical tie-break", () => {
  assert.deepEqual(order({ c: [], b: [], a: [] }), ["a", "b", "c"]);
  assert.deepEqual(order({ web: ["api"], api: ["db", "cache"], db: [], cache: [] }), [
    "cache",
    "db",
    "api",
    "web",
  ]);
  // z has no dependencies but sorts last; b becomes ready after a and goes before z.
  assert.deepEqual(order({ a: [], b: ["a"], z: [], c: ["b", "z"] }), ["a", "b", "z", "c"]);
  assert.deepEqual(order({ app: ["db"], db: [], admin: [], worker: ["db", "app"] }), [
    "admin",
    "db",
    "app",
    "worker",
  ]);
  // A diamond.
  assert.deepEqual(order({ top: ["left", "right"], left: ["base"], right: ["base"], base: [] }), [
    "base",
    "left",
    "right",
    "top",
  ]);
});

Deno.test("deployOrder: a cycle is a ComposeError naming it", () => {
  const cycle = (deps: Record<string, string[]>, expected: string) => {
    try {
      deployOrder(project(deps));
    } catch (error) {
      assert.ok(error instanceof ComposeError);
      assert.equal(error.status, 400);
      assert.match(
        error.message,
        new RegExp(`^Dependency cycle: ${expected.replace(/>/g, "\\>")}`),
      );
      return;
    }
    assert.fail("expected a cycle");
  };
  cycle({ a: ["b"], b: ["a"] }, "a -> b -> a");
  cycle({ a: ["a"] }, "a -> a");
  cycle({ a: ["b"], b: ["c"], c: ["a"], d: [] }, "a -> b -> c -> a");
  cycle({ x: ["b"], b: ["c"], c: ["x"] }, "b -> c -> x -> b");
  // Services downstream of a cycle are not part of it.
  cycle({ app: ["db"], db: ["cache"], cache: ["db"], web: ["app"] }, "cache -> db -> cache");
});

Deno.test("parseCompose refuses a dependency cycle with its line", () => {
  const error = rejects(
    () =>
      parse([
        "services:",
        "  a:",
        "    image: nginx",
        "    depends_on: [b]",
        "  b:",
        "    image: nginx",
        "    depends_on: [a]",
      ].join("\n")),
    /^Dependency cycle: a -> b -> a \(line 2\)$/,
  );
  assert.equal(error.line, 2);
});

Deno.test("network_mode: service:x orders x first", () => {
  const result = parse([
    "services:",
    "  a-sidecar:",
    "    image: busybox",
    "    network_mode: service:vpn",
    "  vpn:",
    "    image: wireguard",
  ].join("\n"));
  assert.deepEqual(deployOrder(result).map((s) => s.name), ["vpn", "a-sidecar"]);
  // As compose-go implies it: restarted with its target.
  assert.deepEqual(result.services[0].depends_on, {
    vpn: { condition: "service_started", required: true, restart: true },
  });
});
