import assert from "node:assert/strict";
import {
  EMPTY_SERVICE,
  keyValues,
  parsePort,
  portText,
  serviceBody,
  serviceFieldOf,
  shortImage,
  since,
} from "../../islands/swarm/format.ts";

Deno.test("parsePort reads published:target/protocol and refuses the rest", () => {
  assert.deepEqual(parsePort("8080:80"), { published: 8080, target: 80, protocol: "tcp" });
  assert.deepEqual(parsePort(" 53:53/udp "), { published: 53, target: 53, protocol: "udp" });
  assert.deepEqual(parsePort("80"), { target: 80, protocol: "tcp" });
  assert.equal(typeof parsePort("80:http"), "string");
  assert.equal(typeof parsePort("70000:80"), "string");
  assert.equal(portText({ published: 8080, target: 80, protocol: "tcp" }), "8080→80/tcp");
  assert.equal(portText({ target: 80, protocol: "tcp" }), "80/tcp");
});

Deno.test("serviceBody builds the create body and names the field to fix", () => {
  assert.deepEqual(
    serviceBody({
      ...EMPTY_SERVICE,
      name: "web",
      image: "busybox",
      replicas: "3",
      ports: "8080:80",
      env: "A=1\nB=x=y",
      constraints: "node.role==worker",
      cpus: "0.5",
      memory: "64m",
    }),
    {
      body: {
        name: "web",
        image: "busybox",
        mode: "replicated",
        replicas: 3,
        ports: [{ published: 8080, target: 80, protocol: "tcp" }],
        env: { A: "1", B: "x=y" },
        constraints: ["node.role==worker"],
        limits: { cpus: 0.5, memory: "64m" },
      },
    },
  );
  assert.deepEqual(serviceBody({ ...EMPTY_SERVICE, name: "g", image: "i", mode: "global" }), {
    body: { name: "g", image: "i", mode: "global" },
  });
  const field = (form: Partial<typeof EMPTY_SERVICE>) => {
    const result = serviceBody({ ...EMPTY_SERVICE, name: "a", image: "i", ...form });
    return "field" in result ? result.field : null;
  };
  assert.equal(field({ name: "" }), "name");
  assert.equal(field({ image: " " }), "image");
  assert.equal(field({ replicas: "-1" }), "replicas");
  assert.equal(field({ ports: "x" }), "ports");
  assert.equal(field({ env: "NOVALUE" }), "env");
  assert.equal(field({ constraints: "role worker" }), "constraints");
  assert.equal(field({ cpus: "0" }), "cpus");
  assert.equal(field({ memory: "lots" }), "memory");
  assert.equal(field({ secrets: "a b" }), "secrets");
  assert.equal(field({ update_parallelism: "x" }), "update_parallelism");
  assert.equal(field({ update_delay: "10" }), "update_delay");
  assert.equal(field({ restart_max_attempts: "-1" }), "restart_max_attempts");
});

Deno.test("serviceBody sends secrets, update and restart policy only when given", () => {
  assert.deepEqual(
    serviceBody({
      ...EMPTY_SERVICE,
      name: "db",
      image: "i",
      secrets: "db_password, api_key",
      update_parallelism: "2",
      update_delay: "10s",
      update_failure_action: "rollback",
      update_order: "start-first",
      restart_condition: "on-failure",
      restart_max_attempts: "3",
    }),
    {
      body: {
        name: "db",
        image: "i",
        mode: "replicated",
        replicas: 1,
        secrets: [{ source: "db_password" }, { source: "api_key" }],
        update: { parallelism: 2, delay: "10s", failure_action: "rollback", order: "start-first" },
        restart: { condition: "on-failure", max_attempts: 3 },
      },
    },
  );
});

Deno.test("serviceFieldOf maps the server's field names to the form's", () => {
  assert.equal(serviceFieldOf("update.delay"), "update_delay");
  assert.equal(serviceFieldOf("restart.max_attempts"), "restart_max_attempts");
  assert.equal(serviceFieldOf("secrets[0].source"), "secrets");
  assert.equal(serviceFieldOf("limits.memory"), "memory");
  assert.equal(serviceFieldOf("image"), "image");
  assert.equal(serviceFieldOf("networks"), undefined);
});

Deno.test("keyValues, shortImage and since", () => {
  assert.deepEqual(keyValues("a=1\n\n b=2 ", "Label"), { a: "1", b: "2" });
  assert.equal(keyValues("=1", "Label"), 'Label "=1" needs the form KEY=value');
  assert.equal(shortImage(`busybox:1@sha256:${"a".repeat(64)}`), "busybox:1");
  assert.equal(since("2026-01-01T00:00:00Z", Date.parse("2026-01-01T00:05:00Z")), "5 min ago");
  assert.equal(since(undefined), "—");
});
