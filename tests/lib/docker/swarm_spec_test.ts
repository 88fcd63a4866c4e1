/** The service create body as a ServiceSpec, and the views of Engine objects (pure). */
import assert from "node:assert/strict";
import {
  durationNs,
  parseServiceRequest,
  resolveReferences,
} from "../../../lib/docker/swarm_spec.ts";
import {
  type EngineService,
  serviceView,
  specSummary,
} from "../../../lib/docker/swarm_services.ts";
import { servicesUsing } from "../../../lib/docker/swarm_secrets.ts";
import { nodeView } from "../../../lib/docker/swarm.ts";
import { ValidationError } from "../../../lib/errors.ts";

Deno.test("a full create body becomes the spec docker service create would send", () => {
  const request = parseServiceRequest({
    name: "web",
    image: "nginx:1.27",
    command: "nginx -g 'daemon off;'",
    env: { A: "1" },
    ports: [{ published: 8080, target: 80 }],
    replicas: 3,
    constraints: ["node.role==worker"],
    limits: { cpus: 0.5, memory: "256m" },
    reservations: { memory: "64m" },
    update: { parallelism: 2, delay: "10s", failure_action: "rollback", order: "start-first" },
    restart: { condition: "on-failure", delay: "5s", max_attempts: 3 },
    secrets: [{ source: "db_password", target: "db" }],
    configs: [{ source: "nginx_conf", target: "/etc/nginx/nginx.conf" }],
    networks: ["front"],
    labels: { team: "ops" },
  });
  const spec = resolveReferences(
    request,
    [{
      ID: "s1",
      Version: { Index: 1 },
      CreatedAt: "",
      UpdatedAt: "",
      Spec: { Name: "db_password" },
    }],
    [{
      ID: "c1",
      Version: { Index: 1 },
      CreatedAt: "",
      UpdatedAt: "",
      Spec: { Name: "nginx_conf" },
    }],
  );
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.Args, ["nginx", "-g", "daemon off;"]);
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.Env, ["A=1"]);
  assert.deepEqual(spec.Mode, { Replicated: { Replicas: 3 } });
  assert.deepEqual(spec.EndpointSpec?.Ports, [
    { TargetPort: 80, PublishedPort: 8080, Protocol: "tcp", PublishMode: "ingress" },
  ]);
  assert.deepEqual(spec.TaskTemplate.Resources, {
    Limits: { NanoCPUs: 500_000_000, MemoryBytes: 256 * 1024 * 1024 },
    Reservations: { MemoryBytes: 64 * 1024 * 1024 },
  });
  assert.equal(spec.UpdateConfig?.Delay, 10e9);
  assert.equal(spec.UpdateConfig?.FailureAction, "rollback");
  assert.equal(spec.TaskTemplate.RestartPolicy?.MaxAttempts, 3);
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.Secrets, [
    {
      File: { Name: "db", UID: "0", GID: "0", Mode: 0o444 },
      SecretID: "s1",
      SecretName: "db_password",
    },
  ]);
  assert.equal(spec.TaskTemplate.ContainerSpec.Configs?.[0].File.Name, "/etc/nginx/nginx.conf");
  assert.deepEqual(spec.TaskTemplate.Networks, [{ Target: "front" }]);
  assert.deepEqual(spec.TaskTemplate.Placement, { Constraints: ["node.role==worker"] });
});

Deno.test("bad create bodies are refused naming the field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ image: "x" }, "name"],
    [{ name: "-bad", image: "x" }, "name"],
    [{ name: "ok" }, "image"],
    [{ name: "ok", image: "UPPER" }, "image"],
    [{ name: "ok", image: "x", mode: "both" }, "mode"],
    [{ name: "ok", image: "x", replicas: 1001 }, "replicas"],
    [{ name: "ok", image: "x", constraints: ["node.role"] }, "constraints"],
    [{ name: "ok", image: "x", limits: { memory: "1m" } }, "limits.memory"],
    [{ name: "ok", image: "x", secrets: [{ source: "s", target: "../etc/passwd" }] }, "secrets"],
    [{ name: "ok", image: "x", configs: [{ source: "c", target: "/etc/../x" }] }, "configs"],
    [{ name: "ok", image: "x", restart: { condition: "always" } }, "restart.condition"],
    [{ name: "ok", image: "x", env: ["NOEQUALS"] }, "env"],
  ];
  for (const [body, field] of cases) {
    assert.throws(
      () => parseServiceRequest(body),
      (error) => error instanceof ValidationError && error.field === field,
      JSON.stringify(body),
    );
  }
  assert.throws(
    () =>
      resolveReferences(parseServiceRequest({ name: "ok", image: "x", secrets: ["nope"] }), [], []),
    /No secret named nope/,
  );
});

Deno.test("durations", () => {
  assert.equal(durationNs("1m30s", "d"), 90e9);
  assert.equal(durationNs("500ms", "d"), 500e6);
  assert.equal(durationNs(2, "d"), 2e9);
  assert.equal(durationNs(undefined, "d"), undefined);
  assert.throws(() => durationNs("10", "d"), ValidationError);
  assert.throws(() => durationNs(-1, "d"), ValidationError);
});

const service = (overrides: Partial<EngineService> = {}): EngineService => ({
  ID: "svc1",
  Version: { Index: 7 },
  CreatedAt: "2026-01-01T00:00:00Z",
  UpdatedAt: "2026-01-02T00:00:00Z",
  Spec: {
    Name: "app_web",
    Labels: { "com.docker.stack.namespace": "app" },
    TaskTemplate: {
      ContainerSpec: {
        Image: `nginx:1.27@sha256:${"a".repeat(64)}`,
        Env: ["PASSWORD=hunter2", "MODE=prod"],
        Secrets: [{
          File: { Name: "db", UID: "0", GID: "0", Mode: 0o444 },
          SecretID: "s1",
          SecretName: "db_password",
        }],
      },
    },
    Mode: { Replicated: { Replicas: 2 } },
  },
  ServiceStatus: { RunningTasks: 1, DesiredTasks: 2 },
  UpdateStatus: { State: "paused", Message: "update paused due to failure" },
  ...overrides,
});

Deno.test("service views: digest dropped, stack named, env values never shown", () => {
  const view = serviceView(service());
  assert.equal(view.image, "nginx:1.27");
  assert.equal(view.stack, "app");
  assert.equal(view.mode, "replicated");
  assert.equal(view.replicas_running, 1);
  assert.deepEqual(view.update_status, {
    state: "paused",
    message: "update paused due to failure",
  });
  const summary = specSummary(service().Spec);
  assert.deepEqual(summary.env_keys, ["PASSWORD", "MODE"]);
  assert.ok(!JSON.stringify(summary).includes("hunter2"));
  assert.deepEqual(servicesUsing([service()], "secret", "s1"), ["app_web"]);
  assert.deepEqual(servicesUsing([service()], "secret", "s2"), []);
});

Deno.test("node views", () => {
  const view = nodeView({
    ID: "n1",
    Version: { Index: 3 },
    CreatedAt: "",
    UpdatedAt: "",
    Spec: { Role: "manager", Availability: "drain", Labels: { zone: "a" } },
    Description: { Hostname: "m1", Engine: { EngineVersion: "20.10.24" } },
    Status: { State: "ready", Addr: "0.0.0.0" },
    ManagerStatus: { Leader: true, Reachability: "reachable", Addr: "198.18.0.10:2377" },
  });
  assert.deepEqual(view, {
    id: "n1",
    hostname: "m1",
    role: "manager",
    availability: "drain",
    state: "ready",
    address: "198.18.0.10",
    engine_version: "20.10.24",
    labels: { zone: "a" },
    leader: true,
    manager_reachability: "reachable",
  });
});
