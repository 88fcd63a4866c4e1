/**
 * The Engine's errors in words (lib/docker/error_text.ts): a port in use names the container
 * publishing it, a duplicate compose container name names the existing container without its
 * 64-character id, and a failed pull says the image does not exist or the credentials were
 * refused. The Engine's own text stays under `details`.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../fixtures/app.ts";
import { makeTestContainer, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { freePort, pushToRegistry, startRegistry } from "../fixtures/registry.ts";
import { pullError } from "../../lib/docker/error_text.ts";

Deno.test("run: a host port in use names the container publishing it", async () => {
  await using engine = await testEngine("cmerr");
  const t = await createTestApp({ docker: engine.docker });
  try {
    const admin = t.cookieFor(await t.addUser("errors-admin", "admin"));
    const port = freePort();
    await makeTestContainer(engine.docker, engine.prefix, "holder", {
      Cmd: ["sleep", "300"],
      ExposedPorts: { "80/tcp": {} },
      HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] } },
    });
    const response = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: {
        image: TEST_IMAGE,
        name: `${engine.prefix}second`,
        cmd: "sleep 300",
        ports: [`127.0.0.1:${port}:80`],
      },
    });
    const body = await response.json();
    assert.equal(response.status, 409, JSON.stringify(body));
    assert.equal(
      body.error,
      `Port ${port} on the host is already published by container "${engine.prefix}holder"`,
    );
    assert.equal(body.field, "ports");
    assert.match(body.details, /port is already allocated/);
  } finally {
    await t.close();
  }
});

Deno.test("compose create: a duplicate name names the existing container, not its id", async () => {
  await using engine = await testEngine("cmerr");
  const t = await createTestApp({ docker: engine.docker });
  try {
    const name = `${engine.prefix}taken`;
    await makeTestContainer(engine.docker, engine.prefix, "taken", { Cmd: ["sleep", "300"] });
    const error = await t.deps.dispatcher.dispatch({
      verb: "docker.create",
      target: name,
      params: { name, image: TEST_IMAGE },
      attachment: { body: { Image: TEST_IMAGE, Cmd: ["sleep", "1"] } },
      actor: { username: "system", role: "system", ip: "127.0.0.1" },
    }).then(() => null, (e) => e);
    assert.ok(error, "the create was refused");
    assert.equal(
      error.message,
      `A container named "${name}" already exists (running, ${TEST_IMAGE}): ` +
        "choose another name or remove it",
    );
    assert.doesNotMatch(error.message, /[0-9a-f]{64}/);
    assert.match(error.details, /is already in use/);
  } finally {
    await t.close();
  }
});

Deno.test("pull: an unknown image and refused credentials are said in words", async () => {
  await using engine = await testEngine("cmerr");
  const t = await createTestApp({ docker: engine.docker });
  const registry = await startRegistry();
  try {
    const admin = t.cookieFor(await t.addUser("pull-admin", "admin"));
    const reference = await pushToRegistry(
      engine.docker,
      TEST_IMAGE,
      registry,
      `${engine.prefix}team/busybox`,
    );
    const pull = async (ref: string) => {
      const response = await t.request("POST", "/api/containers/images/pull", {
        cookie: admin,
        json: { reference: ref },
      });
      const text = await response.text();
      return JSON.parse(text.trim().split("\n").at(-1)!);
    };
    const refused = await pull(reference);
    assert.match(
      refused.error,
      new RegExp(`^The registry ${registry.address} refused the credentials for `),
    );

    const missing = `${registry.address}/${engine.prefix}nothing/here:1.0`;
    await t.request("POST", "/api/containers/registries", {
      cookie: admin,
      json: {
        server_address: `http://${registry.address}/`,
        username: registry.username,
        password: registry.password,
      },
    }).then((r) => r.body?.cancel());
    const unknown = await pull(missing);
    assert.equal(
      unknown.error,
      `${missing} does not exist in ${registry.address}: no such tag or digest`,
    );
  } finally {
    await registry.stop();
    for (const image of [`${registry.address}/${engine.prefix}team/busybox`]) {
      await engine.docker.json("DELETE", `/images/${image}`).catch(() => {});
    }
    await t.close();
  }
});

Deno.test("pull errors: DNS and refused connections are said in words", () => {
  const dns = pullError(
    "registry.example:5000/app:1",
    500,
    'Get "https://registry.example:5000/v2/": dial tcp: lookup registry.example on 127.0.0.53:53: no such host',
  );
  assert.equal(
    dns.message,
    "The registry registry.example:5000 could not be found: its name did not resolve (DNS)",
  );
  assert.match(dns.details, /no such host/);
  const refused = pullError(
    "127.0.0.1:1/app:1",
    500,
    'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
  );
  assert.equal(
    refused.message,
    "The registry 127.0.0.1:1 refused the connection: nothing answers there",
  );
});
