/**
 * `container-manager install` / `uninstall`: the panel as a hardened systemd service. The
 * unit text is a pure function of its options; the install is a list of steps planned from
 * what the system holds (planInstall / planUninstall, pure) and then carried out
 * (runSteps). With a root folder every path lives under it and the commands get their
 * offline forms (useradd --prefix, systemctl --root), so tests never touch the real /etc.
 */
import { ENV_NAMES, type InstallOptions, type UninstallOptions } from "./config.ts";

export const SERVICE_NAME = "container-manager";
export const SERVICE_USER = "container-manager";
export const DOCKER_GROUP = "docker";
export const DATA_DIR = "/var/lib/container-manager";
export const APP_DIR = "/opt/container-manager";
export const BUNDLE_PATH = `${APP_DIR}/container-manager.js`;
export const UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;
export const DOCKER_SOCKET = "/var/run/docker.sock";
const WANTS_LINK = `/etc/systemd/system/multi-user.target.wants/${SERVICE_NAME}.service`;

/** Installing or uninstalling cannot go on; the message says why. */
export class InstallError extends Error {
  override name = "InstallError";
}

export interface UnitOptions {
  /** Absolute path of the deno binary. */
  deno: string;
  /** Absolute path of the single-file bundle. */
  bundle: string;
  dataDir: string;
  /** The Engine's socket (Deno asks for write permission to connect to it). */
  dockerSocket: string;
  user: string;
  listen: { hostname: string; port: number };
  allowedOrigins: readonly string[];
}

/**
 * The permissions the service runs with: `deno task start`'s, with writes narrowed to the
 * data folder and the Engine's socket (the bundle serves its assets from memory, so
 * static/build is not needed).
 */
export function servicePermissions(dataDir: string, dockerSocket: string): string[] {
  return [
    "--allow-net",
    "--allow-read",
    `--allow-write=${dataDir},${dockerSocket}`,
    `--allow-env=${ENV_NAMES.join(",")}`,
    "--ignore-env=LOG_TOKENS,LOG_STREAM",
  ];
}

/**
 * V8 flags of every way the panel runs (the start, dev and compile tasks, this unit): a
 * young generation of 1 MiB per semi-space instead of up to 16 keeps the RSS of a panel
 * serving stats streams about a fifth lower (docs/BENCHMARKS.md, bench/rss.ts).
 */
export const V8_FLAGS = "--max-semi-space-size=1";
/**
 * The `deno run` flags of the start and dev tasks and this unit (compile takes them too):
 * V8_FLAGS, and no V8 code cache, which the panel would otherwise read (and on a first run
 * write) through an SQLite database in DENO_DIR for every module it loads, for a few MiB of
 * RSS that stay (docs/BENCHMARKS.md, bench/rss.ts).
 */
export const RUN_FLAGS: readonly string[] = [`--v8-flags=${V8_FLAGS}`, "--no-code-cache"];
/**
 * glibc malloc settings, as `NAME=value` words: two arenas instead of one per thread that
 * allocates (Deno's runtime threads would each keep one), and blocks of 64 KiB and more (the
 * read buffers of every open stream) mapped on their own and given back when freed, instead
 * of staying in the heap. bench/rss.ts: peak 112-116 -> 94 MiB with 5 viewers.
 */
export const MALLOC_ENV =
  "MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=131072";

/** The unit's DENO_DIR, in the data folder (the one folder the service may write). */
export const DENO_CACHE = "deno-cache";

/** The ExecStart command line, as argv. */
export function serviceCommand(options: UnitOptions): string[] {
  const listen = options.listen.hostname.includes(":")
    ? `[${options.listen.hostname}]:${options.listen.port}`
    : `${options.listen.hostname}:${options.listen.port}`;
  return [
    options.deno,
    "run",
    ...RUN_FLAGS,
    "--no-prompt",
    ...servicePermissions(options.dataDir, options.dockerSocket),
    options.bundle,
    "--listen",
    listen,
    "--data-dir",
    options.dataDir,
    ...(options.allowedOrigins.length > 0
      ? ["--allowed-origins", options.allowedOrigins.join(",")]
      : []),
  ];
}

/**
 * One word of a unit's command line: systemd splits on spaces and expands `%` specifiers
 * and `$` variables, so those are quoted or doubled. Control characters cannot be written.
 */
export function unitWord(word: string): string {
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(word)) {
    throw new InstallError(`Cannot put ${JSON.stringify(word)} in a unit file`);
  }
  const escaped = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./\[\]$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** A path in a setting that takes one path (ReadWritePaths=): no spaces, no specifiers. */
function unitPath(path: string): string {
  if (!/^\/[A-Za-z0-9_@+=:,./-]*$/.test(path)) {
    throw new InstallError(`The path ${JSON.stringify(path)} cannot be used in the unit`);
  }
  return path;
}

/** The systemd unit. Pure: the same options give the same text. */
export function renderUnit(options: UnitOptions): string {
  const exec = serviceCommand(options).map(unitWord).join(" ");
  return `# Written by \`container-manager install\`; \`container-manager uninstall\` removes it.
[Unit]
Description=Container Manager (Docker control panel)
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=simple
User=${options.user}
Group=${options.user}
SupplementaryGroups=${DOCKER_GROUP}
Environment=DENO_NO_UPDATE_CHECK=1
Environment=${MALLOC_ENV}
# A cache Deno can write (the user has no home): without one, every start analyses the whole
# bundle again and the panel keeps ~35 MiB more (docs/BENCHMARKS.md, bench/rss.ts).
Environment=DENO_DIR=${unitPath(options.dataDir)}/${DENO_CACHE}
ExecStart=${exec}
Restart=on-failure
RestartSec=5
# The panel finishes running operations for up to 10 s after SIGTERM.
TimeoutStopSec=20
UMask=0077
LimitNOFILE=65536

NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${unitPath(options.dataDir)}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

/** What the install found on the system (read by `readFacts`). */
export interface SystemFacts {
  /** The docker group exists. */
  dockerGroup: boolean;
  /** The service user exists. */
  user: boolean;
  /** The service user is a member of the docker group. */
  userInDocker: boolean;
  unitExists: boolean;
  dataDirExists: boolean;
}

export type Step =
  | { kind: "run"; argv: string[]; why: string }
  | { kind: "mkdir"; path: string; mode: number; owner: "root" | "service" }
  | { kind: "copy"; from: string; to: string; mode: number }
  | { kind: "write"; path: string; text: string; mode: number }
  | { kind: "remove"; path: string };

/** `path` under `root` (the real path when there is none). */
export function rooted(root: string | undefined, path: string): string {
  return root ? `${root}${path}` : path;
}

/** The install's steps; refuses (InstallError) when the docker group is missing. */
export function planInstall(
  options: InstallOptions & { bundle: string; deno: string },
  facts: SystemFacts,
): Step[] {
  if (!facts.dockerGroup) {
    throw new InstallError(
      `There is no "${DOCKER_GROUP}" group: install Docker first (its socket belongs to that group).`,
    );
  }
  const root = options.root;
  const prefix = root ? ["--prefix", root] : [];
  const steps: Step[] = [];
  if (!facts.user) {
    steps.push({
      kind: "run",
      why: `create the system user ${SERVICE_USER} in the ${DOCKER_GROUP} group`,
      argv: [
        "useradd",
        ...prefix,
        "--system",
        "--user-group",
        "--groups",
        DOCKER_GROUP,
        "--home-dir",
        "/nonexistent",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "--comment",
        "Container Manager",
        SERVICE_USER,
      ],
    });
  } else if (!facts.userInDocker) {
    steps.push({
      kind: "run",
      why: `add ${SERVICE_USER} to the ${DOCKER_GROUP} group`,
      argv: ["usermod", ...prefix, "--append", "--groups", DOCKER_GROUP, SERVICE_USER],
    });
  }
  steps.push(
    { kind: "mkdir", path: rooted(root, DATA_DIR), mode: 0o700, owner: "service" },
    { kind: "mkdir", path: rooted(root, APP_DIR), mode: 0o755, owner: "root" },
    { kind: "copy", from: options.bundle, to: rooted(root, BUNDLE_PATH), mode: 0o644 },
    {
      kind: "write",
      path: rooted(root, UNIT_PATH),
      mode: 0o644,
      text: renderUnit({
        deno: options.deno,
        bundle: BUNDLE_PATH,
        dataDir: DATA_DIR,
        dockerSocket: DOCKER_SOCKET,
        user: SERVICE_USER,
        listen: options.listen,
        allowedOrigins: options.allowedOrigins,
      }),
    },
  );
  const unit = `${SERVICE_NAME}.service`;
  if (root) {
    steps.push({
      kind: "run",
      why: "enable the service at boot",
      argv: ["systemctl", `--root=${root}`, "enable", unit],
    });
  } else {
    steps.push(
      { kind: "run", why: "load the unit", argv: ["systemctl", "daemon-reload"] },
      { kind: "run", why: "enable the service at boot", argv: ["systemctl", "enable", unit] },
    );
    if (options.start) {
      // restart, not start: a reinstall runs the new bundle.
      steps.push({
        kind: "run",
        why: "start the service",
        argv: ["systemctl", "restart", unit],
      });
    }
  }
  return steps;
}

/** The uninstall's steps: the unit and the bundle go; the data and user only with purge. */
export function planUninstall(options: UninstallOptions, facts: SystemFacts): Step[] {
  const root = options.root;
  const unit = `${SERVICE_NAME}.service`;
  const steps: Step[] = [];
  if (facts.unitExists) {
    steps.push({
      kind: "run",
      why: "stop the service and disable it",
      argv: root ? ["systemctl", `--root=${root}`, "disable", unit] : [
        "systemctl",
        "disable",
        "--now",
        unit,
      ],
    });
  }
  steps.push(
    { kind: "remove", path: rooted(root, WANTS_LINK) },
    { kind: "remove", path: rooted(root, UNIT_PATH) },
    { kind: "remove", path: rooted(root, APP_DIR) },
  );
  if (!root && facts.unitExists) {
    steps.push({ kind: "run", why: "forget the unit", argv: ["systemctl", "daemon-reload"] });
  }
  if (options.purge) {
    steps.push({ kind: "remove", path: rooted(root, DATA_DIR) });
    if (facts.user) {
      steps.push({
        kind: "run",
        why: `remove the user ${SERVICE_USER}`,
        argv: ["userdel", ...(root ? ["--prefix", root] : []), SERVICE_USER],
      });
    }
  }
  return steps;
}

/** One line per step, for --dry-run and for the log of what was done. */
export function describeStep(step: Step): string {
  const mode = (m: number) => m.toString(8).padStart(4, "0");
  switch (step.kind) {
    case "run":
      return `run: ${step.argv.join(" ")}   (${step.why})`;
    case "mkdir":
      return `folder: ${step.path} mode ${mode(step.mode)} owned by ${
        step.owner === "service" ? SERVICE_USER : "root"
      }`;
    case "copy":
      return `copy: ${step.from} -> ${step.to} mode ${mode(step.mode)}`;
    case "write":
      return `write: ${step.path} mode ${mode(step.mode)}`;
    case "remove":
      return `remove: ${step.path}`;
  }
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The entries of an /etc/passwd or /etc/group text (name, id, group id or members). */
export function parseAccounts(text: string): { name: string; id: number; fields: string[] }[] {
  return text.split("\n").filter((line) => line && !line.startsWith("#")).map((line) => {
    const fields = line.split(":");
    return { name: fields[0], id: Number(fields[2]), fields };
  });
}

async function readOptional(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function serviceAccount(root: string | undefined): Promise<Account | undefined> {
  const passwd = parseAccounts(await readOptional(rooted(root, "/etc/passwd")));
  const user = passwd.find((entry) => entry.name === SERVICE_USER);
  return user ? { name: user.name, uid: user.id, gid: Number(user.fields[3]) } : undefined;
}

/** Reads what planInstall / planUninstall need from (the root's) /etc and the unit path. */
export async function readFacts(root: string | undefined): Promise<SystemFacts> {
  const groups = parseAccounts(await readOptional(rooted(root, "/etc/group")));
  const docker = groups.find((entry) => entry.name === DOCKER_GROUP);
  const user = await serviceAccount(root);
  const members = (docker?.fields[3] ?? "").split(",").filter(Boolean);
  return {
    dockerGroup: docker !== undefined,
    user: user !== undefined,
    userInDocker: user !== undefined && docker !== undefined &&
      (members.includes(SERVICE_USER) || user.gid === docker.id),
    unitExists: await exists(rooted(root, UNIT_PATH)),
    dataDirExists: await exists(rooted(root, DATA_DIR)),
  };
}

/** Carries out the steps in order, printing each; stops at the first that fails. */
export async function runSteps(
  steps: readonly Step[],
  root: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  for (const step of steps) {
    log(describeStep(step));
    switch (step.kind) {
      case "run": {
        let result: Deno.CommandOutput;
        try {
          result = await new Deno.Command(step.argv[0], {
            args: step.argv.slice(1),
            stdout: "piped",
            stderr: "piped",
          }).output();
        } catch (error) {
          throw new InstallError(
            `Cannot run ${step.argv[0]} to ${step.why}: ${(error as Error).message}`,
          );
        }
        if (!result.success) {
          const stderr = new TextDecoder().decode(result.stderr).trim();
          throw new InstallError(
            `${step.argv[0]} failed to ${step.why} (exit ${result.code}): ${stderr.slice(0, 500)}`,
          );
        }
        break;
      }
      case "mkdir": {
        await Deno.mkdir(step.path, { recursive: true, mode: step.mode });
        await Deno.chmod(step.path, step.mode);
        if (step.owner === "service") {
          const account = await serviceAccount(root);
          if (!account) throw new InstallError(`The user ${SERVICE_USER} does not exist`);
          await Deno.chown(step.path, account.uid, account.gid);
        } else {
          await Deno.chown(step.path, 0, 0);
        }
        break;
      }
      case "copy":
      case "write": {
        // Written beside the target and renamed over it, so a running service never
        // reads a half-written bundle or unit.
        const target = step.kind === "copy" ? step.to : step.path;
        const partial = `${target}.partial`;
        await Deno.mkdir(dirnameOf(target), { recursive: true, mode: 0o755 });
        if (step.kind === "copy") await Deno.copyFile(step.from, partial);
        else await Deno.writeTextFile(partial, step.text);
        await Deno.chmod(partial, step.mode);
        await Deno.chown(partial, 0, 0);
        await Deno.rename(partial, target);
        break;
      }
      case "remove":
        await Deno.remove(step.path, { recursive: true }).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
        break;
    }
  }
}

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * Waits for the started service to report listening in the journal; returns the setup
 * token it printed (none when a user exists already), or undefined with `listening: false`
 * when it did not start in time.
 */
export async function awaitService(
  since: Date,
  timeoutMs = 30_000,
): Promise<{ listening: boolean; token?: string }> {
  const deadline = Date.now() + timeoutMs;
  const seconds = Math.floor(since.getTime() / 1000);
  while (Date.now() < deadline) {
    const result = await new Deno.Command("journalctl", {
      args: [
        "--unit",
        `${SERVICE_NAME}.service`,
        `--since=@${seconds}`,
        "--output=cat",
        "--no-pager",
      ],
      stdout: "piped",
      stderr: "null",
    }).output().catch(() => undefined);
    const text = result ? new TextDecoder().decode(result.stdout) : "";
    if (text.includes("listening on")) {
      const token = text.match(/one-time setup token: ([0-9a-f]+)/)?.[1];
      return { listening: true, token };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { listening: false };
}

function requireRoot(what: string) {
  if (Deno.uid() !== 0) throw new InstallError(`${what} must run as root (for example with sudo)`);
}

/** The bundle to install: the running one, or dist/container-manager.js beside main.ts. */
function defaultBundle(): string {
  const main = new URL(Deno.mainModule);
  const url = main.pathname.endsWith(".js") ? main : new URL("dist/container-manager.js", main);
  return decodeURIComponent(url.pathname);
}

async function requireFile(path: string, what: string, hint: string) {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new InstallError(`There is no ${what} at ${path}: ${hint}`);
  }
  if (!info.isFile) throw new InstallError(`${path} is not a file: ${hint}`);
}

function urlOf(listen: { hostname: string; port: number }): string {
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  return `http://${host}:${listen.port}/`;
}

/** `container-manager install`: returns the exit code. */
export async function installCommand(options: InstallOptions): Promise<number> {
  try {
    if (!options.dryRun) requireRoot("install");
    const bundle = options.bundle ?? defaultBundle();
    const deno = options.deno ?? Deno.execPath();
    await requireFile(bundle, "bundle", "run `deno task bundle` first, or pass --bundle FILE");
    await requireFile(deno, "deno binary", "pass --deno with the path of deno");
    if (/^\/(root|home)(\/|$)/.test(deno)) {
      throw new InstallError(
        `The service cannot see ${deno} (ProtectHome hides /root and /home): install deno ` +
          "system-wide, for example in /usr/local/bin, and pass --deno with that path",
      );
    }
    const steps = planInstall({ ...options, bundle, deno }, await readFacts(options.root));
    if (options.dryRun) {
      for (const step of steps) console.log(describeStep(step));
      const unit = steps.find((step) => step.kind === "write");
      if (unit?.kind === "write") console.log(`\n${unit.path}:\n${unit.text}`);
      return 0;
    }
    const since = new Date();
    await runSteps(steps, options.root, (line) => console.log(line));
    if (!options.start) {
      console.log(
        options.root
          ? `Installed under ${options.root}.`
          : `Installed. Start it with: systemctl start ${SERVICE_NAME}`,
      );
      return 0;
    }
    const started = await awaitService(since);
    if (!started.listening) {
      console.error(
        `The service did not report listening within 30 s; see: journalctl -u ${SERVICE_NAME}`,
      );
      return 1;
    }
    console.log(`Container Manager is running: ${urlOf(options.listen)}`);
    if (started.token) {
      console.log(`Open ${urlOf(options.listen)}setup and enter the setup token: ${started.token}`);
    } else {
      console.log("Sign in with an existing account (the data folder already has users).");
    }
    return 0;
  } catch (error) {
    if (!(error instanceof InstallError || error instanceof Deno.errors.PermissionDenied)) {
      throw error;
    }
    console.error(`container-manager: ${error.message}`);
    return 1;
  }
}

/** `container-manager uninstall`: returns the exit code. */
export async function uninstallCommand(options: UninstallOptions): Promise<number> {
  try {
    if (!options.dryRun) requireRoot("uninstall");
    const steps = planUninstall(options, await readFacts(options.root));
    if (options.dryRun) {
      for (const step of steps) console.log(describeStep(step));
      return 0;
    }
    await runSteps(steps, options.root, (line) => console.log(line));
    console.log(
      options.purge
        ? `Uninstalled; ${DATA_DIR} and the user ${SERVICE_USER} are removed.`
        : `Uninstalled; ${DATA_DIR} and the user ${SERVICE_USER} are kept ` +
          "(uninstall --purge removes them).",
    );
    return 0;
  } catch (error) {
    if (!(error instanceof InstallError || error instanceof Deno.errors.PermissionDenied)) {
      throw error;
    }
    console.error(`container-manager: ${error.message}`);
    return 1;
  }
}
