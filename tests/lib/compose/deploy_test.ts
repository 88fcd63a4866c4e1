import assert from "node:assert/strict";
import { findWarning, parse, rejects, service, web } from "./helpers.ts";

Deno.test("deploy.resources: limits and reservations as the CLI applies them outside swarm", () => {
  const spec = service(web(
    "deploy:\n  resources:\n    limits: {memory: 64M, cpus: '0.5', pids: 100}\n" +
      "    reservations: {memory: 32m, cpus: '0.25'}",
  ));
  assert.deepEqual(spec.resources, {
    memory_bytes: 64 * 1024 * 1024,
    nano_cpus: 500_000_000,
    pids: 100,
    memory_reservation_bytes: 32 * 1024 * 1024,
  });
  const project = parse(web("deploy:\n  resources:\n    reservations: {cpus: 1}"));
  findWarning(project.warnings, "unsupported", /reservations\.cpus is not supported/);
  assert.equal(
    service(web("deploy:\n  resources:\n    limits: {memory: 1073741824}")).resources
      ?.memory_bytes,
    1024 ** 3,
  );
  rejects(() => parse(web("deploy:\n  resources:\n    limits: {memory: lots}")), /must be a size/);
  rejects(() => parse(web("deploy:\n  resources:\n    limits: {cpus: -1}")), /number of CPUs/);
  rejects(
    () =>
      parse(
        web("deploy:\n  resources:\n    limits: {memory: 16m}\n    reservations: {memory: 32m}"),
      ),
    /reservation is larger than the memory limit/,
  );
});

Deno.test("deploy.replicas: 0 creates nothing; 1 is the default; others are kept", () => {
  const none = parse(web("deploy: {replicas: 0}"));
  assert.deepEqual(none.services, []);
  findWarning(none.warnings, "unsupported", /replicas is 0, so no container is created/);
  assert.equal(service(web("deploy: {replicas: 1}")).replicas, undefined);
  const three = parse(web("deploy: {replicas: 3}"));
  assert.equal(three.services[0].replicas, 3);
  assert.equal(three.warnings.some((w) => /replicas/.test(w.message)), false);
  // Replicas need distinct names, as the CLI says.
  rejects(
    () => parse(web("container_name: fixed\ndeploy: {replicas: 2}")),
    /container_name "fixed".*2 replicas/,
  );
  rejects(() => parse(web("deploy: {replicas: 1000}")), /replicas must be a whole number/);
});
