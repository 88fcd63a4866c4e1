/**
 * /api/swarm on a real 3-node swarm (tests/fixtures/netns_engines.ts: one manager, two
 * workers, each a dockerd in its own network namespace): nodes, drain, services placed,
 * scaled, rolled to another image and back, secrets used by a service and never returned,
 * viewers refused, workers and Engines outside a swarm answered 409, and every route walked
 * for auth and Origin.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, type TestApp } from "../fixtures/app.ts";
import { readEvents, TEST_IMAGE } from "../fixtures/engine.ts";
import { type NetnsEngines, startNetnsEngines } from "../fixtures/netns_engines.ts";
import { NOT_A_MANAGER } from "../../lib/docker/swarm.ts";

const V2_IMAGE = "cm-test/busybox:v2";
const SECRET_VALUE = "s3cret-value-9f1c2e";
const WAIT_MS = 120_000;

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Timed out waiting for ${what}; last: ${String(last).slice(0, 300)}`);
}

interface Task {
  id: string;
  node_id: string;
  state: string;
  desired_state: string;
  image: string;
}
interface ServiceDetail {
  id: string;
  name: string;
  image: string;
  replicas_running: number;
  replicas_desired: number;
  tasks: Task[];
}

const running = (detail: ServiceDetail) =>
  detail.tasks.filter((task) => task.state === "running" && task.desired_state === "running");

async function tagEverywhere(swarm: NetnsEngines) {
  for (const engine of swarm.engines) {
    await engine.docker.json("POST", `/images/${encodeURIComponent(TEST_IMAGE)}/tag`, {
      query: { repo: "cm-test/busybox", tag: "v2" },
    }).catch(async () => {
      // Some clients refuse an encoded slash in a path: tag by id instead.
      const [image] = await engine.docker.json<{ Id: string }[]>("GET", "/images/json", {
        query: { filters: JSON.stringify({ reference: [TEST_IMAGE] }) },
      });
      await engine.docker.json("POST", `/images/${image.Id.replace("sha256:", "")}/tag`, {
        query: { repo: "cm-test/busybox", tag: "v2" },
      });
    });
  }
}

Deno.test("swarm API on a 3-node swarm", async (t) => {
  const started = performance.now();
  await using swarm = await startNetnsEngines("swarm", { count: 3, swarm: true });
  console.log(`3-node swarm up in ${Math.round(performance.now() - started)} ms`);
  await tagEverywhere(swarm);
  const panel: TestApp = await createTestApp({ docker: swarm.manager.docker });
  const admin = panel.cookieFor(await panel.addUser("admin", "admin"));
  const viewer = panel.cookieFor(await panel.addUser("viewer", "viewer"));
  const get = async <T>(path: string, cookie = viewer): Promise<T> => {
    const response = await panel.request("GET", path, { cookie });
    const body = await response.json();
    assert.equal(response.status, 200, `GET ${path}: ${JSON.stringify(body)}`);
    return body as T;
  };
  const send = async (method: string, path: string, json?: unknown, cookie = admin) => {
    const response = await panel.request(method, path, { cookie, json });
    return { status: response.status, body: await response.json() };
  };
  const detail = (id: string) => get<ServiceDetail>(`/api/swarm/services/${id}`);
  const [managerId, worker1Id] = await Promise.all(
    swarm.engines.slice(0, 2).map(async (engine) =>
      (await engine.docker.json<{ Swarm: { NodeID: string } }>("GET", "/info")).Swarm.NodeID
    ),
  );

  try {
    await t.step("the swarm and its nodes, with roles", async () => {
      const info = await get<{ active: boolean; manager: boolean; cluster: { nodes: number } }>(
        "/api/swarm",
      );
      assert.equal(info.active, true);
      assert.equal(info.manager, true);
      assert.equal(info.cluster.nodes, 3);
      const { nodes } = await get<
        {
          nodes: {
            id: string;
            hostname: string;
            role: string;
            leader: boolean;
            state: string;
            address: string;
          }[];
        }
      >("/api/swarm/nodes");
      assert.equal(nodes.length, 3);
      assert.deepEqual(nodes.map((node) => node.role).sort(), ["manager", "worker", "worker"]);
      const manager = nodes.find((node) => node.role === "manager")!;
      assert.equal(manager.id, managerId);
      assert.equal(manager.leader, true);
      assert.deepEqual(
        nodes.map((node) => node.hostname).sort(),
        swarm.engines.map((engine) => engine.name).sort(),
      );
      assert.ok(nodes.every((node) => node.state === "ready"));
      assert.deepEqual(
        nodes.map((node) => node.address).sort(),
        swarm.engines.map((engine) => engine.address).sort(),
      );
    });

    let serviceId = "";
    await t.step("a service with 3 replicas lands on 3 nodes, then scales to 5", async () => {
      const created = await send("POST", "/api/swarm/services", {
        name: "web",
        image: TEST_IMAGE,
        // Stops at once on SIGTERM (a plain sleep as PID 1 waits out the 10 s grace period).
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
        replicas: 3,
        update: { parallelism: 2, delay: "1s", order: "stop-first" },
        restart: { condition: "any", delay: "1s" },
        env: { GREETING: "hello" },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      serviceId = created.body.id;
      const placed = await waitFor("3 running tasks", async () => {
        const current = await detail(serviceId);
        return running(current).length === 3 && current;
      });
      assert.equal(new Set(running(placed).map((task) => task.node_id)).size, 3);

      const scaled = await send("POST", `/api/swarm/services/${serviceId}/scale`, { replicas: 5 });
      assert.equal(scaled.status, 200, JSON.stringify(scaled.body));
      await waitFor("5 running tasks", async () => running(await detail(serviceId)).length === 5);
      const { services } = await get<{ services: { name: string; replicas_desired: number }[] }>(
        "/api/swarm/services",
      );
      assert.equal(services.find((service) => service.name === "web")?.replicas_desired, 5);
    });

    await t.step("draining a node moves its tasks off it", async () => {
      const drained = await send("PATCH", `/api/swarm/nodes/${worker1Id}`, {
        availability: "drain",
        labels_add: { zone: "a" },
      });
      assert.equal(drained.status, 200, JSON.stringify(drained.body));
      assert.equal(drained.body.node.availability, "drain");
      assert.deepEqual(drained.body.node.labels, { zone: "a" });
      await waitFor("no task left on the drained node and 5 elsewhere", async () => {
        const tasks = running(await detail(serviceId));
        return tasks.length === 5 && tasks.every((task) => task.node_id !== worker1Id);
      });
      const active = await send("PATCH", `/api/swarm/nodes/${worker1Id}`, {
        availability: "active",
        labels_remove: ["zone"],
      });
      assert.equal(active.status, 200);
      assert.deepEqual(active.body.node.labels, {});
    });

    await t.step(
      "a rolling image update completes and a rollback returns the old image",
      async () => {
        const updated = await send("POST", `/api/swarm/services/${serviceId}/image`, {
          image: V2_IMAGE,
        });
        assert.equal(updated.status, 200, JSON.stringify(updated.body));
        assert.equal(updated.body.update_status.state, "completed");
        assert.equal(updated.body.previous_image, TEST_IMAGE);
        const rolled = await detail(serviceId);
        assert.equal(rolled.image, V2_IMAGE);
        const v2Tasks = await waitFor("5 tasks on the new image", async () => {
          const tasks = running(await detail(serviceId));
          return tasks.length === 5 && tasks.every((task) => task.image === V2_IMAGE) && tasks;
        });
        assert.equal(v2Tasks.length, 5);

        // The rollback's progress as NDJSON, as the UI asks for it.
        const streamed = await panel.request(
          "POST",
          `/api/swarm/services/${serviceId}/rollback`,
          { cookie: admin, headers: { Accept: "application/x-ndjson" } },
        );
        assert.equal(streamed.status, 200);
        assert.match(streamed.headers.get("content-type") ?? "", /ndjson/);
        const lines = (await streamed.text()).trim().split("\n").map((line) => JSON.parse(line));
        assert.ok(lines.some((line) => line.progress?.state === "rollback_started"));
        const back = lines.at(-1);
        assert.equal(back.done, true, JSON.stringify(lines));
        assert.equal(back.update_status.state, "rollback_completed");
        assert.equal(back.image, TEST_IMAGE);
        assert.equal((await detail(serviceId)).image, TEST_IMAGE);
        await waitFor("5 tasks on the old image", async () => {
          const tasks = running(await detail(serviceId));
          return tasks.length === 5 && tasks.every((task) => task.image === TEST_IMAGE);
        });
        const rows = auditRows(panel.deps.db).filter((row) =>
          row.action.startsWith("swarm.service")
        );
        assert.deepEqual(
          rows.filter((row) => row.exit_code === 0 && row.stdout).map((row) => row.action),
          [
            "swarm.service.create",
            "swarm.service.scale",
            "swarm.service.update",
            "swarm.service.rollback",
          ],
        );
      },
    );

    await t.step(
      "a secret is used by a service, never returned, and not removed while in use",
      async () => {
        const created = await send("POST", "/api/swarm/secrets", {
          name: "db_password",
          data: SECRET_VALUE,
          labels: { app: "test" },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const secretId = created.body.id;
        const service = await send("POST", "/api/swarm/services", {
          name: "reader",
          image: TEST_IMAGE,
          command: "sh -c 'cat /run/secrets/x; echo; sleep 3600'",
          replicas: 1,
          secrets: [{ source: "db_password", target: "x" }],
        });
        assert.equal(service.status, 201, JSON.stringify(service.body));
        const logs = await waitFor("the secret in the service's logs", async () => {
          const response = await panel.request(
            "GET",
            `/api/swarm/services/${service.body.id}/logs?tail=50`,
            { cookie: admin },
          );
          const body = await response.json() as { lines: { text: string }[] };
          return body.lines?.some((line) => line.text.includes(SECRET_VALUE)) && body;
        });
        assert.ok(logs.lines.length >= 1);

        // Following the logs: SSE lines as the container logs route sends them.
        const follow = await panel.request(
          "GET",
          `/api/swarm/services/${service.body.id}/logs?tail=10&follow=1`,
          { cookie: admin },
        );
        assert.equal(follow.status, 200);
        assert.match(follow.headers.get("content-type") ?? "", /text\/event-stream/);
        const events = await readEvents(
          follow,
          (events) =>
            events.some((event) =>
              event.event === "line" &&
              (event.data as { text: string }).text.includes(SECRET_VALUE)
            ),
          60_000,
        );
        assert.ok(events.length >= 1);

        const refused = await send("DELETE", `/api/swarm/secrets/${secretId}`);
        assert.equal(refused.status, 409);
        assert.match(refused.body.error, /db_password is used by service reader/);

        // No route answers with the value, and no audit row holds it.
        const answers = [
          await panel.request("GET", "/api/swarm/secrets", { cookie: admin }),
          await panel.request("GET", `/api/swarm/secrets/${secretId}`, { cookie: admin }),
          await panel.request("GET", "/api/swarm/secrets/db_password", { cookie: admin }),
          await panel.request("GET", `/api/swarm/services/${service.body.id}`, { cookie: admin }),
          await panel.request("GET", "/api/swarm/services", { cookie: admin }),
          await panel.request("GET", "/api/audit", { cookie: admin }),
        ];
        for (const answer of answers) {
          assert.equal(answer.status, 200);
          const text = await answer.text();
          assert.ok(!text.includes(SECRET_VALUE), `${answer.url}: ${text.slice(0, 200)}`);
          assert.ok(!text.includes(btoa(SECRET_VALUE)));
        }
        const listed = await get<{ secrets: { name: string; used_by: string[] }[] }>(
          "/api/swarm/secrets",
        );
        assert.deepEqual(listed.secrets.find((secret) => secret.name === "db_password")?.used_by, [
          "reader",
        ]);
        const rows = JSON.stringify(auditRows(panel.deps.db));
        assert.ok(!rows.includes(SECRET_VALUE) && !rows.includes(btoa(SECRET_VALUE)));
        assert.ok(rows.includes("swarm.secret.create"));

        assert.equal((await send("DELETE", `/api/swarm/services/${service.body.id}`)).status, 200);
        const removed = await send("DELETE", `/api/swarm/secrets/${secretId}`);
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
      },
    );

    await t.step("configs are created, shown on inspect and removed", async () => {
      const created = await send("POST", "/api/swarm/configs", {
        name: "app_conf",
        data: "listen 80\n",
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const shown = await get<{ config: { name: string; data: string } }>(
        `/api/swarm/configs/${created.body.id}`,
      );
      assert.equal(shown.config.data, "listen 80\n");
      assert.equal((await send("DELETE", `/api/swarm/configs/app_conf`)).status, 200);
    });

    await t.step("bad input is a 400 naming the field", async () => {
      const cases: [unknown, string][] = [
        [{ name: "bad name!", image: TEST_IMAGE }, "name"],
        [{ name: "ok", image: TEST_IMAGE, replicas: -1 }, "replicas"],
        [{ name: "ok", image: TEST_IMAGE, mode: "global", replicas: 2 }, "replicas"],
        [{ name: "ok", image: TEST_IMAGE, secrets: [{ source: "missing" }] }, "secrets"],
        [{ name: "ok", image: TEST_IMAGE, ports: [{ target: 99999 }] }, "ports[0]"],
        [{ name: "ok", image: TEST_IMAGE, update: { delay: "soon" } }, "update.delay"],
        [{ name: "ok", image: TEST_IMAGE, extra: 1 }, "extra"],
      ];
      for (const [json, field] of cases) {
        const answer = await send("POST", "/api/swarm/services", json);
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.equal(answer.body.field, field, JSON.stringify(answer.body));
      }
      const scale = await send("POST", `/api/swarm/services/${serviceId}/scale`, { replicas: 1.5 });
      assert.equal(scale.status, 400);
      const node = await send("PATCH", `/api/swarm/nodes/${worker1Id}`, { availability: "off" });
      assert.equal(node.status, 400);
      const badId = await send("DELETE", "/api/swarm/services/..%2Fetc");
      assert.equal(badId.status, 400);
      const secret = await send("POST", "/api/swarm/secrets", { name: "empty", data: "" });
      assert.equal(secret.status, 400);
      assert.equal(secret.body.field, "data");
    });

    await t.step("viewers read but get 403 on every mutation", async () => {
      const mutations: [string, string, unknown?][] = [
        ["PATCH", `/api/swarm/nodes/${worker1Id}`, { availability: "drain" }],
        ["DELETE", `/api/swarm/nodes/${worker1Id}`],
        ["POST", "/api/swarm/services", { name: "nope", image: TEST_IMAGE }],
        ["POST", `/api/swarm/services/${serviceId}/scale`, { replicas: 1 }],
        ["POST", `/api/swarm/services/${serviceId}/image`, { image: V2_IMAGE }],
        ["POST", `/api/swarm/services/${serviceId}/rollback`],
        ["DELETE", `/api/swarm/services/${serviceId}`],
        ["POST", "/api/swarm/secrets", { name: "viewer_secret", data: SECRET_VALUE }],
        ["DELETE", "/api/swarm/secrets/anything"],
        ["POST", "/api/swarm/configs", { name: "viewer_config", data: "x" }],
        ["DELETE", "/api/swarm/configs/anything"],
      ];
      for (const [method, path, json] of mutations) {
        const answer = await send(method, path, json, viewer);
        assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      }
      const current = await detail(serviceId);
      assert.equal(current.replicas_desired, 5);
      assert.ok(!JSON.stringify(auditRows(panel.deps.db)).includes(SECRET_VALUE));
    });

    await t.step(
      "every swarm route needs a session, and mutations the panel's Origin",
      async () => {
        const routes: [string, string][] = [
          ["GET", "/api/swarm"],
          ["GET", "/api/swarm/nodes"],
          ["PATCH", `/api/swarm/nodes/${worker1Id}`],
          ["DELETE", `/api/swarm/nodes/${worker1Id}`],
          ["GET", "/api/swarm/services"],
          ["POST", "/api/swarm/services"],
          ["GET", `/api/swarm/services/${serviceId}`],
          ["POST", `/api/swarm/services/${serviceId}/scale`],
          ["POST", `/api/swarm/services/${serviceId}/image`],
          ["POST", `/api/swarm/services/${serviceId}/rollback`],
          ["DELETE", `/api/swarm/services/${serviceId}`],
          ["GET", `/api/swarm/services/${serviceId}/logs`],
          ["GET", "/api/swarm/secrets"],
          ["POST", "/api/swarm/secrets"],
          ["GET", "/api/swarm/secrets/x"],
          ["DELETE", "/api/swarm/secrets/x"],
          ["GET", "/api/swarm/configs"],
          ["POST", "/api/swarm/configs"],
          ["GET", "/api/swarm/configs/x"],
          ["DELETE", "/api/swarm/configs/x"],
        ];
        for (const [method, path] of routes) {
          const anonymous = await panel.request(method, path, {
            json: method === "GET" ? undefined : {},
          });
          await anonymous.body?.cancel();
          assert.equal(anonymous.status, 401, `${method} ${path} without a session`);
          if (method === "GET") continue;
          for (const origin of [null, "http://evil.test"]) {
            const forged = await panel.request(method, path, { cookie: admin, origin, json: {} });
            await forged.body?.cancel();
            assert.equal(forged.status, 403, `${method} ${path} from ${origin}`);
          }
        }
        assert.equal((await detail(serviceId)).replicas_desired, 5);
      },
    );

    await t.step("a worker and an Engine outside any swarm answer 409", async () => {
      const worker = await createTestApp({ docker: swarm.engines[1].docker });
      const plain = await createTestApp();
      try {
        for (const [app, active] of [[worker, true], [plain, false]] as const) {
          const cookie = app.cookieFor(await app.addUser("admin", "admin"));
          const info = await (await app.request("GET", "/api/swarm", { cookie })).json();
          assert.equal(info.active, active);
          assert.equal(info.manager, false);
          for (const path of ["/api/swarm/nodes", "/api/swarm/services", "/api/swarm/secrets"]) {
            const answer = await app.request("GET", path, { cookie });
            assert.equal(answer.status, 409, path);
            assert.equal((await answer.json()).error, NOT_A_MANAGER);
          }
          const create = await app.request("POST", "/api/swarm/services", {
            cookie,
            json: { name: "x", image: TEST_IMAGE },
          });
          assert.equal(create.status, 409);
          assert.equal((await create.json()).error, NOT_A_MANAGER);
        }
      } finally {
        await worker.close();
        await plain.close();
      }
    });

    await t.step(
      "the same routes act on an environment under /api/environments/{env}",
      async () => {
        const host = await createTestApp();
        try {
          const cookie = host.cookieFor(await host.addUser("admin", "admin"));
          const viewerCookie = host.cookieFor(await host.addUser("viewer", "viewer"));
          const added = await host.request("POST", "/api/environments", {
            cookie,
            json: { name: "swarm-manager", url: `unix://${swarm.manager.socket}` },
          });
          const env = await added.json();
          assert.equal(added.status, 201, JSON.stringify(env));
          const nodes = await host.request("GET", `/api/environments/${env.id}/swarm/nodes`, {
            cookie: viewerCookie,
          });
          assert.equal(nodes.status, 200);
          assert.equal((await nodes.json()).nodes.length, 3);
          const local = await host.request("GET", "/api/swarm/nodes", { cookie });
          assert.equal(local.status, 409, "the host's own Engine is not in the swarm");
          await local.body?.cancel();
          const refused = await host.request("POST", `/api/environments/${env.id}/swarm/services`, {
            cookie: viewerCookie,
            json: { name: "nope", image: TEST_IMAGE },
          });
          assert.equal(refused.status, 403);
          await refused.body?.cancel();
          const scaled = await host.request(
            "POST",
            `/api/environments/${env.id}/swarm/services/${serviceId}/scale`,
            { cookie, json: { replicas: 4 } },
          );
          assert.equal(scaled.status, 200, await scaled.text());
          const row = auditRows(host.deps.db).find((row) => row.action === "swarm.service.scale") as
            | { environment?: string }
            | undefined;
          assert.equal(row?.environment, env.id);
          assert.equal((await detail(serviceId)).replicas_desired, 4);
        } finally {
          await host.close();
        }
      },
    );

    await t.step("a worker is promoted to manager and demoted back", async () => {
      const roleOf = async (id: string) =>
        (await get<{ nodes: { id: string; role: string }[] }>("/api/swarm/nodes")).nodes
          .find((node) => node.id === id)?.role;
      const promoted = await send("PATCH", `/api/swarm/nodes/${worker1Id}`, { role: "manager" });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(await roleOf(worker1Id), "manager");
      // The promoted node's own Engine now answers as a manager.
      await waitFor("the promoted node to act as a manager", async () => {
        const info = await swarm.engines[1].docker.json<{ Swarm: { ControlAvailable: boolean } }>(
          "GET",
          "/info",
        );
        return info.Swarm.ControlAvailable || undefined;
      });
      const demoted = await send("PATCH", `/api/swarm/nodes/${worker1Id}`, { role: "worker" });
      assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
      assert.equal(await roleOf(worker1Id), "worker");
      const rows = auditRows(panel.deps.db).filter((row) =>
        row.action === "swarm.node.update" && row.target === worker1Id
      );
      assert.ok(rows.length >= 2, "both role changes are audited");
    });

    await t.step("a node is removed only once it is down", async () => {
      const worker2 = swarm.engines[2];
      const nodeId = (await worker2.docker.json<{ Swarm: { NodeID: string } }>("GET", "/info"))
        .Swarm.NodeID;
      const refused = await send("DELETE", `/api/swarm/nodes/${nodeId}`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.error, /only a down node can be removed/);
      await worker2.kill();
      await waitFor("the killed node to be down", async () => {
        const { nodes } = await get<{ nodes: { id: string; state: string }[] }>("/api/swarm/nodes");
        return nodes.find((node) => node.id === nodeId)?.state === "down";
      });
      const removed = await send("DELETE", `/api/swarm/nodes/${nodeId}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      const { nodes } = await get<{ nodes: unknown[] }>("/api/swarm/nodes");
      assert.equal(nodes.length, 2);
      assert.equal((await send("DELETE", `/api/swarm/services/${serviceId}`)).status, 200);
    });
  } finally {
    await panel.close();
  }
});
