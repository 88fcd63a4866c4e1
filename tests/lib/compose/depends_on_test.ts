import assert from "node:assert/strict";
import { findWarning, parse, rejects } from "./helpers.ts";

Deno.test("depends_on: required: false on a service that is not in the file is dropped", () => {
  const project = parse(
    "services:\n  web:\n    image: nginx\n    depends_on:\n" +
      "      cache: {condition: service_started, required: false}\n      db: {condition: service_healthy}\n" +
      "  db:\n    image: postgres\n",
  );
  const web = project.services.find((s) => s.name === "web")!;
  assert.deepEqual(Object.keys(web.depends_on), ["db"]);
  const warning = findWarning(project.warnings, "unknown", /optional dependency.*was dropped/);
  assert.equal(warning.line, 5);
  rejects(
    () => parse("services:\n  web:\n    image: nginx\n    depends_on: [cache]\n"),
    /depends_on names the unknown service "cache"/,
  );
});

Deno.test("files without services: (networks or volumes only) are projects", () => {
  const project = parse("name: shared\nnetworks:\n  edge: {}\nvolumes:\n  data: {}\n");
  assert.deepEqual(project.services, []);
  assert.deepEqual(project.networks, { edge: { name: "demo_edge", external: false } });
  assert.deepEqual(project.volumes, { data: { name: "demo_data", external: false } });
  assert.deepEqual(parse("services: {}\n").services, []);
});

Deno.test("x- names: volumes, networks and services whose names start with x- are real", () => {
  const project = parse(
    "x-base: &base\n  image: busybox\nservices:\n  x-worker:\n    <<: *base\n" +
      "    volumes: [x-data:/data]\n    networks: [x-net]\n" +
      "volumes:\n  x-data: {}\nnetworks:\n  x-net: {}\n",
  );
  assert.deepEqual(project.services.map((s) => s.name), ["x-worker"]);
  assert.deepEqual(project.services[0].volumes, [
    { type: "volume", source: "x-data", target: "/data", read_only: false },
  ]);
  assert.deepEqual(project.volumes["x-data"], { name: "demo_x-data", external: false });
  assert.deepEqual(project.networks["x-net"], { name: "demo_x-net", external: false });
});
