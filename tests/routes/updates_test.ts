/**
 * Image update checks against the real Engine and two real registries: the htpasswd one
 * (tests/fixtures/registry.ts) and the bearer-token one (tests/fixtures/token_registry.ts,
 * whose tokens the real docker-registry verifies).
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, type TestApp } from "../fixtures/app.ts";
import { makeTestContainer, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { pushImage, startRegistry } from "../fixtures/registry.ts";
import { startTokenRegistry } from "../fixtures/token_registry.ts";
import { delay, startPanel } from "../fixtures/server.ts";
import { deleteRegistry, findRegistry } from "../../lib/registries.ts";
import { newTestImage as newImage, removeImages, saveCredentials } from "../fixtures/updates.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import type { UpdateResult } from "../../lib/updates/store.ts";
import { ConfigError, parseCommand } from "../../lib/config.ts";

/** A new image (its own config, so its own id and digest) committed from the test image. */
async function check(app: TestApp, cookie: string, containers?: string[]) {
  const response = await app.request("POST", "/api/containers/updates/check", {
    cookie,
    json: containers ? { containers } : {},
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const body = JSON.parse(text) as { checked: number; results: UpdateResult[] };
  return { text, body, byId: new Map(body.results.map((r) => [r.id, r])) };
}

/** Nothing the panel said or kept holds these secrets (or their basic-auth encoding). */
function assertNoSecret(app: TestApp, texts: string[], secrets: string[], username: string) {
  const everything = [
    ...texts,
    ...app.logs,
    JSON.stringify(auditRows(app.deps.db)),
    JSON.stringify(app.deps.db.prepare("SELECT * FROM image_update_checks").all()),
  ].join("\n");
  for (const secret of secrets) {
    assert.ok(!everything.includes(secret), "a password appears in a response, log or row");
    assert.ok(!everything.includes(btoa(`${username}:${secret}`)), "basic credentials leaked");
  }
}

Deno.test("token registry: up to date, then a new push under the same tag is an update with the new digest", async () => {
  await using engine = await testEngine("cmupd");
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
    const container = await makeTestContainer(docker, prefix, "app", {
      Image: first.reference,
      Cmd: ["sleep", "300"],
    });

    const before = await check(app, admin, [container]);
    const fresh = before.byId.get(container)!;
    assert.equal(fresh.state, "up_to_date", JSON.stringify(fresh));
    assert.equal(fresh.local_digest, first.digest);
    assert.equal(fresh.remote_digest, first.digest);
    assert.equal(fresh.image, first.reference);

    const second = await pushImage(
      docker,
      await newImage(docker, prefix, "v2", images),
      registry,
      "priv/app",
      "1",
    );
    assert.notEqual(second.digest, first.digest);

    const after = await check(app, admin, [container]);
    const behind = after.byId.get(container)!;
    assert.equal(behind.state, "update_available", JSON.stringify(behind));
    assert.equal(behind.local_digest, first.digest);
    assert.equal(behind.remote_digest, second.digest);
    assert.ok(behind.update_seen_at && !Number.isNaN(Date.parse(behind.update_seen_at)));

    // Any signed-in user reads the last result; it survives in the database.
    const listed = await app.request("GET", "/api/containers/updates", { cookie: viewer });
    const listText = await listed.text();
    assert.equal(listed.status, 200);
    const row = (JSON.parse(listText).updates as UpdateResult[]).find((r) => r.id === container)!;
    assert.deepEqual(
      {
        name: row.name,
        image: row.image,
        local: row.local_digest,
        remote: row.remote_digest,
        state: row.state,
      },
      {
        name: `${prefix}app`,
        image: first.reference,
        local: first.digest,
        remote: second.digest,
        state: "update_available",
      },
    );
    assert.ok(row.checked_at);

    // A viewer may not make the panel call registries; the refusal is audited.
    const refused = await app.request("POST", "/api/containers/updates/check", {
      cookie: viewer,
      json: {},
    });
    assert.equal(refused.status, 403);
    const rows = auditRows(app.deps.db).filter((r) => r.action === "docker.updates.check");
    assert.ok(rows.some((r) => r.actor === "admin" && r.exit_code === 0 && r.target === container));
    assert.ok(rows.some((r) => r.actor === "viewer" && r.exit_code === 403));

    // The bearer flow really ran: the issuer gave our client tokens for the saved user.
    assert.ok(
      registry.tokenRequests.some((t) =>
        t.authorised && t.scope === "repository:priv/app:pull" && t.service === registry.service
      ),
      JSON.stringify(registry.tokenRequests),
    );
    assertNoSecret(
      app,
      [before.text, after.text, listText],
      [registry.password],
      registry.username,
    );
  } finally {
    await removeTestContainersFirst(engine);
    await removeImages(docker, images);
    await app.close();
    await registry.stop();
  }
});

Deno.test("version awareness: a container on 1.0.0 sees patch 1.0.1, minor 1.1.0, major 2.0.0 and never -alpine", async () => {
  await using engine = await testEngine("cmupv");
  const { docker, prefix } = engine;
  const registry = await startTokenRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await saveCredentials(app, registry);
    const image = await newImage(docker, prefix, "ver", images);
    let current = "";
    for (const tag of ["1.0.0", "1.0.1", "1.1.0", "2.0.0", "1.0.1-alpine", "latest"]) {
      const pushed = await pushImage(docker, image, registry, "priv/ver", tag);
      images.push(pushed.reference);
      if (tag === "1.0.0") current = pushed.reference;
    }
    const container = await makeTestContainer(docker, prefix, "ver", {
      Image: current,
      Cmd: ["sleep", "300"],
    });
    const { byId } = await check(app, admin, [container]);
    const result = byId.get(container)!;
    assert.equal(result.state, "up_to_date", JSON.stringify(result));
    assert.deepEqual(result.versions, { patch: "1.0.1", minor: "1.1.0", major: "2.0.0" });
  } finally {
    await removeTestContainersFirst(engine);
    await removeImages(docker, images);
    await app.close();
    await registry.stop();
  }
});

Deno.test("wrong credentials, none saved, an unknown tag, an unreachable registry, a local image, a pinned digest", async () => {
  await using engine = await testEngine("cmupe");
  const { docker, prefix } = engine;
  const registry = await startRegistry();
  const gone = await startRegistry();
  const app = await createTestApp();
  const images: string[] = [];
  const wrongPassword = `wrong-${crypto.randomUUID()}`;
  const texts: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await saveCredentials(app, registry);
    const image = await newImage(docker, prefix, "err", images);
    const app1 = await pushImage(docker, image, registry, "priv/app", "1");
    const removed = await pushImage(docker, image, registry, "priv/removed", "1");
    const far = await pushImage(docker, image, gone, "priv/app", "1");
    images.push(app1.reference, removed.reference, far.reference);
    const make = (name: string, reference: string) =>
      makeTestContainer(docker, prefix, name, { Image: reference, Cmd: ["sleep", "300"] });
    const ok = await make("ok", app1.reference);
    const unknownTag = await make("unknown-tag", removed.reference);
    const unreachable = await make("unreachable", far.reference);
    const local = await make("local", TEST_IMAGE);
    const pinned = await make("pinned", `${registry.address}/priv/app@${app1.digest}`);

    // The tag disappears from the registry (the manifest is deleted); the registry that
    // served `far` stops.
    const auth = `Basic ${btoa(`${registry.username}:${registry.password}`)}`;
    const deleted = await fetch(
      `http://${registry.address}/v2/priv/removed/manifests/${removed.digest}`,
      { method: "DELETE", headers: { Authorization: auth } },
    );
    await deleted.body?.cancel();
    assert.equal(deleted.status, 202);
    await gone.stop();

    const first = await check(app, admin, [ok, unknownTag, unreachable, local, pinned]);
    texts.push(first.text);
    const state = (id: string) => {
      const r = first.byId.get(id)!;
      return [r.state, r.error_kind ?? null];
    };
    assert.deepEqual(state(ok), ["up_to_date", null]);
    assert.deepEqual(state(unknownTag), ["error", "not_found"]);
    assert.deepEqual(state(unreachable), ["error", "unreachable"]);
    assert.deepEqual(state(local), ["unknown", null]);
    assert.deepEqual(state(pinned), ["up_to_date", null]);
    assert.equal(first.byId.get(pinned)!.pinned, true);
    assert.match(
      first.byId.get(unreachable)!.error!,
      new RegExp(far.reference.split("/")[0].replace(".", "\\.")),
    );

    // Wrong password: unauthorised, and the password is nowhere.
    await saveCredentials(app, registry, wrongPassword);
    const wrong = await check(app, admin, [ok]);
    texts.push(wrong.text);
    assert.equal(wrong.byId.get(ok)!.state, "error");
    assert.equal(wrong.byId.get(ok)!.error_kind, "unauthorised");
    assert.match(wrong.byId.get(ok)!.error!, /refused the saved credentials/);

    // No credentials at all.
    deleteRegistry(app.deps.db, findRegistry(app.deps.db, registry.address)!.id);
    const none = await check(app, admin, [ok]);
    texts.push(none.text);
    assert.equal(none.byId.get(ok)!.error_kind, "unauthorised");
    assert.match(none.byId.get(ok)!.error!, /none are saved/);

    // An unknown container id is a 404 naming it; an invalid one a 400.
    const missing = await app.request("POST", "/api/containers/updates/check", {
      cookie: admin,
      json: { containers: ["f".repeat(64)] },
    });
    assert.equal(missing.status, 404);
    const invalid = await app.request("POST", "/api/containers/updates/check", {
      cookie: admin,
      json: { containers: ["../x"] },
    });
    assert.equal(invalid.status, 400);

    const listed = await app.request("GET", "/api/containers/updates", { cookie: admin });
    texts.push(await listed.text());
    assertNoSecret(app, texts, [registry.password, wrongPassword], registry.username);
  } finally {
    await removeTestContainersFirst(engine);
    await removeImages(docker, images);
    await app.close();
    await registry.stop();
  }
});

Deno.test("the schedule (--update-check-interval 2s) asks at most once per reference per interval", async () => {
  await using engine = await testEngine("cmups");
  const { docker, prefix } = engine;
  const registry = await startTokenRegistry();
  const images: string[] = [];
  const started = Date.now();
  await using panel = await startPanel({ args: ["--update-check-interval", "2s"] });
  try {
    const cookie = await panel.login();
    const saved = await fetch(`${panel.url}/api/containers/registries`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
      body: JSON.stringify({
        server_address: registry.address,
        username: registry.username,
        password: registry.password,
      }),
    });
    assert.ok(saved.ok, await saved.text());
    const pushed = await pushImage(
      docker,
      await newImage(docker, prefix, "sched", images),
      registry,
      "priv/app",
      "1",
    );
    images.push(pushed.reference);
    // Two containers on the same reference: still one request per interval.
    const one = await makeTestContainer(docker, prefix, "one", {
      Image: pushed.reference,
      Cmd: ["sleep", "300"],
    });
    await makeTestContainer(docker, prefix, "two", {
      Image: pushed.reference,
      Cmd: ["sleep", "300"],
    });

    // One request is one answered HEAD: the registry's 401 challenge that comes before the
    // first token is part of the same request, not a second one.
    const heads = () =>
      registry.accessLog().filter((line) =>
        line.includes('"HEAD /v2/priv/app/manifests/1 ') && !/" 401 /.test(line)
      );
    const deadline = Date.now() + 60_000;
    while (heads().length < 4 && Date.now() < deadline) await delay(200);
    const elapsed = Date.now() - started;
    const count = heads().length;
    assert.ok(count >= 4, `the schedule ran: ${count} HEAD requests in ${elapsed} ms`);
    assert.ok(
      count <= Math.floor(elapsed / 2000) + 1,
      `${count} HEAD requests in ${elapsed} ms is more than one per 2 s interval`,
    );

    // The scheduled result is there for users, and the checks are audited as the system's.
    const listed = await fetch(`${panel.url}/api/containers/updates`, {
      headers: { Cookie: cookie },
    });
    const result = (await listed.json()).updates.find((r: UpdateResult) => r.id === one);
    assert.equal(result?.state, "up_to_date", JSON.stringify(result));
    const audit = await fetch(`${panel.url}/api/audit?action=docker.updates.check`, {
      headers: { Cookie: cookie },
    });
    assert.match(await audit.text(), /"actor":"system"/);
    assert.ok(!panel.output().includes(registry.password));
  } finally {
    await removeTestContainersFirst(engine);
    await removeImages(docker, images);
    await registry.stop();
  }
});

/** Containers go before their images can (testEngine's disposal would come too late). */
async function removeTestContainersFirst(engine: { docker: DockerClient; prefix: string }) {
  const { removeTestContainers } = await import("../fixtures/engine.ts");
  await removeTestContainers(engine.docker, engine.prefix);
}

Deno.test("--update-check-interval: 6h by default, 0 disables, CM_UPDATE_CHECK_INTERVAL, refused when not a duration", () => {
  const interval = (args: string[], env: Record<string, string> = {}) => {
    const command = parseCommand(args, (name) => env[name]);
    if (command.kind !== "serve") throw new Error("not serve");
    return command.config.updateCheckIntervalMs;
  };
  assert.equal(interval([]), 6 * 3_600_000);
  assert.equal(interval(["--update-check-interval", "0"]), 0);
  assert.equal(interval(["--update-check-interval", "2s"]), 2000);
  assert.equal(interval([], { CM_UPDATE_CHECK_INTERVAL: "30m" }), 1_800_000);
  assert.equal(
    interval(["--update-check-interval", "1h"], { CM_UPDATE_CHECK_INTERVAL: "0" }),
    3_600_000,
  );
  for (const bad of ["5", "-1s", "1w", ""]) {
    assert.throws(
      () => interval(["--update-check-interval", bad]),
      (error: Error) =>
        error instanceof ConfigError && /--update-check-interval/.test(error.message),
      bad,
    );
  }
});
