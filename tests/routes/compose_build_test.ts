/**
 * build: through the Engine's build API: a build-only service whose Dockerfile was added
 * through the files API is built offline, tagged <project>-<service>, runs, and its output
 * reaches the client; contexts outside the stack folder or remote are refused.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { ensureTestImage, TEST_IMAGE } from "../fixtures/engine.ts";
import { cleanupComposeProject, deployStack, execOutput } from "../fixtures/compose.ts";
import { inspectContainer } from "../../lib/docker/containers.ts";

const BASE = "/api/containers/compose/stacks";

Deno.test("a build-only service is built from files added in the panel, runs, and streams its output", async () => {
  const t = await createTestApp();
  const admin = t.cookieFor(await t.addUser("admin", "admin"));
  const docker = t.deps.docker;
  await ensureTestImage(docker);
  const project = `cmbuild${crypto.randomUUID().slice(0, 6)}`;
  const token = `tok-${crypto.randomUUID()}`;
  const files: Record<string, string> = {
    "app/Dockerfile": [
      `FROM ${TEST_IMAGE}`,
      "ARG TOKEN",
      "COPY hello.txt /hello.txt",
      'RUN echo "built with ${#TOKEN} chars" > /built.txt',
      'CMD ["sleep", "3600"]',
      "",
    ].join("\n"),
    "app/hello.txt": "hello from the stack folder\n",
    "app/ignored.txt": "never sent\n",
    "app/.dockerignore": "ignored.txt\n",
  };
  const yaml = `
services:
  app:
    build:
      context: ./app
      args:
        TOKEN: ${token}
  web:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on: [app]
`;
  try {
    for (const [path, content] of Object.entries(files)) {
      const response = await t.request("PUT", `${BASE}/${project}/files`, {
        cookie: admin,
        json: { path, content },
      });
      assert.equal(response.status, 200, await response.text());
    }
    const preview = await t.request("POST", "/api/containers/compose/preview", {
      cookie: admin,
      json: { yaml, project },
    });
    assert.equal(preview.status, 200);
    const planned = await preview.json();
    assert.deepEqual(
      planned.services.map((s: { name: string; image: string }) => [s.name, s.image]),
      [["app", `${project}-app`], ["web", TEST_IMAGE]],
    );
    assert.equal(planned.services[0].build, true);
    assert.equal(planned.plan.services[0].pull, false);

    const answer = await deployStack(t, admin, { yaml, project });
    assert.equal(answer.last?.done, true, answer.text);
    const building = answer.lines.filter((line) => line.status === "building")
      .map((line) => String(line.message));
    assert.ok(building.some((line) => /^Step 1\/\d+ : FROM /.test(line)), building.join("\n"));
    assert.ok(building.some((line) => /Successfully tagged/.test(line)), building.join("\n"));

    const app = await inspectContainer(docker, `${project}-app-1`);
    assert.equal(app.State.Running, true);
    assert.equal(app.Config.Image, `${project}-app`);
    assert.equal(
      (await execOutput(docker, `${project}-app-1`, ["cat", "/hello.txt", "/built.txt"]))
        .replaceAll("\r", ""),
      `hello from the stack folder\nbuilt with ${token.length} chars\n`,
    );
    const listing = await execOutput(docker, `${project}-app-1`, ["ls", "/"]);
    assert.equal(listing.includes("ignored.txt"), false);
    const web = await inspectContainer(docker, `${project}-web-1`);
    assert.equal(web.Config.Labels?.["com.docker.compose.depends_on"], "app:service_started:false");

    const builds = auditRows(t.deps.db).filter((row) => row.action === "docker.build");
    assert.ok(builds.length >= 1);
    assert.equal(builds.at(-1)!.exit_code, 0);
    assert.match(builds.at(-1)!.params, /"arg_keys":\["TOKEN"\]/);
    for (const row of auditRows(t.deps.db)) {
      assert.equal(JSON.stringify(row).includes(token), false, JSON.stringify(row));
    }
  } finally {
    await cleanupComposeProject(docker, project);
    await docker.json("DELETE", `/images/${project}-app`).catch(() => {});
    await t.close();
  }
});

Deno.test("a build that cannot start says why: no Dockerfile, a context outside or remote (400 with the line)", async () => {
  const t = await createTestApp();
  const admin = t.cookieFor(await t.addUser("admin", "admin"));
  const project = `cmbuild${crypto.randomUUID().slice(0, 6)}`;
  try {
    for (
      const [context, pattern] of [
        ["../elsewhere", /leaves the stack folder.*\(line 4\)/],
        ["/srv/app", /must be inside the stack folder.*\(line 4\)/],
        [
          "https://github.com/x/y.git",
          /is remote; the panel builds only from files in the stack folder.*\(line 4\)/,
        ],
      ] as const
    ) {
      const response = await t.request("POST", "/api/containers/compose/deploy", {
        cookie: admin,
        json: { project, yaml: `services:\n  app:\n    build:\n      context: ${context}\n` },
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, pattern);
    }
    const missing = await deployStack(t, admin, {
      project,
      yaml: "services:\n  app:\n    build: .\n",
    });
    assert.equal(missing.last?.done, false, missing.text);
    assert.match(String(missing.last?.error), /has no "Dockerfile"; add it in the Compose tab/);
  } finally {
    await cleanupComposeProject(t.deps.docker, project);
    await t.close();
  }
});
