/**
 * `deno task bundle` makes dist/container-manager.js; copied alone into an empty folder and
 * started with `deno task start`'s permissions, it serves the whole panel: every page in
 * the navigation, every static file (styles, icons, each islands chunk), a compose preview
 * (the parse worker is embedded too) and an exec session over the WebSocket.
 */
import assert from "node:assert/strict";
import { startPermissions } from "./fixtures/server.ts";
import { freePort } from "./fixtures/registry.ts";
import {
  engineClient,
  ensureTestImage,
  removeTestContainers,
  TEST_IMAGE,
  TEST_LABEL,
  uniquePrefix,
} from "./fixtures/engine.ts";
import { createContainer, startContainer } from "../lib/docker/containers.ts";

const ROOT = new URL("../", import.meta.url);
const PASSWORD = "bundle test admin password";

async function* staticFiles(dir: URL, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      yield* staticFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (/\.(js|css|svg)$/.test(entry.name)) yield `${prefix}${entry.name}`;
  }
}

Deno.test("the single-file bundle, alone in an empty folder, serves the whole panel", async () => {
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["task", "bundle"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
  // One non-ASCII character makes V8 hold the whole source as two bytes a character.
  const nonAscii = (await Deno.readTextFile(new URL("dist/container-manager.js", ROOT)))
    .match(/.{0,40}[\u0080-\uffff].{0,20}/);
  assert.equal(nonAscii, null, `A non-ASCII character in the bundle: ${nonAscii?.[0]}`);

  const folder = await Deno.makeTempDir({ prefix: "cm-bundle-" });
  await Deno.copyFile(new URL("dist/container-manager.js", ROOT), `${folder}/container-manager.js`);
  assert.deepEqual([...Deno.readDirSync(folder)].map((entry) => entry.name), [
    "container-manager.js",
  ]);
  const docker = await engineClient();
  await ensureTestImage(docker);
  const prefix = uniquePrefix("cmbundle");
  const port = await freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(await startPermissions()),
      "container-manager.js",
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      `${folder}/data`,
    ],
    cwd: folder,
    env: { NO_COLOR: "1", CM_ADMIN_PASSWORD: PASSWORD },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const collected = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    while (!output.includes("listening on")) {
      assert.ok(Date.now() < deadline, `The bundle did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const login = await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: url },
      body: JSON.stringify({ username: "admin", password: PASSWORD }),
    });
    assert.equal(login.status, 200, await login.text());
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith("cm_session="))!
      .split(";")[0];

    // Every page the navigation links to, and every static file each page refers to.
    const first = await fetch(`${url}/containers`, { headers: { Cookie: cookie } });
    const html = await first.text();
    assert.equal(first.status, 200);
    const pages = new Set(
      [...html.matchAll(/href="(\/[a-z]+)"/g)].map((match) => match[1]),
    );
    for (const page of ["/containers", "/images", "/compose", "/audit", "/users"]) {
      assert.ok(pages.has(page), `the navigation links to ${page}`);
    }
    const assets = new Set<string>();
    for (const page of pages) {
      const response = await fetch(`${url}${page}`, { headers: { Cookie: cookie } });
      const body = await response.text();
      assert.equal(response.status, 200, `${page}: ${body.slice(0, 200)}`);
      assert.ok(body.includes("data-island"), `${page} renders its island`);
      for (const match of body.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) assets.add(match[1]);
    }
    // The islands load their chunks by relative import: all of static/ must be there.
    for await (const path of staticFiles(new URL("static/", ROOT))) assets.add(`/static/${path}`);
    assert.ok([...assets].some((path) => path.startsWith("/static/build/")));
    // Scripts and styles are embedded gzip-compressed and sent so to a browser that takes
    // gzip (fetch does, and unpacks them), as the files themselves to one that does not.
    let compressed = 0;
    for (const asset of assets) {
      const local = await Deno.readFile(new URL(`.${asset}`, ROOT));
      const response = await fetch(`${url}${asset}`);
      assert.equal(response.status, 200, asset);
      if (response.headers.get("content-encoding") === "gzip") compressed++;
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), local, `${asset} (gzip)`);
      const plain = await fetch(`${url}${asset}`, { headers: { "Accept-Encoding": "identity" } });
      assert.equal(plain.headers.get("content-encoding"), null, asset);
      assert.deepEqual(new Uint8Array(await plain.arrayBuffer()), local, `${asset} (identity)`);
    }
    assert.ok(compressed >= assets.size / 2, `${compressed} of ${assets.size} sent compressed`);
    const refused = await fetch(`${url}/static/styles.css`, {
      headers: { "Accept-Encoding": "br, gzip;q=0" },
    });
    assert.equal(refused.headers.get("content-encoding"), null, "gzip;q=0 refuses gzip");
    assert.deepEqual(
      new Uint8Array(await refused.arrayBuffer()),
      await Deno.readFile(new URL("static/styles.css", ROOT)),
    );

    // The compose parser runs in a worker, embedded in the bundle as well.
    const preview = await fetch(`${url}/api/containers/compose/preview`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: url, "Content-Type": "application/json" },
      body: JSON.stringify({
        yaml: `services:\n  web:\n    image: ${TEST_IMAGE}\n`,
        project: `${prefix}stack`,
      }),
    });
    const plan = await preview.json();
    assert.equal(preview.status, 200, JSON.stringify(plan));
    assert.equal(plan.services.length, 1);

    // One exec session over the WebSocket.
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: { [TEST_LABEL]: prefix },
    }, `${prefix}box`);
    await startContainer(docker, Id);
    // Deno's WebSocket takes headers as a second-argument option.
    const options = { headers: { Cookie: cookie, Origin: url } } as unknown as string[];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/containers/${Id}/exec`, options);
    socket.binaryType = "arraybuffer";
    let received = "";
    const decoder = new TextDecoder();
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No answer: ${received}`)), 15_000);
      socket.onmessage = (event) => {
        received += typeof event.data === "string"
          ? event.data
          : decoder.decode(event.data, { stream: true });
        if (received.includes("bundle-42")) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("The exec WebSocket did not open"));
    });
    socket.send(new TextEncoder().encode("echo bundle-$((6*7))\n"));
    await answered;
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.send(new TextEncoder().encode("exit\n"));
    await closed;
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await collected;
    await removeTestContainers(docker, prefix);
    docker.close();
    await Deno.remove(folder, { recursive: true });
  }
});
