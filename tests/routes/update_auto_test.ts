/**
 * The update policy label io.quazzar.update against the real panel process, the real Engine
 * and the real test registry, with --update-check-interval 2s: `auto` is updated by the
 * schedule without a click (audited as the scheduler), `notify` only gets its result,
 * `off` is never checked; a webhook receiver gets updates.found and update.applied.
 */
import assert from "node:assert/strict";
import { newTestImage as newImage } from "../fixtures/updates.ts";
import { makeTestContainer, removeTestContainers, testEngine } from "../fixtures/engine.ts";
import { pushImage, startRegistry } from "../fixtures/registry.ts";
import { delay, startPanel } from "../fixtures/server.ts";
import { inspectContainer, listContainers } from "../../lib/docker/containers.ts";
import type { UpdateResult } from "../../lib/updates/store.ts";
import type { WebhookPayload } from "../../lib/webhooks/payload.ts";

Deno.test("policy label: auto is updated by the 2 s schedule without a click, notify only badged, off not checked; webhooks told", async () => {
  await using engine = await testEngine("cmauto");
  const { docker, prefix } = engine;
  const registry = await startRegistry();
  const images: string[] = [];
  const received: WebhookPayload[] = [];
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push(await request.json());
      return new Response("ok");
    },
  );
  await using panel = await startPanel({ args: ["--update-check-interval", "2s"] });
  try {
    const cookie = await panel.login();
    const post = (path: string, body: unknown) =>
      fetch(`${panel.url}${path}`, {
        method: "POST",
        headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const saved = await post("/api/containers/registries", {
      server_address: registry.address,
      username: registry.username,
      password: registry.password,
    });
    assert.ok(saved.ok, await saved.text());
    const hook = await post("/api/webhooks", {
      url: `http://127.0.0.1:${receiver.addr.port}/hook/token-in-path`,
    });
    assert.equal(hook.status, 201, await hook.text());

    const v1 = await newImage(docker, prefix, "v1");
    images.push(v1);
    const pushed = await pushImage(docker, v1, registry, "priv/auto", "1");
    images.push(pushed.reference);
    const create = (name: string, policy: string) =>
      makeTestContainer(docker, prefix, name, {
        Image: pushed.reference,
        Cmd: ["sleep", "300"],
        Labels: { "io.quazzar.update": policy },
      });
    await create("auto", "auto");
    const notify = await create("notify", "notify");
    const off = await create("off", "off");

    // A scheduled check has seen v1 before the new content is pushed.
    const results = async () => {
      const response = await fetch(`${panel.url}/api/containers/updates`, {
        headers: { Cookie: cookie },
      });
      return (await response.json()).updates as UpdateResult[];
    };
    let deadline = Date.now() + 60_000;
    while (!(await results()).some((r) => r.id === notify) && Date.now() < deadline) {
      await delay(200);
    }
    assert.ok((await results()).some((r) => r.id === notify), "the schedule checked");

    const v2 = await newImage(docker, prefix, "v2");
    images.push(v2);
    const second = await pushImage(docker, v2, registry, "priv/auto", "1");
    const byName = async (name: string) =>
      (await listContainers(docker, { all: true })).find((c) =>
        c.Names.includes(`/${prefix}${name}`)
      );
    deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const current = await byName("auto");
      if (current && current.ImageID === v2) break;
      await delay(250);
    }
    const updated = await byName("auto");
    assert.equal(updated?.ImageID, v2, "the auto container runs the new image");
    const info = await inspectContainer(docker, updated!.Id);
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.Image, pushed.reference);
    assert.equal(info.Config.Labels?.["io.quazzar.update"], "auto");

    // notify: an update is shown, the container is left alone; off: never checked.
    deadline = Date.now() + 30_000;
    let notifyResult: UpdateResult | undefined;
    while (Date.now() < deadline) {
      notifyResult = (await results()).find((r) => r.id === notify);
      if (notifyResult?.state === "update_available") break;
      await delay(200);
    }
    assert.equal(notifyResult?.state, "update_available", JSON.stringify(notifyResult));
    assert.equal(notifyResult?.remote_digest, second.digest);
    assert.equal((await byName("notify"))?.ImageID, v1);
    assert.ok(!(await results()).some((r) => r.id === off), "an off container is not checked");

    // Audited as the scheduler, with both digests (the final row comes once it settled).
    let auditText = "";
    deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const audit = await fetch(`${panel.url}/api/audit?action=docker.update`, {
        headers: { Cookie: cookie },
      });
      auditText = await audit.text();
      if (auditText.includes(`"outcome\\":\\"updated`)) break;
      await delay(200);
    }
    assert.match(auditText, /"actor":"scheduler"/);
    assert.ok(auditText.includes(second.digest), "the audit row names the new digest");
    assert.ok(auditText.includes(pushed.digest), "the audit row names the old digest");

    // The webhook heard about the update found and the one applied.
    deadline = Date.now() + 30_000;
    while (
      !received.some((p) => p.event === "update.applied") && Date.now() < deadline
    ) await delay(200);
    const found = received.find((p) =>
      p.event === "updates.found" && p.updates.some((u) => u.remote_digest === second.digest)
    );
    assert.ok(found, JSON.stringify(received));
    assert.equal(found.source, "container-manager");
    assert.match(found.delivery, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(found.sent_at)));
    if (found.event !== "updates.found") throw new Error("unreachable");
    const entry = found.updates.find((u) => u.name === `${prefix}notify`);
    assert.equal(entry?.image, pushed.reference);
    assert.equal(entry?.local_digest, pushed.digest);
    const applied = received.find((p) => p.event === "update.applied");
    if (applied?.event !== "update.applied") throw new Error("no update.applied payload");
    assert.equal(applied.update.name, `${prefix}auto`);
    assert.equal(applied.update.outcome, "updated");
    assert.ok(!panel.output().includes(registry.password));
  } finally {
    await removeTestContainers(docker, prefix);
    for (const image of images.reverse()) {
      await docker.json("DELETE", `/images/${image}`, { query: { force: 1 } }).catch(() => {});
    }
    await receiver.shutdown();
    await registry.stop();
  }
});
