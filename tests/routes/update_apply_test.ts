/**
 * POST /api/containers/{id}/update (docker.update) against the real Engine and the real test
 * registries: a new digest under the same tag, a move to a newer version tag, a new image
 * whose container exits at once (rolled back to the old one), and a compose stack of which
 * only the service whose image changed is updated.
 */
import assert from "node:assert/strict";
import { newTestImage as newImage, removeImages, saveCredentials } from "../fixtures/updates.ts";
import { auditRows, createTestApp, type TestApp } from "../fixtures/app.ts";
import { makeTestContainer, removeTestContainers, testEngine } from "../fixtures/engine.ts";
import { pushImage, startRegistry } from "../fixtures/registry.ts";
import { startTokenRegistry } from "../fixtures/token_registry.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { inspectContainer, listContainers } from "../../lib/docker/containers.ts";
import { LABEL } from "../../lib/compose/plan.ts";
import { cleanupComposeProject, deployStack } from "../fixtures/compose.ts";
import type { UpdateResult } from "../../lib/updates/store.ts";

/** A new image (its own config, so its own id and digest) committed from a test container. */
async function check(app: TestApp, cookie: string, id: string): Promise<UpdateResult> {
  const response = await app.request("POST", "/api/containers/updates/check", {
    cookie,
    json: { containers: [id] },
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return (JSON.parse(text) as { results: UpdateResult[] }).results.find((r) => r.id === id)!;
}

/** Posts the update and reads its NDJSON lines; returns them with the last one. */
async function update(app: TestApp, cookie: string, id: string, json: unknown = {}) {
  const response = await app.request("POST", `/api/containers/${id}/update`, { cookie, json });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get("content-type") ?? "", /ndjson/);
  const lines = text.trim().split("\n").map((line) => JSON.parse(line));
  return { text, lines, last: lines.at(-1) as Record<string, unknown> };
}

/** The inspect without what a new container necessarily has anew (and its image). */
function comparable(info: Awaited<ReturnType<typeof inspectContainer>>) {
  const raw = structuredClone(info) as unknown as Record<string, Record<string, unknown>>;
  const shortId = info.Id.slice(0, 12);
  for (
    const key of [
      "Id",
      "Created",
      "State",
      "Image",
      "ResolvConfPath",
      "HostnamePath",
      "HostsPath",
      "LogPath",
      "RestartCount",
      "GraphDriver",
      "SizeRw",
      "SizeRootFs",
    ]
  ) delete raw[key];
  delete raw.Config.Image;
  if (raw.Config.Hostname === shortId) delete raw.Config.Hostname;
  const networks = raw.NetworkSettings.Networks as Record<string, Record<string, unknown>>;
  const settings: Record<string, unknown> = {};
  for (const [name, endpoint] of Object.entries(networks)) {
    settings[name] = {
      Aliases: ((endpoint.Aliases as string[] | null) ?? []).filter((alias) => alias !== shortId),
      IPAMConfig: endpoint.IPAMConfig,
      Links: endpoint.Links,
      DriverOpts: endpoint.DriverOpts,
    };
  }
  delete raw.NetworkSettings;
  raw.Mounts = (info.Mounts as { Name?: string; Destination: string; RW: boolean }[])
    .map((mount) => ({ name: mount.Name, destination: mount.Destination, rw: mount.RW }))
    .sort((a, b) => a.destination.localeCompare(b.destination)) as never;
  return { ...raw, networks: settings };
}

/** A container with more than defaults to keep: env, labels, limits, a volume, a policy. */
function appBody(image: string, prefix: string, cmd: string[] = ["sleep", "300"]) {
  return {
    Image: image,
    Cmd: cmd,
    Env: ["MODE=production", "TOKEN=abc"],
    Labels: { "com.example.team": "ops" },
    WorkingDir: "/tmp",
    Hostname: "apphost",
    HostConfig: {
      Binds: [`${prefix}data:/data`],
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      Memory: 64 * 1024 * 1024,
      PidsLimit: 64,
    },
  };
}

Deno.test("update: a new push under the same tag recreates the container on it with every field kept, running, audited with both digests", async () => {
  await using engine = await testEngine("cmupa");
  const { docker, prefix } = engine;
  const registry = await startTokenRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    const viewer = app.cookieFor(await app.addUser("viewer", "viewer"));
    await saveCredentials(app, registry);
    const first = await pushImage(
      docker,
      await newImage(docker, prefix, "v1", images),
      registry,
      "priv/app",
      "1",
    );
    images.push(first.reference);
    const id = await makeTestContainer(docker, prefix, "app", appBody(first.reference, prefix));
    const before = await inspectContainer(docker, id);

    const second = await pushImage(
      docker,
      await newImage(docker, prefix, "v2", images),
      registry,
      "priv/app",
      "1",
    );
    // The pushed tag is removed locally, so the update really pulls it.
    await docker.json("DELETE", `/images/${first.reference}`).catch(() => {});
    assert.equal((await check(app, admin, id)).state, "update_available");

    const refused = await app.request("POST", `/api/containers/${id}/update`, {
      cookie: viewer,
      json: {},
    });
    assert.equal(refused.status, 403);
    await refused.body?.cancel();

    const { lines, last } = await update(app, admin, id);
    assert.ok(lines.some((line) => line.progress), "pull progress is streamed");
    assert.equal(last.done, true, JSON.stringify(last));
    assert.equal(last.outcome, "updated");
    assert.equal(last.old_digest, first.digest);
    assert.equal(last.new_digest, second.digest);
    assert.equal(last.previous_id, id);

    const after = await inspectContainer(docker, `${prefix}app`);
    assert.equal(after.Id, last.id);
    assert.notEqual(after.Id, id);
    assert.notEqual(after.Image, before.Image);
    assert.equal(after.Config.Image, first.reference);
    assert.deepEqual(comparable(after), comparable(before));
    assert.equal(after.State.Running, true);
    await assert.rejects(inspectContainer(docker, id), "the old container is removed");

    const rows = auditRows(app.deps.db).filter((row) =>
      row.action === "docker.update" && row.actor === "admin"
    );
    assert.equal(rows.length, 2, "a started row and a final row");
    assert.equal(rows[1].exit_code, 0);
    assert.ok(rows[1].stdout.includes(first.digest) && rows[1].stdout.includes(second.digest));
    assert.ok(!JSON.stringify(auditRows(app.deps.db)).includes(registry.password));

    // The stored check now describes the new container.
    assert.equal((await check(app, admin, after.Id)).state, "up_to_date");
  } finally {
    // Containers first: an image a running container uses is not removed, even forced.
    await removeTestContainers(docker, prefix);
    await app.close();
    await registry.stop();
    await removeImages(docker, images);
    await docker.json("DELETE", `/volumes/${prefix}data`).catch(() => {});
  }
});

Deno.test("update: a new image whose container exits at once is rolled back to the old one, which runs again", async () => {
  await using engine = await testEngine("cmupb");
  const { docker, prefix } = engine;
  const registry = await startRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await saveCredentials(app, registry);
    const first = await pushImage(
      docker,
      await newImage(docker, prefix, "good", images),
      registry,
      "priv/app",
      "1",
    );
    images.push(first.reference);
    // Runs while /broken is absent: the new image has it, so its container exits at once.
    const cmd = ["sh", "-c", "[ ! -e /broken ] && exec sleep 300"];
    const id = await makeTestContainer(
      docker,
      prefix,
      "app",
      appBody(first.reference, prefix, cmd),
    );
    const before = await inspectContainer(docker, id);
    const second = await pushImage(
      docker,
      await newImage(docker, prefix, "broken", images, { cmd: ["touch", "/broken"] }),
      registry,
      "priv/app",
      "1",
    );

    const { last } = await update(app, admin, id);
    assert.equal(last.done, true, JSON.stringify(last));
    assert.equal(last.outcome, "rolled_back");
    assert.match(String(last.reason), /exited at once/);
    assert.equal(last.id, id);
    assert.equal(last.old_digest, first.digest);
    assert.equal(last.new_digest, second.digest);

    const after = await inspectContainer(docker, `${prefix}app`);
    assert.equal(after.Id, id, "the old container is back under its name");
    assert.equal(after.Image, before.Image);
    assert.equal(after.State.Running, true);
    assert.deepEqual(comparable(after), comparable(before));
    const named = await docker.json<{ Names: string[] }[]>("GET", "/containers/json", {
      query: { all: 1, filters: JSON.stringify({ name: [`${prefix}app`] }) },
    });
    assert.deepEqual(named.map((c) => c.Names[0]), [`/${prefix}app`], "nothing left behind");
    const rows = auditRows(app.deps.db).filter((row) => row.action === "docker.update");
    assert.ok(rows.at(-1)!.stdout.includes("rolled_back"));
    assert.ok(rows.at(-1)!.stdout.includes(second.digest));
  } finally {
    // Containers first: an image a running container uses is not removed, even forced.
    await removeTestContainers(docker, prefix);
    await app.close();
    await registry.stop();
    await removeImages(docker, images);
    await docker.json("DELETE", `/volumes/${prefix}data`).catch(() => {});
  }
});

Deno.test("update: a move to tag 1.1.0 keeps the configuration; bad input is a 400 before anything happens", async () => {
  await using engine = await testEngine("cmupc");
  const { docker, prefix } = engine;
  const registry = await startRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await saveCredentials(app, registry);
    const old = await newImage(docker, prefix, "v100", images);
    const first = await pushImage(docker, old, registry, "priv/app", "1.0.0");
    images.push(first.reference);
    const minor = await pushImage(
      docker,
      await newImage(docker, prefix, "v110", images),
      registry,
      "priv/app",
      "1.1.0",
    );
    images.push(minor.reference);
    const id = await makeTestContainer(docker, prefix, "app", appBody(first.reference, prefix));
    const before = await inspectContainer(docker, id);

    for (const json of [{ tag: "bad tag" }, { tag: 7 }, { other: 1 }]) {
      const response = await app.request("POST", `/api/containers/${id}/update`, {
        cookie: admin,
        json,
      });
      assert.equal(response.status, 400, JSON.stringify(json));
      await response.body?.cancel();
    }

    const { last } = await update(app, admin, id, { tag: "1.1.0" });
    assert.equal(last.outcome, "updated", JSON.stringify(last));
    assert.equal(last.new_image, minor.reference);
    assert.equal(last.new_digest, minor.digest);
    const after = await inspectContainer(docker, `${prefix}app`);
    assert.equal(after.Config.Image, minor.reference);
    assert.equal(after.State.Running, true);
    assert.deepEqual(comparable(after), comparable(before));
  } finally {
    // Containers first: an image a running container uses is not removed, even forced.
    await removeTestContainers(docker, prefix);
    await app.close();
    await registry.stop();
    await removeImages(docker, images);
    await docker.json("DELETE", `/volumes/${prefix}data`).catch(() => {});
  }
});

Deno.test("stack update: of two services only the one whose image changed is recreated, and the compose plan then sees both as current", async () => {
  await using engine = await testEngine("cmupd");
  const { docker, prefix } = engine;
  const registry = await startRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  const project = `cmups${crypto.randomUUID().slice(0, 8)}`;
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await saveCredentials(app, registry);
    const a = await pushImage(
      docker,
      await newImage(docker, prefix, "a1", images),
      registry,
      "priv/a",
      "1",
    );
    const b = await pushImage(
      docker,
      await newImage(docker, prefix, "b1", images),
      registry,
      "priv/b",
      "1",
    );
    images.push(a.reference, b.reference);
    const service = (image: string) =>
      `    image: ${image}\n    command: ["sleep", "300"]\n    stop_grace_period: 1s\n`;
    const yaml = `services:\n  a:\n${service(a.reference)}  b:\n${service(b.reference)}`;
    const deployed = await deployStack(app, admin, { yaml, project });
    assert.equal(deployed.last?.done, true, deployed.text);
    const before = new Map(
      (await projectContainers(docker, project)).map((c) => [c.Labels[LABEL.service], c]),
    );
    const bBefore = await inspectContainer(docker, before.get("b")!.Id);

    const newB = await pushImage(
      docker,
      await newImage(docker, prefix, "b2", images),
      registry,
      "priv/b",
      "1",
    );
    const response = await app.request("POST", `/api/containers/updates/stacks/${project}`, {
      cookie: admin,
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const last = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(last.done, true, text);
    assert.deepEqual(last.unchanged, ["a"]);
    assert.deepEqual(last.updated.map((u: { service: string }) => u.service), ["b"]);
    const applied = last.updated[0].containers[0];
    assert.equal(applied.outcome, "updated");
    assert.equal(applied.old_digest, b.digest);
    assert.equal(applied.new_digest, newB.digest);

    const after = new Map(
      (await projectContainers(docker, project)).map((c) => [c.Labels[LABEL.service], c]),
    );
    assert.equal(after.get("a")!.Id, before.get("a")!.Id, "a is left alone");
    assert.notEqual(after.get("b")!.Id, before.get("b")!.Id, "b is recreated");
    assert.equal(after.get("b")!.State, "running");
    const bAfter = await inspectContainer(docker, after.get("b")!.Id);
    assert.notEqual(bAfter.Image, bBefore.Image);
    assert.deepEqual(comparable(bAfter), comparable(bBefore));

    // The same file planned again: nothing to do for either service.
    const preview = await app.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml, project },
    });
    const plan = await preview.json();
    assert.equal(preview.status, 200, JSON.stringify(plan));
    assert.deepEqual(
      plan.services.map((s: { name: string; action: string }) => [s.name, s.action]),
      [["a", "unchanged"], ["b", "unchanged"]],
    );
    const rows = auditRows(app.deps.db).filter((row) => row.action === "compose.stack.update");
    assert.equal(rows.at(-1)!.exit_code, 0);
    assert.ok(rows.at(-1)!.stdout.includes(newB.digest) && rows.at(-1)!.stdout.includes(b.digest));
  } finally {
    await cleanupComposeProject(docker, project);
    await removeTestContainers(docker, prefix);
    await app.close();
    await registry.stop();
    await removeImages(docker, images);
  }
});

async function projectContainers(docker: DockerClient, project: string) {
  return await listContainers(docker, {
    all: true,
    filters: { label: [`${LABEL.project}=${project}`] },
  }) as { Id: string; State: string; Labels: Record<string, string> }[];
}
