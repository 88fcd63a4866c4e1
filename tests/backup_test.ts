/**
 * `container-manager backup` / `restore`: an online backup of a running panel while it
 * writes (users created and sign-ins through the API), restored into an empty folder; the
 * restored panel passes `audit verify`, lists the stack (its stacks folder was outside the
 * data folder) and decrypts the stored registry credential by pulling with it. And restore
 * refuses archives that would write outside its folders or over anything.
 */
import assert from "node:assert/strict";
import { readTar } from "../lib/tar/read.ts";
import { PANEL_ADMIN_PASSWORD, type PanelProcess, runMain, startPanel } from "./fixtures/server.ts";
import { pushToRegistry, startRegistry } from "./fixtures/registry.ts";
import { engineClient, ensureTestImage, TEST_IMAGE, uniquePrefix } from "./fixtures/engine.ts";
import { cleanupComposeProject } from "./fixtures/compose.ts";
import { buildTar, type TarEntry } from "./fixtures/tar.ts";
import { DatabaseSync } from "node:sqlite";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

/** main.ts with a deno.json task's permissions (the last `deno run` of the task). */
async function runTask(task: "backup" | "restore", args: string[]) {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const run: string = config.tasks[task].split("&&").at(-1)!.trim();
  const permissions = run.split(/\s+/).filter((part) => part.startsWith("--allow-"));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "main.ts", task, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

const gunzip = () =>
  new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
const gzip = () =>
  new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;

async function archiveEntries(file: string) {
  const entries: { path: string; type: string; mode: number }[] = [];
  const stream = (await Deno.open(file)).readable.pipeThrough(gunzip());
  await readTar(stream, (header) => {
    entries.push({ path: header.path.replace(/\/$/, ""), type: header.type, mode: header.mode });
  });
  return entries;
}

async function api(
  panel: PanelProcess,
  cookie: string,
  method: string,
  path: string,
  json?: unknown,
) {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: {
      Cookie: cookie,
      Origin: panel.url,
      ...(json === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return { status: response.status, text, type: response.headers.get("content-type") };
}

function mode(path: string) {
  return (Deno.statSync(path).mode! & 0o777).toString(8);
}

Deno.test("a backup of a running panel during writes restores into a working panel", async () => {
  const docker = await engineClient();
  await ensureTestImage(docker);
  const registry = await startRegistry();
  const prefix = uniquePrefix("cmbak");
  const project = `${prefix}stack`;
  const work = await Deno.makeTempDir({ prefix: "cm-backup-test-" });
  const stacksDir = `${work}/stacks-outside`;
  const restoredData = `${work}/restored`;
  const restoredStacks = `${work}/restored-stacks`;
  const archive = `${work}/panel.tar.gz`;
  let reference = "";
  let restored: PanelProcess | undefined;
  try {
    reference = await pushToRegistry(docker, TEST_IMAGE, registry, `${prefix}repo/busybox`);
    await using panel = await startPanel({ args: ["--stacks-dir", stacksDir] });
    const admin = await panel.login();

    const saved = await api(panel, admin, "POST", "/api/containers/registries", {
      server_address: registry.address,
      username: registry.username,
      password: registry.password,
    });
    assert.equal(saved.status, 200, saved.text);
    const yaml = `services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n`;
    const deployed = await api(panel, admin, "POST", "/api/containers/compose/deploy", {
      yaml,
      project,
    });
    assert.equal(deployed.status, 200, deployed.text);
    assert.match(deployed.text.trim().split("\n").at(-1)!, /"done":true/);
    // Brought down: only the stack folder (outside the data folder) keeps it in the list.
    const down = await api(panel, admin, "POST", `/api/containers/compose/stacks/${project}/down`);
    assert.equal(down.status, 200, down.text);

    // The write loops, until the backup ends: users created and signing in (slow: scrypt),
    // and refused user changes (fast; every dispatch writes its audit row either way).
    let writing = true;
    const written: number[] = [];
    const signedUp: number[] = [];
    const signUps = (async () => {
      for (let i = 0; writing; i++) {
        const created = await api(panel, admin, "POST", "/api/users", {
          username: `loop${i}`,
          password: `loop user password ${i}`,
          role: "viewer",
        });
        assert.equal(created.status, 201, created.text);
        signedUp.push(Date.now());
        await panel.login(`loop${i}`, `loop user password ${i}`);
        written.push(Date.now());
      }
    })();
    const refusals = (async () => {
      while (writing) {
        const refused = await api(panel, admin, "PATCH", "/api/users/999999", { role: "admin" });
        assert.equal(refused.status, 404, refused.text);
        written.push(Date.now());
      }
    })();
    while (written.length < 5 || signedUp.length < 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const backupStarted = Date.now();
    const backup = await runTask("backup", [
      "--data-dir",
      panel.dataDir,
      "--stacks-dir",
      stacksDir,
      "--to",
      archive,
      "--include-key",
    ]);
    const backupEnded = Date.now();
    writing = false;
    await Promise.all([signUps, refusals]);
    assert.equal(backup.code, 0, backup.stderr);
    const during = written.filter((time) => time > backupStarted && time < backupEnded).length;
    assert.ok(during > 0, "the panel wrote while the backup ran");
    assert.match(backup.stderr, /Warning: this backup holds the key file/);
    assert.equal(mode(archive), "600");
    const entries = await archiveEntries(archive);
    assert.equal(entries[0].path, "manifest.json");
    const paths = entries.map((entry) => entry.path);
    for (
      const path of ["container-manager.db", "secret.key", `stacks/${project}/compose.yaml`]
    ) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(", ")}`);
    }

    // Without --include-key the key stays out, and the command says so.
    const keyless = await runTask("backup", [
      "--data-dir",
      panel.dataDir,
      "--stacks-dir",
      stacksDir,
      "--to",
      `${work}/keyless.tar.gz`,
    ]);
    assert.equal(keyless.code, 0, keyless.stderr);
    assert.match(keyless.stderr, /is not in this backup/);
    assert.ok(
      !(await archiveEntries(`${work}/keyless.tar.gz`)).some((e) => e.path === "secret.key"),
    );
    // An existing file is never overwritten.
    const twice = await runTask("backup", ["--data-dir", panel.dataDir, "--to", archive]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already exists/);
    await panel.stop();

    const restore = await runTask("restore", [
      "--from",
      archive,
      "--data-dir",
      restoredData,
      "--stacks-dir",
      restoredStacks,
    ]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(mode(restoredData), "700");
    assert.equal(mode(`${restoredData}/container-manager.db`), "600");
    assert.equal(mode(`${restoredData}/secret.key`), "600");
    assert.equal(mode(restoredStacks), "700");
    assert.equal(mode(`${restoredStacks}/${project}`), "700");
    assert.equal(mode(`${restoredStacks}/${project}/compose.yaml`), "600");
    const again = await runTask("restore", ["--from", archive, "--data-dir", restoredData]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty/);

    const verify = await runMain(["audit", "verify", "--data-dir", restoredData]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^OK: \d+ audit rows, hash chain intact/);

    restored = await startPanel({ dataDir: restoredData, args: ["--stacks-dir", restoredStacks] });
    const cookie = await restored.login("admin", PANEL_ADMIN_PASSWORD);
    const stacks = JSON.parse(
      (await api(restored, cookie, "GET", "/api/containers/compose/stacks"))
        .text,
    ).stacks;
    const stack = stacks.find((entry: { name: string }) => entry.name === project);
    assert.ok(stack?.ours, JSON.stringify(stacks));
    const files = JSON.parse(
      (await api(restored, cookie, "GET", `/api/containers/compose/stacks/${project}`)).text,
    );
    assert.equal(files.yaml, yaml);
    const users = JSON.parse((await api(restored, cookie, "GET", "/api/users")).text).users;
    const before = signedUp.filter((time) => time < backupStarted).length;
    assert.ok(users.length >= 1 + before, `the ${before} users made before the copy are there`);

    // Pulling from the private registry needs the stored password, decrypted.
    const pull = await api(restored, cookie, "POST", "/api/containers/images/pull", { reference });
    assert.equal(pull.type, "application/x-ndjson", pull.text);
    const last = JSON.parse(pull.text.trim().split("\n").at(-1)!);
    assert.equal(last.done, true, pull.text);
    assert.ok(!last.error, pull.text);
  } finally {
    await restored?.stop();
    await cleanupComposeProject(docker, project);
    if (reference) await docker.json("DELETE", `/images/${reference}`).catch(() => {});
    await registry.stop();
    docker.close();
    await Deno.remove(work, { recursive: true });
  }
});

async function gzipped(entries: TarEntry[]): Promise<Uint8Array> {
  const stream = new Blob([buildTar(entries)]).stream().pipeThrough(gzip());
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const MANIFEST: TarEntry = {
  type: "file",
  path: "manifest.json",
  data: new TextEncoder().encode(JSON.stringify({
    format: "container-manager-backup",
    version: 1,
    panel_version: "0.1.0",
    created_at: new Date().toISOString(),
    key: false,
  })),
};

Deno.test("restore refuses links, paths leaving its folders and foreign archives, leaving nothing", async () => {
  const work = await Deno.makeTempDir({ prefix: "cm-restore-test-" });
  const bytes = new TextEncoder().encode("x");
  const cases: [string, TarEntry[], RegExp][] = [
    [
      "no manifest",
      [{ type: "file", path: "container-manager.db", data: bytes }],
      /not a .*backup/,
    ],
    [
      "a symlink",
      [MANIFEST, { type: "dir", path: "stacks" }, {
        type: "symlink",
        path: "stacks/web",
        target: "/etc",
      }],
      /link or special file/,
    ],
    [
      "dot-dot",
      [MANIFEST, { type: "dir", path: "stacks" }, {
        type: "file",
        path: "stacks/../evil",
        data: bytes,
      }],
      /unsafe path/,
    ],
    [
      "an unknown entry",
      [MANIFEST, { type: "file", path: "etc/passwd", data: bytes }],
      /unexpected/,
    ],
    ["no database", [MANIFEST], /holds no database/],
  ];
  try {
    for (const [name, entries, message] of cases) {
      const file = `${work}/${name.replaceAll(" ", "-")}.tar.gz`;
      await Deno.writeFile(file, await gzipped(entries));
      const target = `${work}/${name.replaceAll(" ", "-")}-data`;
      const result = await runTask("restore", ["--from", file, "--data-dir", target]);
      assert.equal(result.code, 1, `${name}: ${result.stdout}`);
      assert.match(result.stderr, message, name);
      assert.equal(
        await Deno.stat(target).then(() => true, () => false),
        false,
        `${name}: the folder it made is gone`,
      );
    }
    assert.equal(await Deno.stat(`${work}/evil`).then(() => true, () => false), false);
    const missing = await runTask("backup", ["--data-dir", work]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /backup needs --to/);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("restore into an empty folder the service owns gives it the restored files", async () => {
  const work = await Deno.makeTempDir({ prefix: "cm-restore-owner-" });
  try {
    const db = new DatabaseSync(`${work}/source.db`);
    db.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1)");
    db.close();
    const file = `${work}/backup.tar.gz`;
    await Deno.writeFile(
      file,
      await gzipped([
        MANIFEST,
        {
          type: "file",
          path: "container-manager.db",
          data: await Deno.readFile(`${work}/source.db`),
        },
        { type: "dir", path: "stacks" },
        { type: "dir", path: "stacks/web" },
        { type: "file", path: "stacks/web/compose.yaml", data: new TextEncoder().encode("x: 1\n") },
      ]),
    );
    const target = `${work}/data`;
    await Deno.mkdir(target, { mode: 0o755 });
    await Deno.chown(target, 4242, 4343);
    const result = await runTask("restore", ["--from", file, "--data-dir", target]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /holds no key file/);
    for (
      const [path, wanted] of [
        [target, "700"],
        [`${target}/container-manager.db`, "600"],
        [`${target}/stacks`, "700"],
        [`${target}/stacks/web`, "700"],
        [`${target}/stacks/web/compose.yaml`, "600"],
      ]
    ) {
      const info = await Deno.stat(path);
      assert.deepEqual([info.uid, info.gid, mode(path)], [4242, 4343, wanted], path);
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
