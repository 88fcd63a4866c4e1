/**
 * The files of a stack directory: the API (admin writes, viewer reads names only, names
 * confined, 0600, size cap, write-only secrets, audited without content), relative binds
 * resolved against the stack directory, and the preview's warning for a missing source.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack, execOutput } from "../fixtures/compose.ts";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

const BASE = "/api/containers/compose/stacks";

async function put(t: TestApp, cookie: string, project: string, body: Record<string, unknown>) {
  const response = await t.request("PUT", `${BASE}/${project}/files`, { cookie, json: body });
  return { status: response.status, body: await response.json() };
}

async function setup() {
  const t = await createTestApp();
  const admin = t.cookieFor(await t.addUser("admin", "admin"));
  const viewer = t.cookieFor(await t.addUser("viewer", "viewer"));
  return { t, admin, viewer };
}

Deno.test("files API: admins add, read, replace and remove files (0600, folders 0700); viewers see names only", async () => {
  const { t, admin, viewer } = await setup();
  const project = `cmfiles${crypto.randomUUID().slice(0, 6)}`;
  try {
    const added = await put(t, admin, project, { path: "conf/app.conf", content: "listen 80\n" });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(
      { path: added.body.path, size: added.body.size, created: added.body.created },
      { path: "conf/app.conf", size: 10, created: true },
    );
    const dir = `${t.dir}/stacks/${project}`;
    assert.equal((await Deno.stat(`${dir}/conf/app.conf`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/conf`)).mode! & 0o777, 0o700);

    const list = await t.request("GET", `${BASE}/${project}/files`, { cookie: viewer });
    assert.equal(list.status, 200);
    const listed = await list.json();
    assert.deepEqual(listed.files.map((f: { path: string }) => f.path), ["conf/app.conf"]);
    assert.equal(JSON.stringify(listed).includes("listen 80"), false);

    const path = encodeURIComponent("conf/app.conf");
    const forbidden = await t.request("GET", `${BASE}/${project}/files/content?path=${path}`, {
      cookie: viewer,
    });
    assert.equal(forbidden.status, 403);
    const viewerPut = await put(t, viewer, project, { path: "x.txt", content: "x" });
    assert.equal(viewerPut.status, 403);

    const read = await t.request("GET", `${BASE}/${project}/files/content?path=${path}`, {
      cookie: admin,
    });
    assert.equal(read.status, 200);
    assert.equal((await read.json()).content, "listen 80\n");

    const replaced = await put(t, admin, project, {
      path: "conf/app.conf",
      content: "listen 81\n",
    });
    assert.equal(replaced.body.created, false);
    assert.equal(await Deno.readTextFile(`${dir}/conf/app.conf`), "listen 81\n");

    const removed = await t.request("DELETE", `${BASE}/${project}/files?path=${path}`, {
      cookie: admin,
    });
    assert.equal(removed.status, 200);
    await assert.rejects(Deno.stat(`${dir}/conf`), Deno.errors.NotFound);
    const again = await t.request("DELETE", `${BASE}/${project}/files?path=${path}`, {
      cookie: admin,
    });
    assert.equal(again.status, 404);
    await again.body?.cancel();

    const rows = auditRows(t.deps.db).filter((row) => row.action.startsWith("compose.file."));
    assert.deepEqual(
      rows.map((row) => [row.action, row.target, row.exit_code]),
      [
        ["compose.file.put", `${project}/conf/app.conf`, 0],
        ["compose.file.put", `${project}/x.txt`, 403],
        ["compose.file.put", `${project}/conf/app.conf`, 0],
        ["compose.file.rm", `${project}/conf/app.conf`, 0],
        ["compose.file.rm", `${project}/conf/app.conf`, 404],
      ],
    );
    for (const row of rows) assert.equal(/listen 8/.test(JSON.stringify(row)), false);
  } finally {
    await t.close();
  }
});

Deno.test("files API: names stay inside the stack folder; no symlinks out, size cap, reserved names", async () => {
  const { t, admin } = await setup();
  const project = `cmfiles${crypto.randomUUID().slice(0, 6)}`;
  const outside = await Deno.makeTempDir({ prefix: "cm-outside-" });
  try {
    for (
      const path of [
        "../escape.txt",
        "a/../../escape.txt",
        "/etc/passwd",
        "a//b",
        "./",
        "a/./b",
        "name with space",
        "compose.yaml",
        ".env",
        "x\u0000y",
        "a/".repeat(9) + "f",
        "x".repeat(300),
      ]
    ) {
      const answer = await put(t, admin, project, { path, content: "x" });
      assert.equal(answer.status, 400, `${JSON.stringify(path)} → ${JSON.stringify(answer.body)}`);
    }
    assert.equal(
      (await put(t, admin, project, { path: "big.txt", content: "x".repeat(256 * 1024 + 1) }))
        .status,
      413,
    );
    assert.equal(
      (await put(t, admin, project, { path: "nul.txt", content: "a\u0000b" })).status,
      400,
    );
    assert.equal((await put(t, admin, project, { path: "n.txt", content: 42 })).status, 400);

    // A link planted in the stack folder (by someone with a shell on the host) is never
    // followed: not to write, not to read, not as a folder on the way.
    const dir = `${t.dir}/stacks/${project}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${outside}/target.txt`, "outside");
    await Deno.symlink(`${outside}/target.txt`, `${dir}/link.txt`);
    await Deno.symlink(outside, `${dir}/linkdir`);
    assert.equal(
      (await put(t, admin, project, { path: "link.txt", content: "pwned" })).status,
      400,
    );
    assert.equal(
      (await put(t, admin, project, { path: "linkdir/new.txt", content: "pwned" })).status,
      400,
    );
    const read = await t.request(
      "GET",
      `${BASE}/${project}/files/content?path=${encodeURIComponent("linkdir/target.txt")}`,
      { cookie: admin },
    );
    assert.equal(read.status, 400);
    await read.body?.cancel();
    assert.equal(await Deno.readTextFile(`${outside}/target.txt`), "outside");
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["target.txt"]);

    const badProject = await put(t, admin, "../etc", { path: "x", content: "x" });
    assert.equal(badProject.status, 404); // not a route: the name holds a slash
    const upper = await put(t, admin, "Bad_Name", { path: "x", content: "x" });
    assert.equal(upper.status, 400);
  } finally {
    await t.close();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("files API: a secret file is write-only and its content is in no response or audit row", async () => {
  const { t, admin } = await setup();
  const project = `cmfiles${crypto.randomUUID().slice(0, 6)}`;
  const secret = `s3cr3t-${crypto.randomUUID()}`;
  try {
    const added = await put(t, admin, project, {
      path: "db_pw.txt",
      content: secret,
      secret: true,
    });
    assert.equal(added.status, 200);
    assert.equal(added.body.secret, true);
    const list = await (await t.request("GET", `${BASE}/${project}/files`, { cookie: admin }))
      .json();
    assert.deepEqual(list.files.map((f: { path: string; secret: boolean }) => [f.path, f.secret]), [
      ["db_pw.txt", true],
    ]);
    const read = await t.request("GET", `${BASE}/${project}/files/content?path=db_pw.txt`, {
      cookie: admin,
    });
    assert.equal(read.status, 403);
    const text = await read.text();
    assert.equal(text.includes(secret), false);
    // Replacing keeps it secret.
    const replaced = await put(t, admin, project, { path: "db_pw.txt", content: `${secret}2` });
    assert.equal(replaced.body.secret, true);
    assert.equal(JSON.stringify(added.body).includes(secret), false);
    for (const row of auditRows(t.deps.db)) {
      assert.equal(JSON.stringify(row).includes(secret), false, JSON.stringify(row));
    }
    assert.equal(t.logs.join("\n").includes(secret), false);
  } finally {
    await t.close();
  }
});

Deno.test("a ./conf bind resolves in the stack folder: missing, the preview warns; added through the panel, the container sees it", async () => {
  const { t, admin } = await setup();
  await ensureTestImage(t.deps.docker);
  const project = `cmfiles${crypto.randomUUID().slice(0, 6)}`;
  const yaml = `
services:
  app:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    volumes:
      - ./conf/app.conf:/etc/app.conf:ro
      - type: bind
        source: ./missing-strict
        target: /strict
        bind:
          create_host_path: false
`;
  try {
    const preview = async () => {
      const response = await t.request("POST", "/api/containers/compose/preview", {
        cookie: admin,
        json: { yaml, project },
      });
      assert.equal(response.status, 200);
      return (await response.json()).warnings as { kind: string; message: string }[];
    };
    const before = (await preview()).filter((w) => w.kind === "host");
    assert.equal(before.length, 2, JSON.stringify(before));
    assert.match(before[0].message, /\.\/conf\/app\.conf.*Docker will create an empty directory/);
    assert.match(before[1].message, /missing-strict.*the deploy will fail/);

    const content = `answer=${crypto.randomUUID()}\n`;
    assert.equal((await put(t, admin, project, { path: "conf/app.conf", content })).status, 200);
    await put(t, admin, project, { path: "missing-strict/keep", content: "" });
    assert.deepEqual((await preview()).filter((w) => w.kind === "host"), []);

    const answer = await deployStack(t, admin, { yaml, project });
    assert.equal(answer.last?.done, true, answer.text);
    const output = await execOutput(t.deps.docker, `${project}-app-1`, ["cat", "/etc/app.conf"]);
    assert.equal(output.replaceAll("\r", ""), content);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});

Deno.test("a bind source starting with ~ is refused with a 400 naming the line", async () => {
  const { t, admin } = await setup();
  try {
    const response = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: {
        project: "cmtilde",
        yaml: `services:\n  app:\n    image: ${TEST_IMAGE}\n    volumes:\n      - ~/data:/data\n`,
      },
    });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.match(body.error, /line 5/);
    assert.match(body.error, /"~"/);
  } finally {
    await t.close();
  }
});

Deno.test("secrets and configs: a file secret is at /run/secrets/<name>, content ones are written in; no value in any response or audit row", async () => {
  const { t, admin } = await setup();
  await ensureTestImage(t.deps.docker);
  const project = `cmsecret${crypto.randomUUID().slice(0, 6)}`;
  const password = `pw-${crypto.randomUUID()}`;
  const apiKey = `key-${crypto.randomUUID()}`;
  const inline = `inline-${crypto.randomUUID()}`;
  const yaml = `
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    environment:
      DB_PASSWORD_FILE: /run/secrets/db_pw
    secrets:
      - db_pw
      - source: api_key
        target: api.key
        mode: 0400
    configs:
      - source: app_conf
        target: /etc/app.conf
secrets:
  db_pw:
    file: ./db_pw.txt
  api_key:
    environment: API_KEY
configs:
  app_conf:
    content: "${inline}"
`;
  const body = { yaml, project, env: `API_KEY=${apiKey}\n` };
  const answers: string[] = [];
  try {
    // Missing, the preview says the deploy would fail (without naming any content).
    const before = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: body,
    });
    const beforeText = await before.text();
    answers.push(beforeText);
    assert.equal(before.status, 200);
    assert.match(beforeText, /db_pw\.txt.*does not exist on the host/);

    const added = await put(t, admin, project, {
      path: "db_pw.txt",
      content: password,
      secret: true,
    });
    answers.push(JSON.stringify(added.body));
    const preview = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: body,
    });
    const previewText = await preview.text();
    answers.push(previewText);
    assert.equal(previewText.includes("does not exist on the host"), false);

    const answer = await deployStack(t, admin, body);
    answers.push(answer.text);
    assert.equal(answer.last?.done, true, answer.text);
    const docker = t.deps.docker;
    const container = `${project}-db-1`;
    const read = async (path: string) =>
      (await execOutput(docker, container, ["cat", path])).replaceAll("\r", "");
    assert.equal(await read("/run/secrets/db_pw"), password);
    assert.equal(await read("/run/secrets/api.key"), apiKey);
    assert.equal(await read("/etc/app.conf"), inline);
    const modes = await execOutput(docker, container, [
      "stat",
      "-c",
      "%a %n",
      "/run/secrets/api.key",
      "/etc/app.conf",
    ]);
    assert.deepEqual(modes.replaceAll("\r", "").trim().split("\n"), [
      "400 /run/secrets/api.key",
      "444 /etc/app.conf",
    ]);
    // The file secret is a read-only bind.
    const written = await execOutput(docker, container, [
      "sh",
      "-c",
      "echo x > /run/secrets/db_pw && echo writable || echo read-only",
    ]);
    assert.match(written, /read-only/);

    for (const path of ["/api/containers/compose/stacks", `${BASE}/${project}/files`]) {
      answers.push(await (await t.request("GET", path, { cookie: admin })).text());
    }
    const everything = [...answers, JSON.stringify(auditRows(t.deps.db)), t.logs.join("\n")];
    for (const text of everything) {
      for (const value of [password, apiKey]) {
        assert.equal(text.includes(value), false, `a secret leaked into: ${text.slice(0, 300)}`);
      }
    }
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
