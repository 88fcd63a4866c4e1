/**
 * `container-manager install` / `uninstall`: the unit text (pure), `systemd-analyze verify`
 * on it, its command line really serving the panel, and the whole install and uninstall
 * run into a folder standing in for / (useradd --prefix, systemctl --root), so the real
 * /etc, users and systemd are never touched.
 */
import assert from "node:assert/strict";
import {
  APP_DIR,
  BUNDLE_PATH,
  DATA_DIR,
  DENO_CACHE,
  DOCKER_SOCKET,
  MALLOC_ENV,
  planInstall,
  planUninstall,
  renderUnit,
  RUN_FLAGS,
  serviceCommand,
  type SystemFacts,
  UNIT_PATH,
  type UnitOptions,
  unitWord,
  V8_FLAGS,
} from "../lib/install.ts";
import { ConfigError, ENV_NAMES, parseCommand } from "../lib/config.ts";
import { freePort } from "./fixtures/registry.ts";
import { delay, startPermissions } from "./fixtures/server.ts";
import { dockerHost } from "./fixtures/engine.ts";

const ROOT = new URL("../", import.meta.url);
const decoder = new TextDecoder();

function unitOptions(overrides: Partial<UnitOptions> = {}): UnitOptions {
  return {
    deno: Deno.execPath(),
    bundle: BUNDLE_PATH,
    dataDir: DATA_DIR,
    dockerSocket: DOCKER_SOCKET,
    user: "container-manager",
    listen: { hostname: "127.0.0.1", port: 8080 },
    allowedOrigins: [],
    ...overrides,
  };
}

function setting(unit: string, key: string): string[] {
  return unit.split("\n").filter((line) => line.startsWith(`${key}=`)).map((line) =>
    line.slice(key.length + 1)
  );
}

/** The flags of a deno.json task's `deno run` (the last command of the task). */
async function taskPermissions(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const run: string = config.tasks[task].split("&&").at(-1)!.trim();
  return run.split(/\s+/).filter((part) => part.startsWith("--allow-"));
}

Deno.test("the unit: hardening, the data folder the only writable path, explicit permissions", () => {
  const unit = renderUnit(unitOptions({ allowedOrigins: ["https://panel.example"] }));
  for (
    const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["PrivateTmp", "yes"],
      ["ProtectHome", "yes"],
      ["User", "container-manager"],
      ["SupplementaryGroups", "docker"],
      ["CapabilityBoundingSet", ""],
    ]
  ) {
    assert.deepEqual(setting(unit, key), [value], key);
  }
  assert.deepEqual(setting(unit, "ReadWritePaths"), [DATA_DIR]);
  const [exec] = setting(unit, "ExecStart");
  const argv = exec.split(" ");
  assert.equal(argv[0], Deno.execPath());
  assert.ok(!/\s-A\b|--allow-all|--allow-run|--allow-sys|--allow-ffi/.test(exec), exec);
  assert.ok(
    argv.includes(`--allow-write=${DATA_DIR},${DOCKER_SOCKET}`),
    "writes only in the data folder (and connects to the Engine's socket)",
  );
  assert.ok(argv.includes(`--allow-env=${ENV_NAMES.join(",")}`));
  assert.ok(argv.includes("--no-prompt"));
  assert.ok(argv.includes(`--v8-flags=${V8_FLAGS}`), "the start task's V8 flags");
  assert.ok(setting(unit, "Environment").includes(MALLOC_ENV), "the start task's allocator");
  for (const flag of RUN_FLAGS) assert.ok(argv.includes(flag), `the start task's ${flag}`);
  // A cache Deno can write, inside the one writable folder.
  assert.ok(setting(unit, "Environment").includes(`DENO_DIR=${DATA_DIR}/${DENO_CACHE}`), unit);
  assert.deepEqual(argv.slice(argv.indexOf(BUNDLE_PATH)), [
    BUNDLE_PATH,
    "--listen",
    "127.0.0.1:8080",
    "--data-dir",
    DATA_DIR,
    "--allowed-origins",
    "https://panel.example",
  ]);
  // Pure: the same options give the same text.
  assert.equal(renderUnit(unitOptions()), renderUnit(unitOptions()));
});

Deno.test("the start, dev and compile tasks and the unit run with the same V8 flags", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  for (const task of ["start", "dev", "compile"]) {
    const last: string = config.tasks[task].split("&&").at(-1)!.trim();
    assert.ok(last.split(/\s+/).includes(`--v8-flags=${V8_FLAGS}`), `${task}: ${last}`);
    for (const flag of RUN_FLAGS) {
      assert.ok(last.split(/\s+/).includes(flag), `${task}: ${flag} in ${last}`);
    }
    // A compiled binary cannot carry an environment variable; the others run with it.
    if (task !== "compile") assert.ok(last.startsWith(`${MALLOC_ENV} deno `), `${task}: ${last}`);
  }
});

Deno.test("the unit's permissions are the start task's, with writes narrowed to the data folder", async () => {
  const start = await startPermissions();
  const unit = serviceCommand(unitOptions()).filter((word) => /^--(allow|ignore)-/.test(word));
  assert.deepEqual(
    unit.map((flag) => flag.startsWith("--allow-write=") ? "--allow-write" : flag).sort(),
    start.sort(),
  );
});

Deno.test("unit words: spaces quoted, % and $ doubled, control characters refused", () => {
  assert.equal(unitWord("/opt/cm/x.js"), "/opt/cm/x.js");
  assert.equal(unitWord("/opt/my panel/x.js"), '"/opt/my panel/x.js"');
  assert.equal(unitWord("a%b$c"), "a%%b$$c");
  assert.equal(unitWord('say "hi"'), '"say \\"hi\\""');
  assert.throws(() => unitWord("a\nExecStartPre=/bin/sh"), /Cannot put/);
  assert.throws(
    () => renderUnit(unitOptions({ dataDir: "/var/lib/a b" })),
    /cannot be used in the unit/,
  );
});

/** Runs `systemd-analyze verify`; a missing tool is a failure that says what to install. */
async function analyzeVerify(unitFile: string) {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("systemd-analyze", {
      args: ["verify", unitFile],
      stdout: "piped",
      stderr: "piped",
      env: { SYSTEMD_LOG_COLOR: "0" },
    }).output();
  } catch (error) {
    throw new Error(
      `systemd-analyze is missing: install Debian's "systemd" package (.ci/run does). ${error}`,
    );
  }
  return {
    code: output.code,
    text: (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim(),
  };
}

Deno.test("systemd-analyze verify passes on the generated unit (and fails on a broken one)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-unit-" });
  try {
    const file = `${dir}/container-manager.service`;
    await Deno.writeTextFile(
      file,
      renderUnit(unitOptions({ allowedOrigins: ["https://panel.example"] })),
    );
    const good = await analyzeVerify(file);
    assert.equal(good.code, 0, good.text);
    assert.equal(good.text, "", "no warnings either");

    // The check can fail: a misspelt key and a missing binary are reported.
    await Deno.writeTextFile(
      file,
      renderUnit(unitOptions({ deno: `${dir}/no-such-deno` })).replace(
        "ProtectSystem=",
        "ProtectSytem=",
      ),
    );
    const bad = await analyzeVerify(file);
    assert.match(bad.text, /Unknown key 'ProtectSytem'/);
    assert.match(bad.text, /no-such-deno is not executable/);
    assert.notEqual(bad.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the unit's command line, as written, serves the panel and reaches the Engine", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "cm-unit-data-" });
  const port = await freePort();
  // main.ts stands in for the bundle (tests/bundle_test.ts runs the bundle itself).
  const argv = serviceCommand(
    unitOptions({
      bundle: new URL("main.ts", ROOT).pathname,
      dataDir,
      dockerSocket: dockerHost.kind === "unix" ? dockerHost.path : DOCKER_SOCKET,
      listen: { hostname: "127.0.0.1", port },
    }),
  );
  const password = "unit command line admin password";
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1", CM_ADMIN_PASSWORD: password },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const collected = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  }));
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    while (!output.includes("listening on")) {
      const exited = await Promise.race([child.status.then(() => true), delay(50)]);
      assert.ok(!exited && Date.now() < deadline, `The service command did not start:\n${output}`);
    }
    const login = await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: url },
      body: JSON.stringify({ username: "admin", password }),
    });
    assert.equal(login.status, 200, await login.text());
    const cookie = login.headers.getSetCookie()[0].split(";")[0];
    const containers = await fetch(`${url}/api/containers`, { headers: { Cookie: cookie } });
    assert.equal(containers.status, 200, await containers.text());
    const health = await (await fetch(`${url}/api/health`)).json();
    assert.equal(health.docker.reachable, true, JSON.stringify(health));
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await collected;
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.ok(!output.includes("PermissionDenied") && !output.includes("NotCapable"), output);
});

const FACTS: SystemFacts = {
  dockerGroup: true,
  user: false,
  userInDocker: false,
  unitExists: false,
  dataDirExists: false,
};

const INSTALL = {
  listen: { hostname: "127.0.0.1", port: 8080 },
  allowedOrigins: [],
  bundle: "/tmp/container-manager.js",
  deno: "/usr/bin/deno",
  dryRun: false,
  start: true,
};

Deno.test("install plan: user only when missing, docker membership repaired, offline forms under a root", () => {
  const argvs = (steps: ReturnType<typeof planInstall>) =>
    steps.flatMap((step) => step.kind === "run" ? [step.argv.join(" ")] : []);
  const fresh = argvs(planInstall(INSTALL, FACTS));
  assert.match(fresh[0], /^useradd --system --user-group --groups docker .* container-manager$/);
  assert.deepEqual(fresh.slice(1), [
    "systemctl daemon-reload",
    "systemctl enable container-manager.service",
    "systemctl restart container-manager.service",
  ]);
  const again = argvs(planInstall(INSTALL, { ...FACTS, user: true, userInDocker: true }));
  assert.ok(!again.some((line) => /useradd|usermod/.test(line)));
  const repaired = argvs(planInstall(INSTALL, { ...FACTS, user: true }));
  assert.equal(repaired[0], "usermod --append --groups docker container-manager");
  const rooted = planInstall({ ...INSTALL, root: "/tmp/r", start: false }, FACTS);
  assert.deepEqual(argvs(rooted).map((line) => line.split(" ").slice(0, 3).join(" ")), [
    "useradd --prefix /tmp/r",
    "systemctl --root=/tmp/r enable",
  ]);
  for (const step of rooted) {
    if (step.kind === "mkdir" || step.kind === "write") assert.ok(step.path.startsWith("/tmp/r/"));
    if (step.kind === "copy") assert.ok(step.to.startsWith("/tmp/r/"));
  }
  assert.throws(
    () => planInstall(INSTALL, { ...FACTS, dockerGroup: false }),
    /no "docker" group: install Docker first/,
  );
  const keep = planUninstall({ purge: false, dryRun: false }, { ...FACTS, unitExists: true });
  assert.ok(!keep.some((step) => step.kind === "remove" && step.path === DATA_DIR));
  const purge = planUninstall({ purge: true, dryRun: false }, { ...FACTS, user: true });
  assert.ok(purge.some((step) => step.kind === "remove" && step.path === DATA_DIR));
  assert.ok(purge.some((step) => step.kind === "run" && step.argv[0] === "userdel"));
});

/** A folder standing in for /: the account files of a small system with a docker group. */
async function fakeRoot(withDocker = true): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "cm-root-" });
  await Deno.mkdir(`${root}/etc`);
  const files: Record<string, string> = {
    passwd: "root:x:0:0:root:/root:/bin/bash\n" +
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: `root:x:0:\nnogroup:x:65534:\n${withDocker ? "docker:x:989:\n" : ""}`,
    shadow: "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
    gshadow: `root:*::\nnogroup:*::\n${withDocker ? "docker:!::\n" : ""}`,
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${root}/etc/${name}`, text, { mode: 0o644 });
  }
  await Deno.chmod(`${root}/etc/shadow`, 0o640);
  await Deno.chmod(`${root}/etc/gshadow`, 0o640);
  return root;
}

/** main.ts with a deno.json task's permissions. */
async function runTask(task: string, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(await taskPermissions(task)), "main.ts", task, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    text: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

async function exists(path: string) {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("install and uninstall into a stand-in root, with the tasks' permissions", async () => {
  const realPasswd = await Deno.readTextFile("/etc/passwd");
  const realGroup = await Deno.readTextFile("/etc/group");
  const root = await fakeRoot();
  const bundle = `${root}.bundle.js`;
  await Deno.writeTextFile(bundle, "console.log('the bundle');\n");
  try {
    const installed = await runTask("install", [
      "--root",
      root,
      "--bundle",
      bundle,
      "--listen",
      "127.0.0.1:9090",
    ]);
    assert.equal(installed.code, 0, installed.text);

    const passwd = await Deno.readTextFile(`${root}/etc/passwd`);
    const user = passwd.split("\n").find((line) => line.startsWith("container-manager:"));
    assert.ok(user, passwd);
    const [, , uid, gid, , home, shell] = user.split(":");
    assert.ok(Number(uid) < 1000, `a system user (uid ${uid})`);
    assert.equal(home, "/nonexistent");
    assert.equal(shell, "/usr/sbin/nologin");
    const group = await Deno.readTextFile(`${root}/etc/group`);
    assert.match(group, /^docker:x:989:container-manager$/m);

    const data = await Deno.stat(`${root}${DATA_DIR}`);
    assert.ok(data.isDirectory);
    assert.equal(data.mode! & 0o777, 0o700);
    assert.equal(data.uid, Number(uid));
    assert.equal(data.gid, Number(gid));
    const copied = await Deno.stat(`${root}${BUNDLE_PATH}`);
    assert.equal(copied.mode! & 0o777, 0o644);
    assert.equal(copied.uid, 0);
    assert.equal(await Deno.readTextFile(`${root}${BUNDLE_PATH}`), await Deno.readTextFile(bundle));

    const unit = await Deno.readTextFile(`${root}${UNIT_PATH}`);
    assert.ok(unit.includes("--listen 127.0.0.1:9090"));
    assert.ok(unit.includes(`${BUNDLE_PATH} --listen`));
    const verified = await analyzeVerify(`${root}${UNIT_PATH}`);
    assert.equal(verified.code, 0, verified.text);
    const wants = `${root}/etc/systemd/system/multi-user.target.wants/container-manager.service`;
    assert.equal(await Deno.readLink(wants), UNIT_PATH);

    // Installing again changes nothing that matters and adds no second user.
    const again = await runTask("install", ["--root", root, "--bundle", bundle]);
    assert.equal(again.code, 0, again.text);
    assert.equal(
      (await Deno.readTextFile(`${root}/etc/passwd`)).match(/^container-manager:/gm)?.length,
      1,
    );

    const kept = await runTask("uninstall", ["--root", root]);
    assert.equal(kept.code, 0, kept.text);
    assert.equal(await exists(`${root}${UNIT_PATH}`), false);
    assert.equal(await exists(wants), false);
    assert.equal(await exists(`${root}${APP_DIR}`), false);
    assert.equal(await exists(`${root}${DATA_DIR}`), true, "the data stays");
    assert.match(await Deno.readTextFile(`${root}/etc/passwd`), /^container-manager:/m);

    const purged = await runTask("uninstall", ["--root", root, "--purge"]);
    assert.equal(purged.code, 0, purged.text);
    assert.equal(await exists(`${root}${DATA_DIR}`), false);
    assert.doesNotMatch(await Deno.readTextFile(`${root}/etc/passwd`), /container-manager/);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(bundle);
  }
  assert.equal(await Deno.readTextFile("/etc/passwd"), realPasswd, "the real /etc/passwd");
  assert.equal(await Deno.readTextFile("/etc/group"), realGroup, "the real /etc/group");
});

Deno.test("install refuses without a docker group; --dry-run only prints the plan", async () => {
  const bare = await fakeRoot(false);
  const withDocker = await fakeRoot(true);
  const bundle = `${bare}.bundle.js`;
  await Deno.writeTextFile(bundle, "// bundle\n");
  try {
    const refused = await runTask("install", ["--root", bare, "--bundle", bundle]);
    assert.equal(refused.code, 1);
    assert.match(refused.text, /no "docker" group: install Docker first/);
    assert.equal(await exists(`${bare}${DATA_DIR}`), false);

    const before = await Deno.readTextFile(`${withDocker}/etc/passwd`);
    const dry = await runTask("install", ["--root", withDocker, "--bundle", bundle, "--dry-run"]);
    assert.equal(dry.code, 0, dry.text);
    assert.match(dry.text, /run: useradd --prefix/);
    assert.match(dry.text, /ProtectSystem=strict/);
    assert.equal(await Deno.readTextFile(`${withDocker}/etc/passwd`), before);
    assert.deepEqual([...Deno.readDirSync(withDocker)].map((entry) => entry.name), ["etc"]);

    const missing = await runTask("install", ["--root", withDocker, "--bundle", `${bare}.nope`]);
    assert.equal(missing.code, 1);
    assert.match(missing.text, /There is no bundle at .*deno task bundle/);
  } finally {
    await Deno.remove(bare, { recursive: true });
    await Deno.remove(withDocker, { recursive: true });
    await Deno.remove(bundle);
  }
});

Deno.test("install, uninstall, backup and restore flags: parsed, or refused naming the flag", () => {
  const env = () => undefined;
  const install = parseCommand(
    ["install", "--listen", "0.0.0.0:9000", "--allowed-origins", "https://p.example"],
    env,
  );
  assert.equal(install.kind, "install");
  if (install.kind === "install") {
    assert.deepEqual(install.options.listen, { hostname: "0.0.0.0", port: 9000 });
    assert.deepEqual(install.options.allowedOrigins, ["https://p.example"]);
    assert.equal(install.options.start, true);
  }
  const rooted = parseCommand(["install", "--root", "/tmp/r/"], env);
  assert.ok(rooted.kind === "install" && rooted.options.root === "/tmp/r" && !rooted.options.start);
  const purge = parseCommand(["uninstall", "--purge"], env);
  assert.ok(purge.kind === "uninstall" && purge.options.purge);
  const backup = parseCommand(["backup", "--to", "/x.tar.gz", "--stacks-dir", "/s"], env);
  assert.ok(backup.kind === "backup" && backup.config.stacksDir === "/s" && !backup.includeKey);
  for (
    const [args, message] of [
      [["install", "--root", "relative"], /--root must be an absolute path/],
      [["install", "--bundle", "x.js"], /--bundle must be an absolute path/],
      [["install", "--purge"], /Unknown flag --purge/],
      [["uninstall", "--listen", "1.2.3.4:5"], /Unknown flag --listen/],
      [["backup", "--data-dir", "/d"], /backup needs --to/],
      [["backup", "--to", "/x", "--listen", "1.2.3.4:5"], /Unknown flag --listen/],
      [["restore"], /restore needs --from/],
    ] as const
  ) {
    assert.throws(
      () => parseCommand(args, env),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      args.join(" "),
    );
  }
});
