/**
 * Swarm stacks on a 3-node swarm (tests/fixtures/netns_engines.ts): the panel's deploy is
 * what `docker stack ls|ps` see, a CLI-deployed stack shows in the panel, the panel's
 * remove leaves nothing of the namespace. Only the fixture's Engines are touched.
 */
import assert from "node:assert/strict";
import { createDockerClient } from "../../lib/docker/client.ts";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { TEST_IMAGE } from "../fixtures/engine.ts";
import { startNetnsEngines } from "../fixtures/netns_engines.ts";

const NS = "com.docker.stack.namespace";

async function docker(socket: string, ...args: string[]) {
  const output = await new Deno.Command("docker", {
    args: ["-H", `unix://${socket}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    ok: output.success,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** The NDJSON lines of a streamed answer. */
async function lines(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
}

const STACK_FILE = `
services:
  web:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "8080"]
    build: ./web
    container_name: web
    networks: [backend]
    secrets: [api_key]
    deploy:
      replicas: 2
      labels:
        team: web
      update_config:
        parallelism: 1
        order: start-first
  worker:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "cat /run/secrets/api_key && sleep 3600"]
    depends_on: [web]
    networks: [backend]
    secrets: [api_key]
    deploy:
      replicas: 1
      placement:
        constraints: [node.role == worker]
      restart_policy:
        condition: on-failure
networks:
  backend:
    driver: overlay
secrets:
  api_key:
    file: ./api_key.txt
`;
const FILES = { "api_key.txt": "not-a-real-key" };

Deno.test({
  name: "swarm stacks on a 3-node swarm: panel and CLI see each other's stacks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using swarm = await startNetnsEngines("swst", { count: 3, swarm: true });
    const socket = swarm.manager.socket;
    const client = createDockerClient({ kind: "unix", path: socket });
    const panel = await createTestApp({ docker: client });
    const stack = `st${crypto.randomUUID().slice(0, 6)}`;
    const cliStack = `${stack}cli`;
    try {
      const admin = panel.cookieFor(await panel.addUser("admin", "admin"));
      const viewer = panel.cookieFor(await panel.addUser("viewer", "viewer"));

      await t.step("the preview lists what swarm ignores, with lines", async () => {
        const response = await panel.request("POST", "/api/swarm/stacks/preview", {
          cookie: viewer,
          json: { name: stack, compose: STACK_FILE, files: FILES },
        });
        assert.equal(response.status, 200, await response.clone().text());
        const preview = await response.json();
        assert.deepEqual(
          preview.services.map((s: { name: string; replicas: number }) => [s.name, s.replicas]),
          [[`${stack}_web`, 2], [`${stack}_worker`, 1]],
        );
        const ignored = preview.ignored.map((i: { service: string; key: string; line: number }) =>
          `${i.service}.${i.key}@${i.line}`
        );
        assert.deepEqual(ignored.sort(), [
          "web.build@6",
          "web.container_name@7",
          "worker.depends_on@20",
        ]);
        assert.deepEqual(preview.secrets, [{ name: `${stack}_api_key`, external: false }]);
        assert.ok(!JSON.stringify(preview).includes("not-a-real-key"), "secret in the preview");
      });

      await t.step(
        "bad names and files are refused with a 400; viewers may not deploy",
        async () => {
          for (const name of ["Bad Name", "../etc", "", "x".repeat(65)]) {
            const response = await panel.request("POST", "/api/swarm/stacks/deploy", {
              cookie: admin,
              json: { name, compose: STACK_FILE },
            });
            assert.equal(response.status, 400, name);
            await response.body?.cancel();
          }
          for (
            const compose of [
              "services:\n  a:\n    image: busybox\n    deploy:\n      mode: sometimes\n",
              "services: [1, 2]\n",
              "",
            ]
          ) {
            const response = await panel.request("POST", "/api/swarm/stacks/deploy", {
              cookie: admin,
              json: { name: stack, compose },
            });
            assert.equal(response.status, 400, compose);
            assert.ok((await response.json()).error);
          }
          const refused = await panel.request("POST", "/api/swarm/stacks/deploy", {
            cookie: viewer,
            json: { name: stack, compose: STACK_FILE, files: FILES },
          });
          assert.equal(refused.status, 403);
          await refused.body?.cancel();
          const refusedRemove = await panel.request("DELETE", `/api/swarm/stacks/${stack}`, {
            cookie: viewer,
          });
          assert.equal(refusedRemove.status, 403);
          await refusedRemove.body?.cancel();
        },
      );

      await t.step("a stack the panel deploys is listed by docker stack ls and ps", async () => {
        const response = await panel.request("POST", "/api/swarm/stacks/deploy", {
          cookie: admin,
          json: { name: stack, compose: STACK_FILE, files: FILES },
        });
        assert.equal(response.status, 200);
        const events = await lines(response);
        const last = events.at(-1)!;
        assert.equal(last.done, true, JSON.stringify(last));
        const messages = events.map((e) =>
          (e.progress as { message?: string } | undefined)?.message
        )
          .filter(Boolean);
        // The CLI's order: networks, secrets, then services.
        assert.deepEqual(messages, [
          `Creating network ${stack}_backend`,
          `Creating secret ${stack}_api_key`,
          `Creating service ${stack}_web`,
          `Creating service ${stack}_worker`,
        ]);

        const ls = await docker(socket, "stack", "ls", "--format", "{{.Name}} {{.Services}}");
        assert.ok(ls.ok, ls.stderr);
        assert.ok(ls.stdout.split("\n").includes(`${stack} 2`), ls.stdout);
        const ps = await docker(socket, "stack", "ps", stack, "--format", "{{.Name}}");
        assert.ok(ps.ok, ps.stderr);
        const tasks = ps.stdout.split("\n").filter(Boolean);
        assert.ok(tasks.includes(`${stack}_web.1`), ps.stdout);
        assert.ok(tasks.includes(`${stack}_web.2`), ps.stdout);
        assert.ok(tasks.includes(`${stack}_worker.1`), ps.stdout);

        const inspect = await docker(socket, "service", "inspect", `${stack}_web`);
        const [service] = JSON.parse(inspect.stdout);
        assert.equal(service.Spec.Labels[NS], stack);
        assert.equal(service.Spec.Labels["com.docker.stack.image"], TEST_IMAGE);
        assert.equal(service.Spec.Labels.team, "web");
        assert.equal(service.Spec.Mode.Replicated.Replicas, 2);
        assert.equal(service.Spec.UpdateConfig.Order, "start-first");
        const secret = service.Spec.TaskTemplate.ContainerSpec.Secrets[0];
        assert.equal(secret.SecretName, `${stack}_api_key`);
        assert.equal(secret.File.Name, "api_key");
        const net = await docker(socket, "network", "inspect", `${stack}_backend`);
        const [network] = JSON.parse(net.stdout);
        assert.equal(network.Driver, "overlay");
        assert.equal(network.Scope, "swarm");
        assert.equal(network.Labels[NS], stack);
      });

      await t.step(
        "the panel lists it with its services and tasks; detail names nodes",
        async () => {
          const deadline = Date.now() + 120_000;
          let summary: Record<string, unknown> | undefined;
          while (Date.now() < deadline) {
            const response = await panel.request("GET", "/api/swarm/stacks", { cookie: viewer });
            assert.equal(response.status, 200);
            const { stacks } = await response.json();
            summary = stacks.find((s: { name: string }) => s.name === stack);
            if (summary && summary.tasks_running === 3) break;
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          assert.deepEqual(summary, {
            name: stack,
            services: 2,
            tasks_running: 3,
            tasks_desired: 3,
            created_by: "panel",
          });
          const detail = await (await panel.request("GET", `/api/swarm/stacks/${stack}`, {
            cookie: viewer,
          })).json();
          assert.equal(detail.compose, undefined, "viewers do not get the stored file");
          const worker = detail.services.find((s: { name: string }) =>
            s.name === `${stack}_worker`
          );
          const running = worker.tasks.filter((task: { state: string }) =>
            task.state === "running"
          );
          assert.equal(running.length, 1);
          assert.ok(running[0].node_hostname, "a task names its node");
          const adminDetail = await (await panel.request("GET", `/api/swarm/stacks/${stack}`, {
            cookie: admin,
          })).json();
          assert.equal(adminDetail.compose, STACK_FILE);
        },
      );

      await t.step(
        "a second deploy updates the services (none removed, none duplicated)",
        async () => {
          const changed = STACK_FILE.replace("replicas: 2", "replicas: 1");
          const response = await panel.request("POST", "/api/swarm/stacks/deploy", {
            cookie: admin,
            json: { name: stack, compose: changed },
          });
          const last = (await lines(response)).at(-1)!;
          assert.equal(last.done, true, JSON.stringify(last));
          const result = last.result as { updated: string[]; created: string[] };
          assert.deepEqual(result.created, []);
          assert.deepEqual(result.updated, [`${stack}_web`, `${stack}_worker`]);
          const inspect = await docker(socket, "service", "inspect", `${stack}_web`);
          assert.equal(JSON.parse(inspect.stdout)[0].Spec.Mode.Replicated.Replicas, 1);
        },
      );

      await t.step("a secret whose contents changed is refused with a 409 saying why", async () => {
        const response = await panel.request("POST", "/api/swarm/stacks/deploy", {
          cookie: admin,
          json: { name: stack, compose: STACK_FILE, files: { "api_key.txt": "rotated" } },
        });
        const answer = response.status === 200
          ? (await lines(response)).at(-1)!
          : await response.json();
        assert.equal(answer.status ?? response.status, 409, JSON.stringify(answer));
        assert.match(String(answer.error), /exists with other contents/);
        assert.ok(!JSON.stringify(answer).includes("rotated"));
      });

      await t.step("a stack deployed with docker stack deploy shows in the panel", async () => {
        const dir = await Deno.makeTempDir();
        const file = `${dir}/compose.yaml`;
        try {
          await Deno.writeTextFile(file, STACK_FILE.replace(/ {4}build: .*\n/, ""));
          await Deno.writeTextFile(`${dir}/api_key.txt`, FILES["api_key.txt"]);
          const deployed = await docker(
            socket,
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "--detach=true",
            "-c",
            file,
            cliStack,
          );
          assert.ok(deployed.ok, deployed.stderr);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
        const { stacks } = await (await panel.request("GET", "/api/swarm/stacks", {
          cookie: viewer,
        })).json();
        const cli = stacks.find((s: { name: string }) => s.name === cliStack);
        assert.equal(cli?.services, 2);
        assert.equal(cli?.created_by, "cli");
        const detail = await (await panel.request("GET", `/api/swarm/stacks/${cliStack}`, {
          cookie: viewer,
        })).json();
        assert.deepEqual(
          detail.services.map((s: { name: string }) => s.name),
          [`${cliStack}_web`, `${cliStack}_worker`],
        );

        // The same file makes the same task template through the panel and the CLI.
        const ours = JSON.parse(
          (await docker(socket, "service", "inspect", `${stack}_worker`))
            .stdout,
        )[0].Spec;
        const theirs = JSON.parse(
          (await docker(socket, "service", "inspect", `${cliStack}_worker`))
            .stdout,
        )[0].Spec;
        const comparable = (spec: Record<string, unknown>, name: string) =>
          JSON.parse(JSON.stringify(spec).replaceAll(name, "STACK"));
        const a = comparable(ours, stack), b = comparable(theirs, cliStack);
        for (const spec of [a, b]) {
          // Ids differ by nature: the Engine stores a secret's and a network's id.
          delete spec.TaskTemplate.ContainerSpec.Secrets[0].SecretID;
          for (const network of spec.TaskTemplate.Networks) delete network.Target;
        }
        assert.deepEqual(a.TaskTemplate, b.TaskTemplate);
        assert.deepEqual(a.Labels, b.Labels);
        assert.deepEqual(a.Mode, b.Mode);
        assert.deepEqual(a.EndpointSpec, b.EndpointSpec);
      });

      await t.step("the panel removes its stack: nothing of the namespace is left", async () => {
        const response = await panel.request("DELETE", `/api/swarm/stacks/${stack}`, {
          cookie: admin,
        });
        assert.equal(response.status, 200);
        const last = (await lines(response)).at(-1)!;
        assert.equal(last.done, true, JSON.stringify(last));
        const filter = `label=${NS}=${stack}`;
        for (const kind of ["service", "network", "secret", "config"]) {
          // A node drops its copy of an overlay network once its last task container is gone.
          const deadline = Date.now() + 60_000;
          let left = await docker(socket, kind, "ls", "-q", "--filter", filter);
          while (left.stdout.trim() !== "" && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            left = await docker(socket, kind, "ls", "-q", "--filter", filter);
          }
          assert.ok(left.ok, left.stderr);
          assert.equal(left.stdout.trim(), "", `${kind}s left`);
        }
        const ls = await docker(socket, "stack", "ls", "--format", "{{.Name}}");
        assert.ok(!ls.stdout.split("\n").includes(stack), ls.stdout);
        const rows = auditRows(panel.deps.db).filter((row) =>
          String(row.action).startsWith("swarm.stack.")
        );
        assert.ok(rows.some((r) => r.action === "swarm.stack.remove" && r.exit_code === 0));
        assert.ok(rows.some((r) => r.action === "swarm.stack.deploy" && r.exit_code === 0));
        assert.ok(!JSON.stringify(rows).includes("not-a-real-key"), "secret in the audit");
        // Removing it again: nothing found.
        const again = await panel.request("DELETE", `/api/swarm/stacks/${stack}`, {
          cookie: admin,
        });
        assert.equal(again.status, 404);
        await again.body?.cancel();
      });

      await t.step("a worker is not a swarm manager: 409", async () => {
        const workerClient = createDockerClient(
          { kind: "unix", path: swarm.engines[1].socket },
        );
        const onWorker = await createTestApp({ docker: workerClient });
        try {
          const cookie = onWorker.cookieFor(await onWorker.addUser("admin", "admin"));
          const response = await onWorker.request("GET", "/api/swarm/stacks", { cookie });
          assert.equal(response.status, 409);
          assert.match((await response.json()).error, /not a swarm manager/);
        } finally {
          await onWorker.close();
          workerClient.close();
        }
      });
    } finally {
      await docker(socket, "stack", "rm", cliStack);
      await docker(socket, "stack", "rm", stack);
      await panel.close();
      client.close();
    }
  },
});
