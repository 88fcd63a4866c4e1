/**
 * An image's details (inspect, history), tag and untag, push to a saved registry with
 * per-layer progress, and the registry browser (catalog pages, tags) against the real
 * Engine and the real test registries (htpasswd and bearer token).
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, type TestApp } from "../fixtures/app.ts";
import { makeTestContainer, TEST_IMAGE, testEngine } from "../fixtures/engine.ts";
import { pushImage, startRegistry, type TestRegistry } from "../fixtures/registry.ts";
import { startTokenRegistry } from "../fixtures/token_registry.ts";
import { upsertRegistry } from "../../lib/registries.ts";
import type { DockerClient } from "../../lib/docker/client.ts";
import { inspectImage } from "../../lib/docker/images.ts";
import { maskEnvInCommand } from "../../routes/api/images.ts";

async function committedImage(docker: DockerClient, prefix: string, repo: string) {
  const source = await makeTestContainer(docker, prefix, "src", {}, false);
  const { Id } = await docker.json<{ Id: string }>("POST", "/commit", {
    query: {
      container: source,
      repo,
      tag: "1",
      changes: [
        "LABEL org.example.purpose=details-test",
        "ENV API_TOKEN=image-env-secret-value",
        'CMD ["sleep", "1"]',
      ],
    },
  });
  return Id;
}

async function removeImages(docker: DockerClient, references: string[]) {
  for (const reference of references.reverse()) {
    await docker.json("DELETE", `/images/${reference}`, { query: { force: 1 } }).catch(() => {});
  }
}

async function save(app: TestApp, registry: TestRegistry) {
  return await upsertRegistry(app.deps.db, app.deps.secretKey, {
    server_address: registry.address,
    username: registry.username,
    password: registry.password,
  });
}

Deno.test("image details: inspect and history; tag and untag (the only tag is refused); viewers may read but not change", async () => {
  await using engine = await testEngine("cmimgd");
  const { docker, prefix } = engine;
  const app = await createTestApp();
  const repo = `${prefix}img`;
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    const viewer = app.cookieFor(await app.addUser("viewer", "viewer"));
    const id = await committedImage(docker, prefix, repo);
    images.push(id);

    const inspect = await app.request("GET", `/api/containers/images/${id}/json`, {
      cookie: viewer,
    });
    assert.equal(inspect.status, 200);
    const info = await inspect.json();
    assert.equal(info.Id, id);
    assert.equal(info.Config.Labels["org.example.purpose"], "details-test");
    assert.deepEqual(info.RepoTags, [`${repo}:1`]);
    assert.equal(info.Os, "linux");
    // Environment values are masked for viewers (as a container's inspect does), shown to admins.
    assert.ok(info.Config.Env.includes("API_TOKEN=••••••"), JSON.stringify(info.Config.Env));
    const adminView = await app.request("GET", `/api/containers/images/${id}/json`, {
      cookie: admin,
    });
    assert.ok((await adminView.json()).Config.Env.includes("API_TOKEN=image-env-secret-value"));
    const history = await app.request("GET", `/api/containers/images/${id}/history`, {
      cookie: viewer,
    });
    const layers = (await history.json()).history as { Id: string; CreatedBy: string }[];
    assert.ok(layers.length >= 2, JSON.stringify(layers));
    assert.equal(layers[0].Id, id);
    // By reference (a name with a slash and a colon) too.
    const byName = await app.request("GET", `/api/containers/images/${repo}:1/json`, {
      cookie: viewer,
    });
    assert.equal((await byName.json()).Id, id);
    const missing = await app.request(
      "GET",
      `/api/containers/images/sha256:${"0".repeat(64)}/history`,
      { cookie: viewer },
    );
    assert.equal(missing.status, 404);

    const refused = await app.request("POST", `/api/containers/images/${id}/tag`, {
      cookie: viewer,
      json: { reference: `${repo}:2` },
    });
    assert.equal(refused.status, 403);
    const tagged = await app.request("POST", `/api/containers/images/${id}/tag`, {
      cookie: admin,
      json: { reference: `${repo}:2` },
    });
    assert.equal(tagged.status, 200, await tagged.clone().text());
    images.push(`${repo}:2`);
    assert.deepEqual(
      (await inspectImage(docker, id)).RepoTags?.toSorted(),
      [`${repo}:1`, `${repo}:2`],
    );
    const digestRef = await app.request("POST", `/api/containers/images/${id}/tag`, {
      cookie: admin,
      json: { reference: `${repo}@sha256:${"a".repeat(64)}` },
    });
    assert.equal(digestRef.status, 400);

    const untagged = await app.request("POST", `/api/containers/images/${id}/untag`, {
      cookie: admin,
      json: { reference: `${repo}:1` },
    });
    assert.equal(untagged.status, 200, await untagged.clone().text());
    assert.deepEqual((await inspectImage(docker, id)).RepoTags, [`${repo}:2`]);
    const only = await app.request("POST", `/api/containers/images/${id}/untag`, {
      cookie: admin,
      json: { reference: `${repo}:2` },
    });
    assert.equal(only.status, 409);
    assert.match((await only.json()).error, /only tag/);
    const notMine = await app.request("POST", `/api/containers/images/${id}/untag`, {
      cookie: admin,
      json: { reference: TEST_IMAGE },
    });
    assert.equal(notMine.status, 404);

    const rows = auditRows(app.deps.db).filter((r) => r.action.startsWith("docker.image."));
    assert.deepEqual(
      rows.filter((r) => r.exit_code === 0).map((r) => r.action),
      ["docker.image.tag", "docker.image.untag"],
    );
  } finally {
    await removeImages(docker, images);
    await app.close();
  }
});

Deno.test("push to a saved registry: per-layer progress, digest, credentials never shown; unsaved registry refused", async () => {
  await using engine = await testEngine("cmimgp");
  const { docker, prefix } = engine;
  const app = await createTestApp();
  const registry = await startRegistry();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    const id = await committedImage(docker, prefix, `${prefix}push`);
    images.push(id);
    const target = `${registry.address}/priv/pushed:1`;

    const unsaved = await app.request("POST", `/api/containers/images/${id}/push`, {
      cookie: admin,
      json: { reference: target },
    });
    assert.equal(unsaved.status, 400);
    assert.match((await unsaved.json()).error, /No registry is saved/);

    await save(app, registry);
    const pushed = await app.request("POST", `/api/containers/images/${id}/push`, {
      cookie: admin,
      json: { reference: target },
    });
    const text = await pushed.text();
    assert.equal(pushed.status, 200, text);
    images.push(target);
    const lines = text.trim().split("\n").map((line) => JSON.parse(line));
    const last = lines.at(-1);
    assert.equal(last.done, true, text);
    assert.equal(last.reference, target);
    assert.match(last.digest, /^sha256:[0-9a-f]{64}$/);
    // Per-layer lines name their layer.
    assert.ok(lines.some((line) => typeof line.id === "string" && line.status), text);
    assert.ok(!text.includes(registry.password));

    // The registry has it under that digest.
    const auth = `Basic ${btoa(`${registry.username}:${registry.password}`)}`;
    const manifest = await fetch(`http://${registry.address}/v2/priv/pushed/manifests/1`, {
      method: "HEAD",
      headers: {
        Authorization: auth,
        Accept: "application/vnd.docker.distribution.manifest.v2+json",
      },
    });
    assert.equal(manifest.headers.get("docker-content-digest"), last.digest);
    const all = JSON.stringify(auditRows(app.deps.db));
    assert.ok(all.includes("docker.image.push"));
    assert.ok(!all.includes(registry.password));
    assert.ok(!app.logs.join("\n").includes(registry.password));
  } finally {
    await removeImages(docker, images);
    await app.close();
    await registry.stop();
  }
});

Deno.test("registry browser: catalog pages and tags of a saved registry (basic and bearer); admins only", async () => {
  await using engine = await testEngine("cmimgb");
  const { docker, prefix } = engine;
  const app = await createTestApp();
  const basic = await startRegistry();
  const token = await startTokenRegistry();
  const images: string[] = [];
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    const viewer = app.cookieFor(await app.addUser("viewer", "viewer"));
    const id = await committedImage(docker, prefix, `${prefix}browse`);
    images.push(id);
    for (const registry of [basic, token]) {
      for (const [repository, tag] of [["alpha/one", "1.0"], ["beta", "2"], ["beta", "3"]]) {
        images.push((await pushImage(docker, id, registry, repository, tag)).reference);
      }
      const saved = await save(app, registry);
      const base = `/api/containers/registries/${saved.id}`;
      assert.equal((await app.request("GET", `${base}/catalog`, { cookie: viewer })).status, 403);

      const first = await app.request("GET", `${base}/catalog?n=1`, { cookie: admin });
      const firstPage = await first.json();
      assert.equal(first.status, 200, JSON.stringify(firstPage));
      assert.deepEqual(firstPage.repositories, ["alpha/one"]);
      assert.equal(firstPage.next, "alpha/one");
      const second = await app.request(
        "GET",
        `${base}/catalog?n=1&last=${encodeURIComponent(firstPage.next)}`,
        { cookie: admin },
      );
      const secondPage = await second.json();
      assert.deepEqual(secondPage.repositories, ["beta"]);
      const all = await (await app.request("GET", `${base}/catalog`, { cookie: admin })).json();
      assert.deepEqual(all, { registry: registry.address, repositories: ["alpha/one", "beta"] });

      const tags = await app.request("GET", `${base}/tags?repository=beta`, { cookie: admin });
      const tagText = await tags.text();
      assert.equal(tags.status, 200, tagText);
      assert.deepEqual(JSON.parse(tagText).tags.toSorted(), ["2", "3"]);
      const nothing = await app.request("GET", `${base}/tags?repository=nothing`, {
        cookie: admin,
      });
      assert.equal(nothing.status, 404);
      const bad = await app.request("GET", `${base}/tags?repository=Bad%20Name`, {
        cookie: admin,
      });
      assert.equal(bad.status, 400);
      assert.ok(!tagText.includes(registry.password));
    }
    assert.equal(
      (await app.request("GET", "/api/containers/registries/999/catalog", { cookie: admin }))
        .status,
      404,
    );

    // A browsed tag pulls through the existing pull.
    await removeImages(docker, [`${basic.address}/beta:3`]);
    const pulled = await app.request("POST", "/api/containers/images/pull", {
      cookie: admin,
      json: { reference: `${basic.address}/beta:3` },
    });
    const pullText = await pulled.text();
    assert.match(pullText.trim().split("\n").at(-1)!, /"done":true/);
    assert.equal((await inspectImage(docker, `${basic.address}/beta:3`)).Id, id);
  } finally {
    await removeImages(docker, images);
    await app.close();
    await basic.stop();
    await token.stop();
  }
});

Deno.test("history for viewers: ENV values in a layer's command are masked", () => {
  assert.equal(
    maskEnvInCommand("/bin/sh -c #(nop)  ENV API_TOKEN=abc OTHER=x y"),
    "/bin/sh -c #(nop)  ENV API_TOKEN=•••••• OTHER=•••••• y",
  );
  assert.equal(maskEnvInCommand("ENV KEY=value"), "ENV KEY=••••••");
  assert.equal(
    maskEnvInCommand("/bin/sh -c #(nop)  ENV PATH /usr/bin"),
    "/bin/sh -c #(nop)  ENV PATH ••••••",
  );
  assert.equal(maskEnvInCommand("/bin/sh -c apk add curl"), "/bin/sh -c apk add curl");
});
