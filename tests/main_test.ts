import assert from "node:assert/strict";
import {
  delay,
  PANEL_ADMIN_PASSWORD,
  runMain,
  startPanel,
  startPermissions,
} from "./fixtures/server.ts";

const ROOT = new URL("../", import.meta.url);
import { ENV_NAMES } from "../lib/config.ts";

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
  const env = permissions.find((flag) => flag.startsWith("--allow-env="));
  assert.ok(env, "env access is limited to named variables");
  assert.deepEqual(env.slice("--allow-env=".length).split(",").sort(), [...ENV_NAMES].sort());
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
  const halfTls = await runMain(["--tls-cert", "/tmp/cert.pem"]);
  assert.equal(halfTls.code, 2);
  assert.match(halfTls.stderr, /--tls-cert needs --tls-key/);
  const notPem = await runMain(["--tls-cert", "deno.json", "--tls-key", "deno.json"]);
  assert.equal(notPem.code, 2);
  assert.match(notPem.stderr, /Cannot use deno\.json as the TLS certificate: not PEM/);
});

/** A throwaway CA and a certificate it signed for 127.0.0.1, made with openssl. */
async function makeCertificate(dir: string) {
  const openssl = async (...args: string[]) => {
    const result = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" })
      .output();
    assert.ok(result.success, new TextDecoder().decode(result.stderr));
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=cm test CA",
  );
  await openssl("req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  );
  return {
    ca: await Deno.readTextFile(`${dir}/ca.pem`),
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
  };
}

Deno.test("with --tls-cert and --tls-key the panel serves HTTPS and the cookie is Secure and __Host-", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-tls-" });
  const cert = await makeCertificate(dir);
  const client = Deno.createHttpClient({ caCerts: [cert.ca] });
  // Deno's fetch takes the client that trusts this certificate.
  const tlsFetch = (url: string, init: RequestInit = {}) =>
    fetch(url, { ...init, client } as RequestInit);
  const panel = await startPanel({
    args: ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
  });
  try {
    const url = panel.url.replace("http://", "https://");
    assert.match(panel.output(), new RegExp(`listening on ${url}/`));
    const login = await tlsFetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: url },
      body: JSON.stringify({ username: "admin", password: PANEL_ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    await login.body?.cancel();
    const setCookie = login.headers.getSetCookie().join("\n");
    assert.match(setCookie, /^__Host-cm_session=[^;]+;.*; Secure/m);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(";")[0];
    const me = await tlsFetch(`${url}/api/auth/me`, { headers: { Cookie: cookie } });
    assert.equal(me.status, 200);
    await me.body?.cancel();
    // The plain-HTTP name is not accepted over TLS.
    const plainName = await tlsFetch(`${url}/api/auth/me`, {
      headers: { Cookie: cookie.replace("__Host-cm_session", "cm_session") },
    });
    assert.equal(plainName.status, 401);
    await plainName.body?.cancel();
  } finally {
    client.close();
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the panel starts, prints its URL once, and reports a reachable Engine", async () => {
  const panel = await startPanel();
  try {
    assert.equal(panel.output().match(/listening on http:\/\/127\.0\.0\.1:\d+\//g)?.length, 1);
    // Signed in: anonymous callers learn only up or down (tests/attacks/http_test.ts).
    const response = await fetch(`${panel.url}/api/health`, {
      headers: { Cookie: await panel.login() },
    });
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
    const cookie = await panel.login();
    const health = await (await fetch(`${panel.url}/api/health`, { headers: { Cookie: cookie } }))
      .json();
    assert.equal(health.ok, true);
    assert.equal(health.docker.reachable, false);
    assert.equal(health.docker.version, null);
    const page = await fetch(`${panel.url}/containers`, { headers: { Cookie: cookie } });
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
    const cookie = await panel.login();
    const inFlight = fetch(`${panel.url}/containers`, { headers: { Cookie: cookie } }).then(
      async (response) => {
        await response.text();
        return response.status;
      },
    );
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

Deno.test("first run without an admin password prints a one-time setup token that /setup requires", async () => {
  const panel = await startPanel({ env: { CM_ADMIN_PASSWORD: "" } });
  try {
    const token = panel.output().match(/setup token: ([0-9a-f]{48})/)?.[1];
    assert.ok(token, "the token is in the log");
    const login = await fetch(`${panel.url}/login`, { redirect: "manual" });
    assert.equal(login.headers.get("location"), "/setup");
    const setup = (body: unknown) =>
      fetch(`${panel.url}/api/auth/setup`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: panel.url },
        body: JSON.stringify(body),
      });
    const wrong = await setup({
      token: "0".repeat(48),
      username: "boss",
      password: "a good long password",
    });
    assert.equal(wrong.status, 403);
    await wrong.body?.cancel();
    const right = await setup({ token, username: "boss", password: "a good long password" });
    assert.equal(right.status, 200);
    await right.body?.cancel();
    assert.ok(
      right.headers.getSetCookie().some((line) => line.startsWith("cm_session=")),
      "signed in at once",
    );
    const again = await setup({ token, username: "boss2", password: "a good long password" });
    assert.equal(again.status, 409, "the token is single-use");
    await again.body?.cancel();
    await panel.login("boss", "a good long password");
  } finally {
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("a key file readable by group or others refuses to start; so does a missing key with sealed rows", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cm-panel-" });
  try {
    await Deno.writeFile(`${dataDir}/secret.key`, crypto.getRandomValues(new Uint8Array(32)), {
      mode: 0o644,
    });
    await Deno.chmod(`${dataDir}/secret.key`, 0o644);
    const loose = await runMain(["--data-dir", dataDir, "--listen", "127.0.0.1:0"]);
    assert.equal(loose.code, 1);
    assert.match(loose.stderr, /secret\.key/);
    assert.match(loose.stderr, /chmod 600/);

    await Deno.chmod(`${dataDir}/secret.key`, 0o600);
    const { openDatabase } = await import("../lib/db/db.ts");
    const db = openDatabase(`${dataDir}/container-manager.db`);
    db.prepare(
      "INSERT INTO image_registries (server_address, username, password_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    ).run("localhost:5000", "u", new Uint8Array(40), "now", "now");
    db.close();
    await Deno.remove(`${dataDir}/secret.key`);
    const missing = await runMain(["--data-dir", dataDir, "--listen", "127.0.0.1:0"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /key/i);
    await assert.rejects(
      Deno.stat(`${dataDir}/secret.key`),
      Deno.errors.NotFound,
      "no new key was made",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a canary password never shows up in a response, a log line, an audit row or the database files", async () => {
  const canary = `Canary-${crypto.randomUUID()}`;
  const panel = await startPanel();
  const responses: string[] = [];
  const call = async (method: string, path: string, cookie: string, body?: unknown) => {
    const response = await fetch(`${panel.url}${path}`, {
      method,
      headers: {
        Cookie: cookie,
        Origin: panel.url,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    responses.push([...response.headers].join("\n") + "\n" + await response.text());
    return response;
  };
  try {
    const admin = await panel.login();
    const created = await call("POST", "/api/users", admin, {
      username: "canary",
      password: canary,
      role: "viewer",
    });
    assert.equal(created.status, 201);
    const viewer = await panel.login("canary", canary);
    await call("POST", "/api/auth/login", "", { username: "canary", password: `${canary}-wrong` });
    await call("POST", "/api/auth/password", viewer, {
      current_password: canary,
      new_password: `${canary}-2`,
    });
    await call("GET", "/api/users", admin);
    await call("GET", "/api/audit?limit=500", admin);
    await call("GET", "/api/audit/export?format=csv", admin);
    await call("GET", "/api/audit/export?format=json", admin);
    await call("GET", "/users", admin);
    await call("GET", "/audit", admin);
  } finally {
    await panel.stop();
  }
  try {
    for (const text of responses) {
      assert.ok(!text.includes(canary), `a response leaked the canary:\n${text.slice(0, 500)}`);
    }
    assert.ok(!panel.output().includes(canary), "the log leaked the canary");
    for (
      const file of ["container-manager.db", "container-manager.db-wal", "container-manager.db-shm"]
    ) {
      const bytes = await Deno.readFile(`${panel.dataDir}/${file}`).catch(() => new Uint8Array());
      assert.ok(
        !new TextDecoder("latin1").decode(bytes).includes(canary),
        `${file} holds the canary in plaintext`,
      );
    }
  } finally {
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("with the start task's permissions, a compose preview works (the yaml package reads LOG_* env)", async () => {
  const panel = await startPanel();
  try {
    const cookie = await panel.login();
    const response = await fetch(`${panel.url}/api/containers/compose/preview`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: panel.url, "Content-Type": "application/json" },
      body: JSON.stringify({
        yaml: "services:\n  a:\n    image: cm-test/busybox:latest\n",
        project: "cmpermcheck",
      }),
    });
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.services[0].name, "a");
    assert.doesNotMatch(panel.output(), /NotCapable/);
  } finally {
    await panel.stop();
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("SIGTERM with an open terminal closes it, ends its shell and still writes its audit row", async () => {
  const {
    engineClient,
    ensureTestImage,
    removeTestContainers,
    TEST_IMAGE,
    TEST_LABEL,
    uniquePrefix,
  } = await import(
    "./fixtures/engine.ts"
  );
  const { createContainer, startContainer } = await import("../lib/docker/containers.ts");
  const { openDatabase } = await import("../lib/db/db.ts");
  const docker = await engineClient();
  await ensureTestImage(docker);
  const prefix = uniquePrefix();
  const panel = await startPanel();
  try {
    const { Id } = await createContainer(docker, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "300"],
      Labels: { [TEST_LABEL]: prefix },
    });
    await startContainer(docker, Id);
    const cookie = await panel.login();
    const options = { headers: { Cookie: cookie, Origin: panel.url } } as unknown as string[];
    const socket = new WebSocket(
      `${panel.url.replace("http", "ws")}/ws/containers/${Id}/exec`,
      options,
    );
    await new Promise((resolve) => socket.onmessage = resolve);
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    assert.equal(await panel.stop(), 0);
    assert.equal((await closed).code, 1001);
    const db = openDatabase(`${panel.dataDir}/container-manager.db`);
    const row = db.prepare("SELECT action, target FROM sysctl_audit WHERE action = 'docker.exec'")
      .get();
    db.close();
    assert.deepEqual({ ...row }, { action: "docker.exec", target: Id });
    const top = await docker.json<{ Processes: string[][] }>("GET", `/containers/${Id}/top`);
    assert.ok(
      !top.Processes.some((process) => process.at(-1) === "/bin/sh"),
      "the shell was ended",
    );
  } finally {
    await removeTestContainers(docker, prefix);
    docker.close();
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});

Deno.test("a shutdown that runs out of time still audits the pull it cuts off", async () => {
  const { engineClient, uniquePrefix } = await import("./fixtures/engine.ts");
  const { pushToRegistry, startRegistry, startSlowProxy } = await import("./fixtures/registry.ts");
  const { randomPayloadTar } = await import("./fixtures/tar.ts");
  const { importImage, listImages } = await import("../lib/docker/images.ts");
  const { openDatabase } = await import("../lib/db/db.ts");
  const docker = await engineClient();
  const prefix = uniquePrefix("cmcut");
  const registry = await startRegistry();
  // 14 MB at 1 MB/s: the pull outlasts the 10 s shutdown grace.
  const proxy = startSlowProxy(registry, 1_000_000);
  const panel = await startPanel();
  try {
    const local = `${prefix}src/payload:1`;
    await importImage(docker, local, randomPayloadTar(prefix, 14_000_000));
    await pushToRegistry(docker, local, registry, `${prefix}slow/payload`);
    await docker.json("DELETE", `/images/${local}`);
    const headers = { Cookie: await panel.login(), Origin: panel.url };
    const saved = await fetch(`${panel.url}/api/containers/registries`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        server_address: proxy.address,
        username: registry.username,
        password: registry.password,
      }),
    });
    assert.equal(saved.status, 200, await saved.text());
    const pull = await fetch(`${panel.url}/api/containers/images/pull`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({ reference: `${proxy.address}/${prefix}slow/payload:latest` }),
    });
    const reader = pull.body!.getReader();
    await reader.read(); // the pull has started
    const started = Date.now();
    assert.equal(await panel.stop(), 1);
    assert.ok(Date.now() - started < 13_000, `exited after ${Date.now() - started} ms`);
    await reader.cancel().catch(() => {});
    assert.match(panel.output(), /exiting anyway \(1 unfinished, audited\)/);
    const db = openDatabase(`${panel.dataDir}/container-manager.db`);
    const rows = db.prepare("SELECT action, exit_code, stderr FROM sysctl_audit ORDER BY seq")
      .all().map((row) => ({ ...row }));
    db.close();
    assert.deepEqual(rows.at(-1), {
      action: "docker.pull",
      exit_code: 503,
      stderr: "The panel shut down before this finished",
    });
    const verify = await runMain(["audit", "verify", "--data-dir", panel.dataDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    for (const image of await listImages(docker)) {
      for (const tag of (image.RepoTags ?? []).filter((tag) => tag.includes(prefix))) {
        await docker.json("DELETE", `/images/${tag}`).catch(() => {});
      }
    }
    await proxy.stop();
    await registry.stop();
    docker.close();
    await Deno.remove(panel.dataDir, { recursive: true });
  }
});
