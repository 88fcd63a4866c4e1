import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../fixtures/app.ts";
import {
  ensureTestImage,
  removeContainersNamed,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import {
  freePort,
  pushToRegistry,
  startRegistry,
  startSlowProxy,
  type TestRegistry,
} from "../fixtures/registry.ts";
import { buildTar, randomPayloadTar } from "../fixtures/tar.ts";
import { createContainer, startContainer } from "../../lib/docker/containers.ts";
import { importImage, listImages } from "../../lib/docker/images.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function pull(t: TestApp, cookie: string, reference: string) {
  const response = await t.request("POST", "/api/containers/images/pull", {
    cookie,
    json: { reference },
  });
  if (response.headers.get("content-type") !== "application/x-ndjson") {
    // Refused before any progress (the registry wants credentials): a plain JSON error.
    const text = await response.text();
    assert.ok(response.status >= 400, `${response.status} ${text}`);
    return { lines: [], last: { done: false, status: response.status, ...JSON.parse(text) }, text };
  }
  assert.equal(response.status, 200);
  const text = await response.text();
  const lines = text.trim().split("\n").map((line) => JSON.parse(line));
  return { lines, last: lines.at(-1), text };
}

/** Removes only the tags this test made (a pulled tag may share its image with the test image). */
async function removeImagesMatching(t: TestApp, needle: string) {
  for (const image of await listImages(t.deps.docker)) {
    for (const tag of (image.RepoTags ?? []).filter((tag) => tag.includes(needle))) {
      await t.deps.docker.json("DELETE", `/images/${tag}`).catch(() => {});
    }
  }
}

function tinyRootfs(marker: string) {
  return buildTar([{
    type: "file",
    path: "marker.txt",
    data: new TextEncoder().encode(`${marker}\n`.repeat(2000)),
  }]);
}

interface PushedImage {
  t: TestApp;
  registry: TestRegistry;
  admin: string;
  prefix: string;
  /** The test image, pushed to the registry under a repository unique to this test. */
  reference: string;
}

/** An app and a private registry holding the test image; removes what the test made. */
async function withPushedImage(repo: string, fn: (context: PushedImage) => Promise<void>) {
  const t = await createTestApp();
  const registry = await startRegistry();
  const prefix = uniquePrefix("cmimg");
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("registry-admin", "admin"));
    const reference = await pushToRegistry(
      t.deps.docker,
      TEST_IMAGE,
      registry,
      `${prefix}${repo}/busybox`,
    );
    await fn({ t, registry, admin, prefix, reference });
  } finally {
    await removeContainersNamed(t.deps.docker, prefix);
    await removeImagesMatching(t, prefix);
    await registry.stop();
    await t.close();
  }
}

/** Saves the registry's credential through the API (the right password unless given). */
function saveCredentials(
  t: TestApp,
  cookie: string,
  registry: TestRegistry,
  password = registry.password,
) {
  return t.request("POST", "/api/containers/registries", {
    cookie,
    json: { server_address: registry.address, username: registry.username, password },
  });
}

Deno.test("pull from a private registry: refused without credentials, a wrong password is not stored, the right one works", () =>
  withPushedImage("team", async ({ t, registry, admin, reference }) => {
    /** Every answer the panel gives in this test, for the canary check at the end. */
    const answers: string[] = [];
    const answer = async (response: Response) => {
      const text = await response.text();
      answers.push(text);
      return { status: response.status, text, json: () => JSON.parse(text) };
    };
    const listRegistries = async () =>
      (await answer(await t.request("GET", "/api/containers/registries", { cookie: admin })))
        .json().registries;

    const anonymous = await pull(t, admin, reference);
    answers.push(anonymous.text);
    assert.equal(anonymous.last.done, false);
    assert.match(anonymous.last.error, /auth|credentials|unauthorized/i);

    const wrong = await answer(
      await t.request("POST", "/api/containers/registries", {
        cookie: admin,
        json: {
          server_address: `http://${registry.address}/`,
          username: registry.username,
          password: "wrong-password",
        },
      }),
    );
    assert.equal(wrong.status, 400);
    const wrongBody = wrong.json();
    assert.equal(wrongBody.field, "password");
    assert.match(wrongBody.error, /refused|unauthorized|401/i);
    assert.deepEqual(await listRegistries(), []);

    const right = await answer(await saveCredentials(t, admin, registry));
    assert.equal(right.status, 200, right.text);
    const saved = right.json().registry;
    assert.equal(saved.server_address, registry.address);

    const pulled = await pull(t, admin, reference);
    answers.push(pulled.text);
    assert.equal(pulled.last.done, true, JSON.stringify(pulled.last));
    assert.match(pulled.last.digest, /^sha256:[0-9a-f]{64}$/);
    assert.match(pulled.last.image_id, /^sha256:/);
    assert.ok(
      pulled.lines.some((line) =>
        line.status && /Pull|Download|Already exists|Digest/.test(line.status)
      ),
    );

    const images =
      (await answer(await t.request("GET", "/api/containers/images", { cookie: admin }))).json()
        .images;
    assert.ok(images.some((image: { repo_tags: string[] }) => image.repo_tags.includes(reference)));
    const listed = await listRegistries();
    assert.ok(listed[0].last_used_at, "last successful use is recorded");

    const rows = t.deps.db.prepare(
      "SELECT action, exit_code, params, stdout, stderr, phase FROM sysctl_audit",
    ).all() as {
      action: string;
      exit_code: number;
      phase: string | null;
    }[];
    // Final rows (pulls and registry checks also write a started row first).
    const finals = rows.filter((r) => r.phase === null);
    assert.deepEqual(finals.map((r) => [r.action, r.exit_code === 0]), [
      ["docker.pull", false],
      ["registry.upsert", false],
      ["registry.upsert", true],
      ["docker.pull", true],
    ]);

    // The audit trail as the Audit tab and its exports serve it.
    const audit = await answer(await t.request("GET", "/api/audit?limit=500", { cookie: admin }));
    assert.equal(audit.status, 200);
    assert.equal(audit.json().rows.length, 4);
    for (const format of ["csv", "json"]) {
      const exported = await answer(
        await t.request("GET", `/api/audit/export?format=${format}`, { cookie: admin }),
      );
      assert.equal(exported.status, 200);
      assert.match(exported.text, /registry\.upsert/, `${format} export has the rows`);
    }

    // The canary: the password, or its Basic/X-Registry-Auth encodings, appears nowhere the
    // panel answers or writes.
    const secrets = [
      registry.password,
      btoa(registry.password),
      btoa(`${registry.username}:${registry.password}`),
    ];
    for (const secret of secrets) {
      for (const text of answers) {
        assert.ok(!text.includes(secret), `an answer leaked the password:\n${text.slice(0, 300)}`);
      }
      assert.ok(!JSON.stringify(rows).includes(secret));
      assert.ok(!t.logs.join("\n").includes(secret));
    }
    assert.ok(answers.length >= 10);
    for (const file of ["container-manager.db", "container-manager.db-wal"]) {
      const bytes = await Deno.readFile(`${t.dir}/${file}`).catch(() => new Uint8Array());
      assert.ok(!new TextDecoder("latin1").decode(bytes).includes(registry.password), file);
    }
  }));

/**
 * A stand-in registry that knows several users sharing one password (the real one knows one
 * user), and records the Basic credentials the Engine's POST /auth presents.
 */
function startSharedPasswordRegistry(users: string[], password: string) {
  const tried: string[] = [];
  const port = freePort();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    const header = request.headers.get("authorization") ?? "";
    if (header.startsWith("Basic ")) {
      const pair = atob(header.slice(6));
      tried.push(pair);
      const colon = pair.indexOf(":");
      if (users.includes(pair.slice(0, colon)) && pair.slice(colon + 1) === password) {
        return new Response("{}", {
          headers: { "Docker-Distribution-API-Version": "registry/2.0" },
        });
      }
    }
    return new Response("unauthorized", {
      status: 401,
      headers: {
        "WWW-Authenticate": 'Basic realm="shared"',
        "Docker-Distribution-API-Version": "registry/2.0",
      },
    });
  });
  return { address: `127.0.0.1:${port}`, tried, stop: () => server.shutdown() };
}

Deno.test("changing a saved registry's username without a new password validates the saved password with it", async () => {
  const t = await createTestApp();
  const registry = await startRegistry();
  const sharedPassword = `pw-${crypto.randomUUID()}`;
  const shared = startSharedPasswordRegistry(["team-a", "team-b"], sharedPassword);
  try {
    const admin = t.cookieFor(await t.addUser("img-rename", "admin"));
    const post = (json: Record<string, unknown>) =>
      t.request("POST", "/api/containers/registries", { cookie: admin, json });
    const stored = () =>
      t.deps.db.prepare(
        "SELECT id, username, password_sealed, updated_at FROM image_registries WHERE server_address = ?",
      ).get(registry.address) as Record<string, unknown>;

    const saved = await saveCredentials(t, admin, registry);
    assert.equal(saved.status, 200, await saved.clone().text());
    const before = stored();

    // A username the registry refuses with the saved password: 400 on "username", nothing stored.
    const refused = await post({ server_address: registry.address, username: "someone-else" });
    const refusedText = await refused.text();
    assert.equal(refused.status, 400, refusedText);
    const refusedBody = JSON.parse(refusedText);
    assert.equal(refusedBody.field, "username");
    assert.match(refusedBody.error, /refused the saved password for someone-else/);
    assert.ok(!refusedText.includes(registry.password));
    assert.deepEqual(stored(), before, "nothing was stored");

    // The same username without a password is checked too (with the saved password) and kept.
    const same = await post({
      server_address: `http://${registry.address}`,
      username: registry.username,
    });
    assert.equal(same.status, 200, await same.clone().text());
    assert.equal((await same.json()).registry.username, registry.username);

    // A new username that does work with the saved password is stored with it.
    const first = await post({
      server_address: shared.address,
      username: "team-a",
      password: sharedPassword,
    });
    assert.equal(first.status, 200, await first.clone().text());
    const renamed = await post({ server_address: shared.address, username: "team-b" });
    assert.equal(renamed.status, 200, await renamed.clone().text());
    assert.equal((await renamed.json()).registry.username, "team-b");
    assert.equal(shared.tried.at(-1), `team-b:${sharedPassword}`, "the new pair was validated");
    const { credentialsFor } = await import("../../lib/registries.ts");
    assert.deepEqual(await credentialsFor(t.deps.db, t.deps.secretKey, shared.address), {
      username: "team-b",
      password: sharedPassword,
      serveraddress: shared.address,
    });
    const renamedAgain = await post({ server_address: shared.address, username: "team-c" });
    assert.equal(renamedAgain.status, 400);
    assert.equal((await renamedAgain.json()).field, "username");

    // Deleting says which registry went, in the answer and in its audit row.
    const id = Number(before.id);
    const deleted = await t.request("DELETE", `/api/containers/registries/${id}`, {
      cookie: admin,
    });
    assert.equal(deleted.status, 200);
    assert.deepEqual(await deleted.json(), { deleted: id, server_address: registry.address });
    const missing = await t.request("DELETE", `/api/containers/registries/${id}`, {
      cookie: admin,
    });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const rows = t.deps.db.prepare(
      "SELECT action, exit_code, stdout FROM sysctl_audit WHERE action LIKE 'registry.%' AND phase IS NULL ORDER BY seq",
    ).all() as { action: string; exit_code: number; stdout: string }[];
    assert.deepEqual(rows.map((row) => `${row.action}:${row.exit_code}`), [
      "registry.upsert:0",
      "registry.upsert:400",
      "registry.upsert:0",
      "registry.upsert:0",
      "registry.upsert:0",
      "registry.upsert:400",
      "registry.delete:0",
      "registry.delete:404",
    ]);
    const deleteRow = rows.find((row) => row.action === "registry.delete")!;
    assert.deepEqual(JSON.parse(deleteRow.stdout), {
      deleted: id,
      server_address: registry.address,
    });
    assert.ok(!JSON.stringify(rows).includes(registry.password));
    assert.ok(!JSON.stringify(rows).includes(sharedPassword));
  } finally {
    await shared.stop();
    await registry.stop();
    await t.close();
  }
});

Deno.test("a credential saved for registry A is never sent to registry B", async () => {
  const t = await createTestApp();
  const registry = await startRegistry();
  const seen: string[] = [];
  const port = freePort();
  // Registry B: a capturing listener that asks for basic auth and records what it gets.
  const capture = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    seen.push(request.headers.get("authorization") ?? "");
    return new Response("unauthorized", {
      status: 401,
      headers: { "WWW-Authenticate": 'Basic realm="b"' },
    });
  });
  try {
    const admin = t.cookieFor(await t.addUser("img-admin2", "admin"));
    const saved = await saveCredentials(t, admin, registry);
    assert.equal(saved.status, 200);
    const result = await pull(t, admin, `127.0.0.1:${port}/team/app:latest`);
    assert.equal(result.last.done, false);
    assert.ok(seen.length > 0, "the Engine did talk to registry B");
    const secret = btoa(`${registry.username}:${registry.password}`);
    assert.ok(seen.every((header) => header === ""), `registry B got: ${seen.join(", ")}`);
    assert.ok(!seen.join().includes(secret));
  } finally {
    await capture.shutdown();
    await registry.stop();
    await t.close();
  }
});

Deno.test("used-by counts, deleting an in-use image, and prune of a dangling image", async () => {
  const t = await createTestApp();
  const prefix = uniquePrefix("cmimg");
  try {
    const admin = t.cookieFor(await t.addUser("img-admin3", "admin"));
    await ensureTestImage(t.deps.docker);
    const used = `${prefix}used:1`;
    await importImage(t.deps.docker, used, tinyRootfs("used"), { changes: ['CMD ["/bin/sh"]'] });
    const running = await createContainer(t.deps.docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    });
    await startContainer(t.deps.docker, running.Id);
    const stopped = await createContainer(t.deps.docker, {
      Image: used,
      Cmd: ["x"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}stopped`);

    const images =
      (await (await t.request("GET", "/api/containers/images", { cookie: admin })).json()).images;
    const usedView = images.find((image: { repo_tags: string[] }) =>
      image.repo_tags.includes(used)
    );
    assert.equal(usedView.used_by, 1);
    assert.equal(usedView.used_by_running, 0);
    assert.deepEqual(usedView.containers.map((c: { name: string }) => c.name), [
      `${prefix}stopped`,
    ]);
    const testView = images.find((image: { repo_tags: string[] }) =>
      image.repo_tags.includes(TEST_IMAGE)
    );
    assert.ok(testView.used_by_running >= 1);

    const refused = await t.request("DELETE", `/api/containers/images/${used}`, { cookie: admin });
    assert.equal(refused.status, 409);
    assert.match((await refused.json()).error, new RegExp(`used by containers: ${prefix}stopped`));
    const runningRefused = await t.request(
      "DELETE",
      `/api/containers/images/${TEST_IMAGE}?force=1`,
      { cookie: admin },
    );
    assert.equal(
      runningRefused.status,
      409,
      "force never removes an image a running container uses",
    );
    assert.match((await runningRefused.json()).error, /running containers/);
    const forced = await t.request("DELETE", `/api/containers/images/${used}?force=1`, {
      cookie: admin,
    });
    assert.equal(forced.status, 200, await forced.clone().text());
    void stopped;

    // A dangling image: the same tag imported twice leaves the first image untagged.
    const dangle = `${prefix}dangle:1`;
    await importImage(t.deps.docker, dangle, tinyRootfs(`first ${prefix}`));
    const first = (await listImages(t.deps.docker)).find((image) =>
      image.RepoTags?.includes(dangle)
    )!.Id;
    await importImage(t.deps.docker, dangle, tinyRootfs(`second ${prefix}`));
    const listedDangling =
      (await (await t.request("GET", "/api/containers/images", { cookie: admin })).json()).images
        .find((image: { id: string }) => image.id === first);
    assert.equal(listedDangling.dangling, true);
    const pruned = await t.request("POST", "/api/containers/images/prune", { cookie: admin });
    const body = await pruned.json();
    assert.equal(pruned.status, 200);
    assert.ok(body.deleted.includes(first), JSON.stringify(body));
    assert.ok(body.reclaimed_bytes > 0);
  } finally {
    await removeTestContainers(t.deps.docker, prefix);
    await removeImagesMatching(t, prefix);
    await t.close();
  }
});

Deno.test("bad references and registry addresses get a 400 that says why", async () => {
  const t = await createTestApp();
  try {
    const admin = t.cookieFor(await t.addUser("img-admin4", "admin"));
    for (const reference of ["UPPER/case", "a b", "x:tag:tag", "x".repeat(300), "..", ""]) {
      const response = await t.request("POST", "/api/containers/images/pull", {
        cookie: admin,
        json: { reference },
      });
      const body = await response.json();
      assert.equal(response.status, 400, reference);
      assert.equal(body.field, "reference");
      assert.match(body.error, /reference|required/i);
    }
    for (
      const server_address of [
        "ghcr.io/org",
        "host\r\nX-Evil: 1",
        "ftp://registry.example",
        "user@host",
        "a b",
      ]
    ) {
      const response = await t.request("POST", "/api/containers/registries", {
        cookie: admin,
        json: { server_address, username: "u", password: "p" },
      });
      const body = await response.json();
      assert.equal(response.status, 400, server_address);
      assert.equal(body.field, "server_address");
    }
    const viewer = t.cookieFor(await t.addUser("img-viewer", "viewer"));
    const denied = await t.request("POST", "/api/containers/images/prune", {
      cookie: viewer,
      origin: ORIGIN,
    });
    assert.equal(denied.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("running an absent image pulls it first, with the registry's stored credentials", () =>
  withPushedImage("run", async ({ t, registry, admin, prefix, reference }) => {
    const saved = await saveCredentials(t, admin, registry);
    assert.equal(saved.status, 200);
    const run = await t.request("POST", "/api/containers/run", {
      cookie: admin,
      json: { image: reference, name: `${prefix}pulled`, cmd: ["sleep", "30"] },
    });
    assert.equal(run.status, 201, await run.clone().text());
    assert.equal((await run.json()).state, "running");
    const actions = t.deps.db.prepare(
      "SELECT action, exit_code FROM sysctl_audit WHERE phase IS NULL ORDER BY seq",
    )
      .all()
      .map((row) => `${row.action}:${row.exit_code}`);
    assert.deepEqual(actions, ["registry.upsert:0", "docker.pull:0", "docker.run:0"]);
  }));

Deno.test("a pull whose client goes away still finishes server-side and is audited", () =>
  withPushedImage("gone", async ({ t, registry, admin, reference }) => {
    await saveCredentials(t, admin, registry);
    const response = await t.request("POST", "/api/containers/images/pull", {
      cookie: admin,
      json: { reference },
    });
    assert.equal(response.status, 200);
    await response.body!.cancel(); // the browser tab closed
    let row: { exit_code: number } | undefined;
    for (let i = 0; i < 100 && !row; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = t.deps.db.prepare(
        "SELECT exit_code FROM sysctl_audit WHERE action = 'docker.pull' AND phase IS NULL",
      )
        .get() as { exit_code: number } | undefined;
    }
    assert.equal(row?.exit_code, 0, "the pull finished and was audited");
    const images = await listImages(t.deps.docker);
    assert.ok(images.some((image) => image.RepoTags?.includes(reference)), "the image is there");
  }));

/** POST /api/containers/run as the Run dialog sends it: NDJSON progress, or a JSON answer. */
async function runWithProgress(t: TestApp, cookie: string, json: Record<string, unknown>) {
  const response = await t.request("POST", "/api/containers/run", {
    cookie,
    json,
    headers: { Accept: "application/x-ndjson, application/json" },
  });
  if (response.headers.get("content-type") !== "application/x-ndjson") {
    return {
      streamed: false,
      progress: [],
      status: response.status,
      answer: await response.json(),
    };
  }
  assert.equal(response.status, 200);
  const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
  const last = lines.at(-1);
  return {
    streamed: true,
    progress: lines.slice(0, -1).map((line) => line.progress),
    status: last.status as number,
    answer: last,
  };
}

Deno.test("the Run dialog's request streams the pull of an absent image, then the new container", () =>
  withPushedImage("runprog", async ({ t, registry, admin, prefix, reference }) => {
    // Bad input is still a plain 400 before anything streams.
    const bad = await runWithProgress(t, admin, { image: reference, ports: ["99999:80"] });
    assert.deepEqual([bad.streamed, bad.status, bad.answer.field], [false, 400, "ports[0]"]);

    // Without credentials the pull fails: a 404 that names the image, and no container.
    const refused = await runWithProgress(t, admin, { image: reference, name: `${prefix}nope` });
    assert.equal(refused.status, 404, JSON.stringify(refused.answer));
    assert.match(refused.answer.error, /not on this node and pulling it failed/);

    await saveCredentials(t, admin, registry);
    const run = await runWithProgress(t, admin, {
      image: reference,
      name: `${prefix}streamed`,
      cmd: ["sleep", "30"],
    });
    assert.ok(run.streamed, "the pull's progress was streamed");
    assert.ok(
      run.progress.some((line) => /^Pulling from /.test(line.status ?? "")),
      JSON.stringify(run.progress),
    );
    assert.equal(run.status, 201);
    assert.equal(run.answer.done, true);
    assert.equal(run.answer.name, `${prefix}streamed`);
    assert.equal(run.answer.state, "running");

    // The image is there now: a second run answers plain JSON, with nothing to stream.
    const again = await runWithProgress(t, admin, {
      image: reference,
      name: `${prefix}again`,
      cmd: ["sleep", "30"],
    });
    assert.deepEqual([again.streamed, again.status, again.answer.state], [false, 201, "running"]);
    const actions = t.deps.db.prepare(
      "SELECT action, exit_code FROM sysctl_audit WHERE phase IS NULL ORDER BY seq",
    )
      .all()
      .map((row) => `${row.action}:${row.exit_code}`);
    assert.deepEqual(actions, [
      "docker.run:400",
      "docker.pull:500", // the registry refused: an error line in a 200 stream
      "docker.run:404",
      "registry.upsert:0",
      "docker.pull:0",
      "docker.run:0",
      "docker.run:0",
    ]);
  }));

Deno.test("a running pull is listed and can be followed again after its client left", async () => {
  const t = await createTestApp();
  const registry = await startRegistry();
  // 3 MB of random bytes at 1 MB/s: the pull lasts a few seconds, long enough to list it.
  const proxy = startSlowProxy(registry, 1_000_000);
  const prefix = uniquePrefix("cmpulls");
  try {
    const docker = t.deps.docker;
    const admin = t.cookieFor(await t.addUser("pulls-admin", "admin"));
    const local = `${prefix}src/payload:1`;
    await importImage(docker, local, randomPayloadTar(prefix, 3_000_000));
    await pushToRegistry(docker, local, registry, `${prefix}slow/payload`);
    await docker.json("DELETE", `/images/${local}`);
    const saved = await t.request("POST", "/api/containers/registries", {
      cookie: admin,
      json: {
        server_address: proxy.address,
        username: registry.username,
        password: registry.password,
      },
    });
    assert.equal(saved.status, 200, await saved.clone().text());
    const reference = `${proxy.address}/${prefix}slow/payload:latest`;

    const started = await t.request("POST", "/api/containers/images/pull", {
      cookie: admin,
      json: { reference },
    });
    assert.equal(started.status, 200);
    await started.body!.cancel(); // the tab was reloaded

    const list = await (await t.request("GET", "/api/containers/images/pulls", { cookie: admin }))
      .json();
    assert.equal(list.pulls.length, 1, JSON.stringify(list));
    const [pull] = list.pulls;
    assert.equal(pull.reference, reference);
    assert.equal(pull.actor, "pulls-admin");

    // A follower whose session ends (logout) is cut off; the pull goes on.
    const other = t.cookieFor(await t.addUser("pulls-other", "admin"));
    const cut = await t.request("GET", `/api/containers/images/pulls/${pull.id}`, {
      cookie: other,
    });
    assert.equal(cut.status, 200);
    const loggedOut = await t.request("POST", "/api/auth/logout", { cookie: other });
    assert.equal(loggedOut.status < 300, true);
    await loggedOut.body?.cancel();
    const cutLines = (await cut.text()).split("\n").filter(Boolean).map((line) => JSON.parse(line));
    assert.ok(cutLines.every((line) => line.done === undefined), "it ended before the pull did");

    const followed = await t.request("GET", `/api/containers/images/pulls/${pull.id}`, {
      cookie: admin,
    });
    assert.equal(followed.status, 200);
    assert.equal(followed.headers.get("content-type"), "application/x-ndjson");
    const lines = (await followed.text()).trim().split("\n").map((line) => JSON.parse(line));
    assert.ok(
      lines.some((line) => /Downloading|Download complete|Extracting/.test(line.status ?? "")),
      JSON.stringify(lines.slice(0, 5)),
    );
    const last = lines.at(-1);
    assert.equal(last.done, true, JSON.stringify(last));
    assert.match(last.digest, /^sha256:/);

    // Finished: no longer listed, and following it says so.
    const after = await (await t.request("GET", "/api/containers/images/pulls", { cookie: admin }))
      .json();
    assert.deepEqual(after.pulls, []);
    const gone = await t.request("GET", `/api/containers/images/pulls/${pull.id}`, {
      cookie: admin,
    });
    assert.equal(gone.status, 404);
    assert.match((await gone.json()).error, /No such pull is running/);
    const bad = await t.request("GET", "/api/containers/images/pulls/..%2Fetc", { cookie: admin });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await removeImagesMatching(t, prefix);
    await proxy.stop();
    await registry.stop();
    await t.close();
  }
});
