import assert from "node:assert/strict";
import { delay, startPanel, startPermissions } from "./fixtures/server.ts";

const ROOT = new URL("../", import.meta.url);

async function runMain(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await startPermissions()), "main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("the start task grants explicit permissions, never -A", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  for (const task of ["start", "dev", "compile"]) {
    const command: string = config.tasks[task];
    assert.ok(!/\s-A\b|--allow-all/.test(command), `${task} must not use -A`);
    assert.ok(
      !command.split("&&").at(-1)!.includes("--allow-run"),
      `${task} must not allow subprocesses`,
    );
  }
  const permissions = await startPermissions();
  assert.ok(permissions.includes("--allow-net"));
  assert.ok(
    permissions.some((flag) => flag.startsWith("--allow-env=")),
    "env access is limited to named variables",
  );
});

Deno.test("--help and --version print and exit 0", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--listen/);
  assert.match(help.stdout, /--docker-host/);
  const version = await runMain(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^container-manager \d+\.\d+\.\d+/);
});

Deno.test("unknown flags and invalid values exit non-zero naming the flag", async () => {
  const unknown = await runMain(["--frobnicate"]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /--frobnicate/);
  const invalid = await runMain(["--listen", "not-an-address"]);
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stderr, /--listen/);
  const badHost = await runMain(["--docker-host", "ftp://x"]);
  assert.notEqual(badHost.code, 0);
  assert.match(badHost.stderr, /--docker-host/);
});

Deno.test("the panel starts, prints its URL once, and reports a reachable Engine", async () => {
  const panel = await startPanel();
  try {
    assert.equal(panel.output().match(/listening on http:\/\/127\.0\.0\.1:\d+\//g)?.length, 1);
    const response = await fetch(`${panel.url}/api/health`);
    const health = await response.json();
    assert.equal(response.status, 200);
    assert.equal(health.ok, true);
    assert.equal(health.db, "ok");
    assert.equal(health.docker.reachable, true);
    assert.match(health.docker.version, /^\d+\./);
    assert.match(health.docker.apiVersion, /^1\.\d+$/);
  } finally {
    assert.equal(await panel.stop(), 0);
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("with no Engine the panel still starts and answers health with reachable: false", async () => {
  const panel = await startPanel({ args: ["--docker-host", "unix:///nonexistent.sock"] });
  try {
    const health = await (await fetch(`${panel.url}/api/health`)).json();
    assert.equal(health.ok, true);
    assert.equal(health.docker.reachable, false);
    assert.equal(health.docker.version, null);
    const page = await fetch(`${panel.url}/containers`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Docker Engine unreachable at unix:\/\/\/nonexistent.sock/);
  } finally {
    assert.equal(await panel.stop(), 0);
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("SIGTERM lets an in-flight request finish, then exits 0 within 10 s", async () => {
  const panel = await startPanel();
  try {
    const inFlight = fetch(`${panel.url}/containers`).then(async (response) => {
      await response.text();
      return response.status;
    });
    await delay(5);
    const started = Date.now();
    const code = await panel.stop();
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(await inFlight, 200);
    assert.match(panel.output(), /SIGTERM received, shutting down/);
  } finally {
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("a corrupt database refuses to start with a clear message", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cm-panel-" });
  try {
    await Deno.writeTextFile(`${dataDir}/container-manager.db`, "garbage ".repeat(1000));
    const result = await runMain(["--data-dir", dataDir, "--listen", "127.0.0.1:0"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /corrupt/);
    assert.equal(
      await Deno.readTextFile(`${dataDir}/container-manager.db`),
      "garbage ".repeat(1000),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
