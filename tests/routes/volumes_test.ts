/**
 * /api/containers/volumes against the real Engine: list with users and sizes on demand,
 * create, inspect, remove (refused while in use, naming the container), prune, and a
 * volume's files through a container that mounts it or a short-lived helper.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp, ORIGIN } from "../fixtures/app.ts";
import {
  ensureTestImage,
  makeTestContainer,
  removeTestContainers,
  removeVolumesNamed,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "../fixtures/engine.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { HELPER_LABEL } from "../../lib/docker/volume_files.ts";
import { volumeExists } from "../../lib/docker/volumes.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

async function withApp(
  fn: (context: { t: TestApp; admin: string; viewer: string; prefix: string }) => Promise<void>,
) {
  const t = await createTestApp();
  const prefix = uniquePrefix("cmvol");
  try {
    await ensureTestImage(t.deps.docker);
    const admin = t.cookieFor(await t.addUser("vol-admin", "admin"));
    const viewer = t.cookieFor(await t.addUser("vol-viewer", "viewer"));
    await fn({ t, admin, viewer, prefix });
  } finally {
    await removeTestContainers(t.deps.docker, prefix);
    await removeVolumesNamed(t.deps.docker, prefix);
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

/** Writes files into a volume through a throwaway container. */
async function fill(t: TestApp, prefix: string, volume: string, script: string) {
  const id = await makeTestContainer(
    t.deps.docker,
    prefix,
    `fill-${crypto.randomUUID().slice(0, 6)}`,
    {
      Cmd: ["sh", "-c", script],
      HostConfig: { Binds: [`${volume}:/data`] },
    },
  );
  await t.deps.docker.json("POST", `/containers/${id}/wait`, { timeoutMs: 30_000 });
  await t.deps.docker.json("DELETE", `/containers/${id}`, { query: { force: 1 } });
}

async function helperCount(t: TestApp): Promise<number> {
  return (await listContainers(t.deps.docker, {
    all: true,
    filters: { label: [HELPER_LABEL] },
  })).length;
}

Deno.test("volumes: create, list, inspect; name in use, unknown field and bad names refused; viewer refused and audited", () =>
  withApp(async ({ t, admin, viewer, prefix }) => {
    const name = `${prefix}data`;
    const created = await call(t, "POST", "/api/containers/volumes", admin, {
      name,
      driver: "local",
      driver_options: {},
      labels: { [TEST_LABEL]: prefix, "com.docker.compose.project": "shop" },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal((created.body.volume as { name: string }).name, name);

    const again = await call(t, "POST", "/api/containers/volumes", admin, { name });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.field, "name");
    assert.match(again.body.error as string, new RegExp(`${name} already exists`));

    const unknown = await call(t, "POST", "/api/containers/volumes", admin, {
      name: `${prefix}other`,
      force: true,
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.field, "force");
    const badName = await call(t, "POST", "/api/containers/volumes", admin, { name: "../etc" });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.field, "name");
    const badLabels = await call(t, "POST", "/api/containers/volumes", admin, {
      name: `${prefix}other`,
      labels: { ok: 1 },
    });
    assert.equal(badLabels.status, 400);
    assert.equal(badLabels.body.field, "labels");
    assert.equal(await volumeExists(t.deps.docker, `${prefix}other`), false, "nothing half-made");

    await makeTestContainer(t.deps.docker, prefix, "user", {
      Cmd: ["sleep", "600"],
      HostConfig: { Binds: [`${name}:/srv/data:ro`] },
    }, false);
    const list = await call(t, "GET", "/api/containers/volumes", viewer);
    assert.equal(list.status, 200);
    assert.equal(list.body.sizes, undefined, "sizes only when asked");
    const row = (list.body.volumes as Record<string, unknown>[]).find((v) => v.name === name)!;
    assert.equal(row.driver, "local");
    assert.equal(row.compose_project, "shop");
    assert.match(row.mountpoint as string, /\/_data$/);
    assert.ok(row.created_at);
    assert.deepEqual(
      (row.containers as { name: string; destination: string; read_only: boolean }[]).map((
        c,
      ) => [c.name, c.destination, c.read_only]),
      [[`${prefix}user`, "/srv/data", true]],
    );

    const sized = await call(t, "GET", "/api/containers/volumes?size=1", viewer);
    assert.equal(sized.status, 200);
    const sizes = sized.body.sizes as Record<string, { size: number; ref_count: number }>;
    assert.ok(sizes[name], "the volume has a measured size");
    assert.equal(sizes[name].ref_count, 1);
    assert.ok(!Number.isNaN(Date.parse(sized.body.measured_at as string)));

    const inspect = await call(t, "GET", `/api/containers/volumes/${name}`, viewer);
    assert.equal(inspect.status, 200);
    assert.equal(
      (inspect.body.volume as { labels: Record<string, string> }).labels[TEST_LABEL],
      prefix,
    );
    assert.equal(
      (await call(t, "GET", `/api/containers/volumes/${prefix}none`, viewer)).status,
      404,
    );
    assert.equal((await call(t, "GET", "/api/containers/volumes/..%2Fx", viewer)).status, 400);

    // Viewers read, never change; each refusal is an audit row.
    const refused = [
      await call(t, "POST", "/api/containers/volumes", viewer, { name: `${prefix}v` }),
      await call(t, "DELETE", `/api/containers/volumes/${name}`, viewer),
      await call(t, "POST", "/api/containers/volumes/prune", viewer, { labels: [TEST_LABEL] }),
      await call(t, "GET", `/api/containers/volumes/${name}/files`, viewer),
      await call(t, "GET", `/api/containers/volumes/${name}/download?path=/`, viewer),
    ];
    assert.deepEqual(refused.map((r) => r.status), [403, 403, 403, 403, 403]);
    const rows = auditRows(t.deps.db).filter((r) => r.actor === "vol-viewer");
    assert.deepEqual(rows.map((r) => [r.action, r.exit_code]), [
      ["docker.volume.create", 403],
      ["docker.volume.rm", 403],
      ["docker.volume.prune", 403],
      ["docker.volume.browse", 403],
      ["docker.volume.download", 403],
    ]);
    assert.equal(await volumeExists(t.deps.docker, `${prefix}v`), false);
  }));

Deno.test("volumes: remove is refused while a container uses it, naming the container; then removed; prune reports reclaimed bytes", () =>
  withApp(async ({ t, admin, prefix }) => {
    const used = `${prefix}used`;
    const spare = `${prefix}spare`;
    for (const name of [used, spare]) {
      const created = await call(t, "POST", "/api/containers/volumes", admin, {
        name,
        labels: { [TEST_LABEL]: prefix },
      });
      assert.equal(created.status, 201, created.text);
    }
    await fill(t, prefix, spare, "head -c 300000 /dev/zero > /data/blob");
    const containerId = await makeTestContainer(t.deps.docker, prefix, "holder", {
      Cmd: ["sleep", "600"],
      HostConfig: { Binds: [`${used}:/data`] },
    });

    const refused = await call(t, "DELETE", `/api/containers/volumes/${used}`, admin);
    assert.equal(refused.status, 409, refused.text);
    assert.match(
      refused.body.error as string,
      new RegExp(`in use by container ${prefix}holder \\(running\\)`),
    );
    assert.ok(!(refused.body.error as string).includes(containerId), "named, not by id");
    assert.equal(await volumeExists(t.deps.docker, used), true);
    const forced = await t.request("DELETE", `/api/containers/volumes/${used}?force=1`, {
      cookie: admin,
    });
    assert.equal(forced.status, 409, "force is not offered: the query changes nothing");
    await forced.body?.cancel();

    // Prune only this test's volumes (other tests share the Engine): the one in use stays.
    const pruned = await call(t, "POST", "/api/containers/volumes/prune", admin, {
      labels: [`${TEST_LABEL}=${prefix}`],
    });
    assert.equal(pruned.status, 200, pruned.text);
    assert.deepEqual(pruned.body.deleted, [spare]);
    assert.ok((pruned.body.reclaimed_bytes as number) >= 300000, pruned.text);
    assert.equal(await volumeExists(t.deps.docker, used), true);

    await t.deps.docker.json("DELETE", `/containers/${containerId}`, { query: { force: 1 } });
    const removed = await call(t, "DELETE", `/api/containers/volumes/${used}`, admin);
    assert.equal(removed.status, 200, removed.text);
    assert.equal(await volumeExists(t.deps.docker, used), false);
    assert.equal((await call(t, "DELETE", `/api/containers/volumes/${used}`, admin)).status, 404);

    const rows = auditRows(t.deps.db).filter((r) => (r as { phase?: string | null }).phase == null);
    assert.deepEqual(
      rows.filter((r) => r.action.startsWith("docker.volume.")).map((r) => [r.action, r.exit_code]),
      [
        ["docker.volume.create", 0],
        ["docker.volume.create", 0],
        ["docker.volume.rm", 409],
        ["docker.volume.rm", 409],
        ["docker.volume.prune", 0],
        ["docker.volume.rm", 0],
        ["docker.volume.rm", 404],
      ],
    );
  }));

Deno.test("volume files: browse and download through a container that mounts it or a helper that is always removed; upload is admin-only", () =>
  withApp(async ({ t, admin, viewer, prefix }) => {
    const name = `${prefix}files`;
    assert.equal(
      (await call(t, "POST", "/api/containers/volumes", admin, {
        name,
        labels: { [TEST_LABEL]: prefix },
      })).status,
      201,
    );
    await fill(
      t,
      prefix,
      name,
      "mkdir -p /data/conf/deep && echo hello > /data/conf/app.ini && echo top > /data/readme.txt && ln -s readme.txt /data/link",
    );
    const base = `/api/containers/volumes/${name}`;

    // No container mounts it and no image picked: the caller is told what to pick.
    const noImage = await call(t, "GET", `${base}/files`, admin);
    assert.equal(noImage.status, 400, noImage.text);
    assert.equal(noImage.body.field, "image");
    const missingImage = await call(t, "GET", `${base}/files?image=cm-test/absent:1`, admin);
    assert.equal(missingImage.status, 400, missingImage.text);
    assert.equal(missingImage.body.field, "image");

    const helpersBefore = await helperCount(t);
    const root = await call(
      t,
      "GET",
      `${base}/files?image=${encodeURIComponent(TEST_IMAGE)}`,
      admin,
    );
    assert.equal(root.status, 200, root.text);
    assert.deepEqual(root.body.via, { helper_image: TEST_IMAGE });
    assert.equal(root.body.kind, "dir");
    assert.deepEqual(
      (root.body.entries as { name: string; type: string; size: number }[]).map((e) => [
        e.name,
        e.type,
        e.size,
      ]),
      [["conf", "dir", 0], ["link", "symlink", 0], ["readme.txt", "file", 4]],
    );
    const sub = await call(
      t,
      "GET",
      `${base}/files?path=/conf&image=${encodeURIComponent(TEST_IMAGE)}`,
      admin,
    );
    assert.deepEqual(
      (sub.body.entries as { name: string }[]).map((e) => e.name),
      ["deep", "app.ini"],
    );
    assert.equal(await helperCount(t), helpersBefore, "the helper container is gone");
    const escape = await call(t, "GET", `${base}/files?path=/conf/../../etc&image=x`, admin);
    assert.equal(escape.status, 400);
    assert.equal(escape.body.field, "path");
    const absent = await call(t, "GET", `${base}/files?path=/nope&image=${TEST_IMAGE}`, admin);
    assert.equal(absent.status, 404, absent.text);
    assert.equal(await helperCount(t), helpersBefore, "removed after a failure too");

    // A container that mounts it (stopped) is used instead of a helper.
    await makeTestContainer(t.deps.docker, prefix, "reader", {
      Cmd: ["sleep", "600"],
      HostConfig: { Binds: [`${name}:/srv`] },
    }, false);
    const viaContainer = await call(t, "GET", `${base}/files?path=/conf`, admin);
    assert.equal(viaContainer.status, 200, viaContainer.text);
    assert.deepEqual(viaContainer.body.via, { container: `${prefix}reader` });

    const file = await t.request("GET", `${base}/download?path=/conf/app.ini`, { cookie: admin });
    assert.equal(file.status, 200);
    assert.match(file.headers.get("content-disposition")!, /attachment; filename="app.ini"/);
    assert.equal(await file.text(), "hello\n");
    const whole = await t.request("GET", `${base}/download?path=/`, { cookie: admin });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("content-type"), "application/x-tar");
    assert.match(whole.headers.get("content-disposition")!, new RegExp(`filename="${name}.tar"`));
    const tar = new TextDecoder("latin1").decode(new Uint8Array(await whole.arrayBuffer()));
    assert.ok(tar.includes("conf/app.ini") && tar.includes("hello\n") && tar.includes("top\n"));
    const missing = await t.request("GET", `${base}/download?path=/nope`, { cookie: admin });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    // Upload: admins only, audited, no silent replacement.
    const upload = (cookie: string, query: string, body: string) =>
      t.app.request(`${ORIGIN}${base}/upload?${query}`, {
        method: "POST",
        headers: { Cookie: cookie, Origin: ORIGIN, "Content-Type": "application/octet-stream" },
        body,
      });
    const denied = await upload(viewer, "path=/conf&filename=x.txt", "nope");
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    const sent = await upload(admin, "path=/conf&filename=new.txt", "uploaded bytes\n");
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.equal((await sent.json()).path, "/conf/new.txt");
    const replace = await upload(admin, "path=/conf&filename=new.txt", "second\n");
    assert.equal(replace.status, 409);
    assert.equal((await replace.json()).field, "filename");
    const replaced = await upload(admin, "path=/conf&filename=new.txt&overwrite=1", "second\n");
    assert.equal(replaced.status, 200);
    await replaced.body?.cancel();
    const back = await t.request("GET", `${base}/download?path=/conf/new.txt`, { cookie: admin });
    assert.equal(await back.text(), "second\n");
    const badName = await upload(admin, "path=/conf&filename=../x", "x");
    assert.equal(badName.status, 400);
    await badName.body?.cancel();

    const actions = auditRows(t.deps.db)
      .filter((r) => r.action === "docker.volume.upload" || r.action === "request.refused")
      .map((r) => [r.actor, r.action, r.exit_code]);
    assert.deepEqual(actions, [
      ["vol-viewer", "docker.volume.upload", 403],
      ["vol-admin", "docker.volume.upload", 0],
      ["vol-admin", "docker.volume.upload", 409],
      ["vol-admin", "docker.volume.upload", 0],
      ["vol-admin", "request.refused", 400],
    ]);
  }));
