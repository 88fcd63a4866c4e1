import assert from "node:assert/strict";
import {
  EMPTY_SERVICE,
  keyValues,
  parsePort,
  portText,
  serviceBody,
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
});

Deno.test("keyValues, shortImage and since", () => {
  assert.deepEqual(keyValues("a=1\n\n b=2 ", "Label"), { a: "1", b: "2" });
  assert.equal(keyValues("=1", "Label"), 'Label "=1" needs the form KEY=value');
  assert.equal(shortImage(`busybox:1@sha256:${"a".repeat(64)}`), "busybox:1");
  assert.equal(since("2026-01-01T00:00:00Z", Date.parse("2026-01-01T00:05:00Z")), "5 min ago");
  assert.equal(since(undefined), "—");
});
