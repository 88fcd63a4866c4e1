/**
 * /api/containers/networks against the real Engine: create with subnet checks (CIDR,
 * gateway and range inside, no overlap), names in use, connect with aliases and a fixed
 * address, disconnect, remove (refused while attached, built-ins never), prune. Networks
 * use 10.231.250.0/24 and neighbours (one per test), carry the test label and are removed
 * afterwards; no traffic is sent to them.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import {
  ensureTestImage,
  makeTestContainer,
  removeTestContainers,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { listNetworks } from "../../lib/docker/networks.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function withApp(
  fn: (context: { t: TestApp; admin: string; viewer: string; prefix: string }) => Promise<void>,
) {
  const t = await createTestApp();
  const prefix = uniquePrefix("cmnet");
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("net-admin", "admin"));
    const viewer = t.cookieFor(await t.addUser("net-viewer", "viewer"));
    await fn({ t, admin, viewer, prefix });
  } finally {
    await removeTestContainers(t.deps.docker, prefix);
    for (const network of await listNetworks(t.deps.docker)) {
      if (network.Name.startsWith(prefix)) {
        await t.deps.docker.json("DELETE", `/networks/${network.Id}`).catch(() => {});
      }
    }
    await t.close();
  }
}

async function call(t: TestApp, method: string, path: string, cookie: string, json?: unknown) {
  const response = await t.request(method, path, { cookie, json });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, text };
}

async function names(t: TestApp, prefix: string) {
  return (await listNetworks(t.deps.docker)).map((n) => n.Name).filter((n) => n.startsWith(prefix));
}

Deno.test("networks: create with subnet, gateway and range; bad and overlapping subnets, names in use and unknown fields refused with nothing made", () =>
  withApp(async ({ t, admin, viewer, prefix }) => {
    const name = `${prefix}backend`;
    const labels = { [TEST_LABEL]: prefix, "com.docker.compose.project": "shop" };
    const created = await call(t, "POST", "/api/containers/networks", admin, {
      name,
      driver: "bridge",
      subnet: "10.231.250.0/24",
      gateway: "10.231.250.1",
      ip_range: "10.231.250.128/25",
      internal: true,
      attachable: true,
      labels,
    });
    assert.equal(created.status, 201, created.text);
    const network = created.body.network as Record<string, unknown>;
    assert.equal(network.name, name);
    assert.deepEqual(network.subnets, [{
      subnet: "10.231.250.0/24",
      gateway: "10.231.250.1",
      ip_range: "10.231.250.128/25",
    }]);
    assert.equal(network.internal, true);
    assert.equal(network.attachable, true);
    assert.equal(network.compose_project, "shop");

    const refusals: [unknown, number, string, RegExp][] = [
      [{ name }, 409, "name", /already exists/],
      [
        { name: `${prefix}x`, subnet: "10.231.250.0/25" },
        409,
        "subnet",
        new RegExp(`overlaps 10\\.231\\.250\\.0/24 of network ${name}`),
      ],
      [{ name: `${prefix}x`, subnet: "10.231.0.0/16" }, 409, "subnet", /overlaps/],
      [{ name: `${prefix}x`, subnet: "10.231.250" }, 400, "subnet", /CIDR/],
      [
        { name: `${prefix}x`, subnet: "10.231.251.9/24" },
        400,
        "subnet",
        /host bits.*10\.231\.251\.0\/24/,
      ],
      [{ name: `${prefix}x`, subnet: "300.1.1.0/24" }, 400, "subnet", /IP address/],
      [
        { name: `${prefix}x`, subnet: "10.231.251.0/24", gateway: "10.231.9.1" },
        400,
        "gateway",
        /not a host address in 10\.231\.251\.0\/24/,
      ],
      [
        { name: `${prefix}x`, subnet: "10.231.251.0/24", ip_range: "10.231.0.0/25" },
        400,
        "ip_range",
        /not inside/,
      ],
      [{ name: `${prefix}x`, gateway: "10.231.251.1" }, 400, "gateway", /needs a subnet/],
      [{ name: `${prefix}x`, driver: "overlay" }, 400, "driver", /bridge, macvlan/],
      [{ name: `${prefix}x`, ipv6: true }, 400, "ipv6_subnet", /IPv6 subnet/],
      [
        {
          name: `${prefix}x`,
          ipv6: true,
          ipv6_subnet: "fd00:31:250::/64",
          ipv6_gateway: "fd00:31:251::1",
        },
        400,
        "ipv6_gateway",
        /not a host address/,
      ],
      [{ name: `${prefix}x`, internal: "yes" }, 400, "internal", /true or false/],
      [{ name: `${prefix}x`, options: { a: "b" } }, 400, "options", /Unknown field "options"/],
      [{ name: "bad/name" }, 400, "name", /network name/],
    ];
    for (const [body, status, field, message] of refusals) {
      const answer = await call(t, "POST", "/api/containers/networks", admin, body);
      assert.equal(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.body.field, field, JSON.stringify(body));
      assert.match(answer.body.error as string, message);
    }
    assert.deepEqual(await names(t, prefix), [name], "nothing half-made");

    const v6 = await call(t, "POST", "/api/containers/networks", admin, {
      name: `${prefix}v6`,
      subnet: "10.231.251.0/24",
      ipv6: true,
      ipv6_subnet: "fd00:31:251::/64",
      labels,
    });
    assert.equal(v6.status, 201, v6.text);
    assert.equal((v6.body.network as { ipv6: boolean }).ipv6, true);
    assert.equal(
      (await call(t, "POST", "/api/containers/networks", admin, {
        name: `${prefix}v6b`,
        ipv6: true,
        ipv6_subnet: "fd00:31:251::/48",
      })).body.field,
      "ipv6_subnet",
      "IPv6 overlap refused too",
    );

    const list = await call(t, "GET", "/api/containers/networks", viewer);
    assert.equal(list.status, 200);
    const all = list.body.networks as { name: string; built_in: boolean }[];
    assert.deepEqual(all.slice(0, 3).map((n) => [n.name, n.built_in]), [
      ["bridge", true],
      ["host", true],
      ["none", true],
    ]);
    assert.ok(all.some((n) => n.name === name));
    const inspect = await call(t, "GET", `/api/containers/networks/${name}`, viewer);
    assert.equal(inspect.status, 200);
    assert.equal((inspect.body.network as { driver: string }).driver, "bridge");
    assert.equal(
      (await call(t, "GET", `/api/containers/networks/${prefix}none`, viewer)).status,
      404,
    );

    // Viewers are refused every change, and each refusal is audited.
    const refused = [
      await call(t, "POST", "/api/containers/networks", viewer, { name: `${prefix}v` }),
      await call(t, "DELETE", `/api/containers/networks/${name}`, viewer),
      await call(t, "POST", `/api/containers/networks/${name}/connect`, viewer, {
        container: "x1",
      }),
      await call(t, "POST", `/api/containers/networks/${name}/disconnect`, viewer, {
        container: "x1",
      }),
      await call(t, "POST", "/api/containers/networks/prune", viewer, {}),
    ];
    assert.deepEqual(refused.map((r) => r.status), [403, 403, 403, 403, 403]);
    assert.deepEqual(
      auditRows(t.deps.db).filter((r) => r.actor === "net-viewer").map((
        r,
      ) => [r.action, r.exit_code]),
      [
        ["docker.network.create", 403],
        ["docker.network.rm", 403],
        ["docker.network.connect", 403],
        ["docker.network.disconnect", 403],
        ["docker.network.prune", 403],
      ],
    );
  }));

Deno.test("networks: connect with aliases and a fixed address, removal refused while attached (naming the container), disconnect, remove; built-ins never removable; prune", () =>
  withApp(async ({ t, admin, prefix }) => {
    const name = `${prefix}app`;
    const created = await call(t, "POST", "/api/containers/networks", admin, {
      name,
      subnet: "10.231.252.0/24",
      labels: { [TEST_LABEL]: prefix },
    });
    assert.equal(created.status, 201, created.text);
    const id = (created.body.network as { id: string }).id;
    const containerId = await makeTestContainer(t.deps.docker, prefix, "api", {
      Cmd: ["sleep", "600"],
    });
    const base = `/api/containers/networks/${name}`;

    const outside = await call(t, "POST", `${base}/connect`, admin, {
      container: `${prefix}api`,
      ipv4: "10.231.9.20",
    });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.field, "ipv4");
    const noContainer = await call(t, "POST", `${base}/connect`, admin, {
      container: `${prefix}nobody`,
    });
    assert.equal(noContainer.status, 404);
    const badAlias = await call(t, "POST", `${base}/connect`, admin, {
      container: `${prefix}api`,
      aliases: ["not an alias"],
    });
    assert.equal(badAlias.status, 400);
    assert.equal(badAlias.body.field, "aliases");
    const fixedOnBridge = await call(t, "POST", "/api/containers/networks/bridge/connect", admin, {
      container: `${prefix}api`,
      ipv4: "172.17.0.200",
    });
    assert.equal(fixedOnBridge.status, 400);
    assert.equal(fixedOnBridge.body.field, "ipv4");

    const connected = await call(t, "POST", `${base}/connect`, admin, {
      container: `${prefix}api`,
      aliases: ["api", "api.internal"],
      ipv4: "10.231.252.20",
    });
    assert.equal(connected.status, 200, connected.text);
    const again = await call(t, "POST", `${base}/connect`, admin, { container: `${prefix}api` });
    assert.equal(again.status, 409);
    assert.match(again.body.error as string, new RegExp(`${prefix}api is already connected`));

    const list = await call(t, "GET", "/api/containers/networks", admin);
    const row = (list.body.networks as { id: string; containers: Record<string, unknown>[] }[])
      .find((n) => n.id === id)!;
    assert.equal(row.containers.length, 1);
    assert.equal(row.containers[0].name, `${prefix}api`);
    assert.equal(row.containers[0].ipv4, "10.231.252.20");
    const detail = await call(t, "GET", `/api/containers/networks/${id}`, admin);
    const attached = (detail.body.network as { containers: { aliases: string[] }[] }).containers;
    assert.deepEqual(attached[0].aliases, ["api", "api.internal"]);

    const refused = await call(t, "DELETE", base, admin);
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.error as string, new RegExp(`attached: ${prefix}api \\(running\\)`));
    assert.ok(!(refused.body.error as string).includes(containerId));

    for (const builtIn of ["bridge", "host", "none"]) {
      const answer = await call(t, "DELETE", `/api/containers/networks/${builtIn}`, admin);
      assert.equal(answer.status, 403, answer.text);
      assert.match(answer.body.error as string, new RegExp(`${builtIn} is a built-in network`));
    }
    const bridgeId = (await listNetworks(t.deps.docker)).find((n) => n.Name === "bridge")!.Id;
    assert.equal(
      (await call(t, "DELETE", `/api/containers/networks/${bridgeId}`, admin)).status,
      403,
    );

    const disconnected = await call(t, "POST", `${base}/disconnect`, admin, {
      container: `${prefix}api`,
    });
    assert.equal(disconnected.status, 200, disconnected.text);
    const notThere = await call(t, "POST", `${base}/disconnect`, admin, {
      container: `${prefix}api`,
    });
    assert.equal(notThere.status, 409);
    assert.match(notThere.body.error as string, /is not connected/);

    // A stopped container still attached also blocks removal.
    const stopped = await makeTestContainer(t.deps.docker, prefix, "idle", {
      Cmd: ["sleep", "600"],
      HostConfig: { NetworkMode: name } as Record<string, unknown>,
    }, false);
    const blocked = await call(t, "DELETE", base, admin);
    assert.equal(blocked.status, 409);
    assert.match(blocked.body.error as string, new RegExp(`${prefix}idle \\(created\\)`));
    await t.deps.docker.json("DELETE", `/containers/${stopped}`, { query: { force: 1 } });

    const removed = await call(t, "DELETE", `/api/containers/networks/${id}`, admin);
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body.removed, name);
    assert.deepEqual(await names(t, prefix), []);

    // Prune, limited to this test's label: only the unused network goes.
    for (const [suffix, subnet] of [["unused", "10.231.253.0/24"], ["kept", "10.231.254.0/24"]]) {
      const made = await call(t, "POST", "/api/containers/networks", admin, {
        name: `${prefix}${suffix}`,
        subnet,
        labels: { [TEST_LABEL]: prefix },
      });
      assert.equal(made.status, 201, made.text);
    }
    await makeTestContainer(t.deps.docker, prefix, "keeper", {
      Cmd: ["sleep", "600"],
      HostConfig: { NetworkMode: `${prefix}kept` } as Record<string, unknown>,
    });
    const pruned = await call(t, "POST", "/api/containers/networks/prune", admin, {
      labels: [`${TEST_LABEL}=${prefix}`],
    });
    assert.equal(pruned.status, 200, pruned.text);
    assert.deepEqual(pruned.body.deleted, [`${prefix}unused`]);
    assert.deepEqual(await names(t, prefix), [`${prefix}kept`]);

    const actions = auditRows(t.deps.db)
      .filter((r) =>
        (r as { phase?: string | null }).phase == null && r.action.startsWith("docker.network.")
      )
      .map((r) => [r.action, r.exit_code]);
    assert.ok(actions.some(([a, c]) => a === "docker.network.connect" && c === 0));
    assert.ok(actions.some(([a, c]) => a === "docker.network.disconnect" && c === 0));
    assert.ok(actions.some(([a, c]) => a === "docker.network.rm" && c === 409));
    assert.ok(actions.some(([a, c]) => a === "docker.network.prune" && c === 0));
  }));
