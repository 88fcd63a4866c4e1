import assert from "node:assert/strict";
import { parse, rejects, service } from "./helpers.ts";

Deno.test("extends: same file, merged as compose-go merges (local wins, lists append)", () => {
  const yaml = `
services:
  base:
    image: busybox
    command: sleep 1
    environment: [A=1, B=2]
    labels: {tier: base}
    ports: ["8080:80"]
    volumes: [data:/data, ./conf:/conf]
    networks: [back]
    healthcheck: {test: [CMD, "true"], interval: 5s}
  web:
    extends: base
    command: [sleep, "2"]
    environment: {B: "3", C: "4"}
    ports: ["8443:443"]
    volumes: [./other:/conf]
    networks: [front]
    healthcheck: {test: [CMD, "false"]}
  worker:
    extends: {service: web}
    image: httpd
volumes:
  data: {}
networks:
  back: {}
  front: {}
`;
  const project = parse(yaml);
  const web = project.services.find((s) => s.name === "web")!;
  assert.equal(web.image, "busybox");
  assert.deepEqual(web.command, ["sleep", "2"]);
  assert.deepEqual(web.environment, { A: "1", B: "3", C: "4" });
  assert.deepEqual(web.labels, { tier: "base" });
  assert.deepEqual(web.ports.map((p) => p.target), [80, 443]);
  assert.deepEqual(web.volumes.map((v) => [v.target, "source" in v ? v.source : null]), [
    ["/data", "data"],
    ["/conf", "./other"],
  ]);
  assert.deepEqual(Object.keys(web.networks), ["back", "front"]);
  assert.deepEqual(web.healthcheck, { test: ["CMD", "false"], interval_ms: 5000 });
  const worker = project.services.find((s) => s.name === "worker")!;
  assert.equal(worker.image, "httpd");
  assert.deepEqual(worker.environment, web.environment);
  // The base is not changed by the services built on it.
  assert.deepEqual(project.services.find((s) => s.name === "base")!.environment, {
    A: "1",
    B: "2",
  });
});

Deno.test("extends: a file in the stack directory, with its relative paths rebased", () => {
  const files = {
    "common/base.yml":
      "services:\n  app:\n    image: busybox\n    volumes: [./conf:/conf]\n    environment: {X: '${X:-x}'}\n",
  };
  const web = service(
    "services:\n  web:\n    extends: {file: ./common/base.yml, service: app}\n    command: sleep 5\n",
    "web",
    { files, env: "X=from-env\n" },
  );
  assert.equal(web.image, "busybox");
  assert.deepEqual(web.command, ["sleep", "5"]);
  assert.deepEqual(web.environment, { X: "from-env" });
  assert.deepEqual(web.volumes.map((v) => "source" in v && v.source), ["./common/conf"]);
});

Deno.test("extends: missing services, missing files, escapes and cycles are a 400", () => {
  rejects(
    () => parse("services:\n  web:\n    extends: nope\n"),
    /extends: the service "nope" is not defined/,
  );
  rejects(
    () => parse("services:\n  web:\n    extends: {file: base.yml, service: app}\n"),
    /the file "base.yml" is not in the stack directory/,
  );
  rejects(
    () =>
      parse("services:\n  web:\n    extends: {file: ../../etc/x.yml, service: app}\n", {
        files: { "x.yml": "" },
      }),
    /outside the stack directory/,
  );
  rejects(
    () => parse("services:\n  a:\n    extends: b\n  b:\n    extends: a\n"),
    /extends makes a cycle/,
  );
});
