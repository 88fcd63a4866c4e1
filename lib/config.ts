import { parseArgs } from "node:util";

export const VERSION = "0.1.0";

/**
 * Every environment variable the panel reads. deno.json's start, dev and compile tasks
 * grant exactly these (--allow-env=...); tests/main_test.ts checks the two agree.
 */
export const ENV_NAMES = [
  "CM_LISTEN",
  "CM_DATA_DIR",
  "CM_STACKS_DIR",
  "DOCKER_HOST",
  "CM_KEY_FILE",
  "CM_MANAGED_LABEL",
  "CM_ALLOWED_ORIGINS",
  "CM_SESSION_IDLE",
  "CM_SESSION_MAX",
  "CM_ADMIN_PASSWORD",
  "CM_ADMIN_PASSWORD_FILE",
  "CM_AUDIT_MAX_AGE",
  "CM_AUDIT_MAX_ROWS",
  "CM_TLS_CERT",
  "CM_TLS_KEY",
  "CM_UPDATE_CHECK_INTERVAL",
] as const;

export type DockerHost =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; hostname: string; port: number };

export interface Config {
  readonly listen: { readonly hostname: string; readonly port: number };
  readonly dataDir: string;
  /** One folder per compose project (its file, .env and the files added in the Compose tab). */
  readonly stacksDir: string;
  readonly dockerHost: DockerHost;
  readonly keyFile: string;
  readonly managedLabel: string;
  /** Extra origins accepted for mutations and WebSocket upgrades (reverse proxies). */
  readonly allowedOrigins: readonly string[];
  readonly sessionIdleMs: number;
  readonly sessionAbsoluteMs: number;
  /** A file holding the first admin's password (first run only). */
  readonly adminPasswordFile?: string;
  /** Audit retention; 0 keeps everything. */
  readonly auditMaxAgeMs: number;
  readonly auditMaxRows: number;
  /** PEM files to serve HTTPS with; without them the panel speaks plain HTTP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** How often image updates are checked (and registry answers reused); 0 disables. */
  readonly updateCheckIntervalMs: number;
}

/** A bad flag or value. main.ts prints the message and exits non-zero. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** `install`: where the service listens and what it runs (paths are in lib/install.ts). */
export interface InstallOptions {
  readonly listen: { readonly hostname: string; readonly port: number };
  readonly allowedOrigins: readonly string[];
  /** The single-file bundle to copy; by default the one running, or dist/container-manager.js. */
  readonly bundle?: string;
  /** The deno binary the unit runs; by default the one running. */
  readonly deno?: string;
  /** Install into this folder as if it were / (tests; packaging). */
  readonly root?: string;
  readonly dryRun: boolean;
  /** Start (or restart) the service and print the URL and setup token. */
  readonly start: boolean;
}

export interface UninstallOptions {
  readonly purge: boolean;
  readonly root?: string;
  readonly dryRun: boolean;
}

export type ParsedCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; config: Config }
  | { kind: "audit-verify"; config: Config }
  | { kind: "backup"; config: Config; to: string; includeKey: boolean }
  | { kind: "restore"; config: Config; from: string }
  | { kind: "install"; options: InstallOptions }
  | { kind: "uninstall"; options: UninstallOptions };

export const HELP =
  `Container Manager ${VERSION}: a control panel for the Docker containers on this node.

Usage: container-manager [flags]

Flags (each has an environment equivalent):
  --listen HOST:PORT        address to listen on          CM_LISTEN     (default 127.0.0.1:8080)
  --data-dir DIR            where the database lives      CM_DATA_DIR   (default ./data)
  --stacks-dir DIR          one folder per compose stack  CM_STACKS_DIR (default <data-dir>/stacks)
  --docker-host URL         unix:///path or tcp://h:p     DOCKER_HOST   (default unix:///var/run/docker.sock)
  --key-file FILE           0600 key for stored secrets   CM_KEY_FILE   (default <data-dir>/secret.key)
  --managed-label KEY       label marking managed ones    CM_MANAGED_LABEL (default io.quazzar.managed)
  --allowed-origins LIST    extra origins, comma-separated CM_ALLOWED_ORIGINS
  --session-idle DURATION   sign out after this idle time CM_SESSION_IDLE (default 2h)
  --session-max DURATION    sign out after this long      CM_SESSION_MAX  (default 12h)
  --admin-password-file F   first run: create "admin" with the password in F
                            (or set CM_ADMIN_PASSWORD; otherwise a setup token is printed)
  --audit-max-age DURATION  prune audit rows older than this CM_AUDIT_MAX_AGE (default: keep)
  --audit-max-rows N        keep at most N audit rows      CM_AUDIT_MAX_ROWS (default: keep)
  --tls-cert FILE           serve HTTPS with this PEM certificate (chain)   CM_TLS_CERT
  --tls-key FILE            and this PEM private key (both or neither)     CM_TLS_KEY
  --update-check-interval DURATION
                            check registries for image updates this often, 0 disables
                            CM_UPDATE_CHECK_INTERVAL (default 6h)

Durations look like 90s, 30m, 2h or 7d.

Subcommands:
  audit verify              check the audit trail's hash chain (uses --data-dir)
  backup --to FILE.tar.gz [--include-key]
                            a consistent copy of the database, the stacks folder and (only
                            with --include-key) the key file, taken while the panel runs
                            (uses --data-dir, --stacks-dir, --key-file)
  restore --from FILE.tar.gz
                            restore a backup into an empty --data-dir (and --stacks-dir,
                            --key-file when given)
  install [--listen HOST:PORT] [--allowed-origins LIST] [--bundle FILE] [--deno PATH]
          [--no-start] [--dry-run] [--root DIR]
                            as root: a system user in the docker group, the data folder
                            /var/lib/container-manager, the bundle in /opt/container-manager
                            and a hardened systemd unit; starts it and prints the URL and the
                            setup token
  uninstall [--purge] [--dry-run] [--root DIR]
                            remove the unit and /opt/container-manager; the data folder and
                            the user stay unless --purge
  --help                    print this help and exit
  --version                 print the version and exit
`;

const FLAG_SPEC = {
  listen: { type: "string" },
  "data-dir": { type: "string" },
  "stacks-dir": { type: "string" },
  "docker-host": { type: "string" },
  "key-file": { type: "string" },
  "managed-label": { type: "string" },
  "allowed-origins": { type: "string" },
  "session-idle": { type: "string" },
  "session-max": { type: "string" },
  "admin-password-file": { type: "string" },
  "audit-max-age": { type: "string" },
  "audit-max-rows": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "update-check-interval": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

type FlagValues = Record<string, string | boolean | undefined>;

function parseFlags(args: readonly string[], options: Record<string, FlagOption>): FlagValues {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError(describeParseError(error));
  }
}

type FlagOption = { type: "string" | "boolean"; short?: string };

/** The flags backup and restore share with the panel: where its files are. */
const PATH_FLAGS = {
  "data-dir": FLAG_SPEC["data-dir"],
  "stacks-dir": FLAG_SPEC["stacks-dir"],
  "key-file": FLAG_SPEC["key-file"],
  help: FLAG_SPEC.help,
} as const;

/** Parses flags, falling back to the environment, then to defaults. Throws ConfigError. */
export function parseCommand(
  args: readonly string[],
  env: (name: string) => string | undefined,
): ParsedCommand {
  if (args[0] === "audit") {
    if (args[1] !== "verify") {
      throw new ConfigError(
        `Unknown audit subcommand "${args[1] ?? ""}". The only one is "audit verify".`,
      );
    }
    const command = parseCommand(args.slice(2), env);
    return command.kind === "serve" ? { kind: "audit-verify", config: command.config } : command;
  }
  if (args[0] === "backup") {
    const values = parseFlags(args.slice(1), {
      ...PATH_FLAGS,
      to: { type: "string" },
      "include-key": { type: "boolean" },
    });
    if (values.help) return { kind: "help" };
    if (typeof values.to !== "string" || values.to.trim() === "") {
      throw new ConfigError("backup needs --to FILE.tar.gz.");
    }
    return {
      kind: "backup",
      config: configOf(values, env),
      to: values.to,
      includeKey: values["include-key"] === true,
    };
  }
  if (args[0] === "restore") {
    const values = parseFlags(args.slice(1), { ...PATH_FLAGS, from: { type: "string" } });
    if (values.help) return { kind: "help" };
    if (typeof values.from !== "string" || values.from.trim() === "") {
      throw new ConfigError("restore needs --from FILE.tar.gz.");
    }
    return { kind: "restore", config: configOf(values, env), from: values.from };
  }
  if (args[0] === "install") return parseInstall(args.slice(1));
  if (args[0] === "uninstall") {
    const values = parseFlags(args.slice(1), {
      purge: { type: "boolean" },
      "dry-run": { type: "boolean" },
      root: { type: "string" },
      help: FLAG_SPEC.help,
    });
    if (values.help) return { kind: "help" };
    return {
      kind: "uninstall",
      options: {
        purge: values.purge === true,
        dryRun: values["dry-run"] === true,
        root: rootOf(values.root),
      },
    };
  }
  const values = parseFlags(args, FLAG_SPEC);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  return { kind: "serve", config: configOf(values, env) };
}

function parseInstall(args: readonly string[]): ParsedCommand {
  const values = parseFlags(args, {
    listen: { type: "string" },
    "allowed-origins": { type: "string" },
    bundle: { type: "string" },
    deno: { type: "string" },
    "no-start": { type: "boolean" },
    "dry-run": { type: "boolean" },
    root: { type: "string" },
    help: FLAG_SPEC.help,
  });
  if (values.help) return { kind: "help" };
  const path = (flag: string) => {
    const value = values[flag];
    if (typeof value !== "string") return undefined;
    if (!value.startsWith("/")) {
      throw new ConfigError(`--${flag} must be an absolute path, got "${value}".`);
    }
    return value;
  };
  const root = rootOf(values.root);
  return {
    kind: "install",
    options: deepFreeze({
      listen: parseListen(
        typeof values.listen === "string" ? values.listen : "127.0.0.1:8080",
      ),
      allowedOrigins: typeof values["allowed-origins"] === "string"
        ? parseOrigins(values["allowed-origins"], "--allowed-origins")
        : [],
      bundle: path("bundle"),
      deno: path("deno"),
      root,
      dryRun: values["dry-run"] === true,
      // Nothing can be started inside a folder standing in for /.
      start: values["no-start"] !== true && root === undefined,
    }),
  };
}

function rootOf(value: string | boolean | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  if (!value.startsWith("/")) {
    throw new ConfigError(`--root must be an absolute path, got "${value}".`);
  }
  const root = value.replace(/\/+$/, "");
  return root === "" ? undefined : root;
}

function configOf(values: FlagValues, env: (name: string) => string | undefined): Config {
  const pick = (flag: string, envName: string): { value: string; source: string } | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return { value: fromFlag, source: `--${flag}` };
    const fromEnv = env(envName);
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: envName };
    return undefined;
  };

  const listenRaw = pick("listen", "CM_LISTEN") ?? { value: "127.0.0.1:8080", source: "--listen" };
  const dataDirRaw = pick("data-dir", "CM_DATA_DIR") ?? { value: "./data", source: "--data-dir" };
  const dockerRaw = pick("docker-host", "DOCKER_HOST") ??
    { value: "unix:///var/run/docker.sock", source: "--docker-host" };
  const dataDir = nonEmpty(dataDirRaw.value, dataDirRaw.source);
  const stacksRaw = pick("stacks-dir", "CM_STACKS_DIR");
  const keyRaw = pick("key-file", "CM_KEY_FILE");
  const labelRaw = pick("managed-label", "CM_MANAGED_LABEL") ??
    { value: "io.quazzar.managed", source: "--managed-label" };
  const originsRaw = pick("allowed-origins", "CM_ALLOWED_ORIGINS");
  const idleRaw = pick("session-idle", "CM_SESSION_IDLE") ??
    { value: "2h", source: "--session-idle" };
  const maxRaw = pick("session-max", "CM_SESSION_MAX") ?? { value: "12h", source: "--session-max" };
  const passwordFileRaw = pick("admin-password-file", "CM_ADMIN_PASSWORD_FILE");
  const auditAgeRaw = pick("audit-max-age", "CM_AUDIT_MAX_AGE");
  const auditRowsRaw = pick("audit-max-rows", "CM_AUDIT_MAX_ROWS");
  const tlsCertRaw = pick("tls-cert", "CM_TLS_CERT");
  const tlsKeyRaw = pick("tls-key", "CM_TLS_KEY");
  const updateRaw = pick("update-check-interval", "CM_UPDATE_CHECK_INTERVAL") ??
    { value: "6h", source: "--update-check-interval" };
  if (!tlsCertRaw !== !tlsKeyRaw) {
    throw new ConfigError(
      tlsCertRaw
        ? `${tlsCertRaw.source} needs --tls-key (CM_TLS_KEY) as well.`
        : `${tlsKeyRaw!.source} needs --tls-cert (CM_TLS_CERT) as well.`,
    );
  }

  const config: Config = {
    listen: parseListen(listenRaw.value, listenRaw.source),
    dataDir,
    stacksDir: stacksRaw
      ? nonEmpty(stacksRaw.value, stacksRaw.source)
      : joinPath(dataDir, "stacks"),
    dockerHost: parseDockerHost(dockerRaw.value, dockerRaw.source),
    keyFile: keyRaw ? nonEmpty(keyRaw.value, keyRaw.source) : joinPath(dataDir, "secret.key"),
    managedLabel: parseLabelKey(labelRaw.value, labelRaw.source),
    allowedOrigins: originsRaw ? parseOrigins(originsRaw.value, originsRaw.source) : [],
    sessionIdleMs: parseDuration(idleRaw.value, idleRaw.source),
    sessionAbsoluteMs: parseDuration(maxRaw.value, maxRaw.source),
    adminPasswordFile: passwordFileRaw
      ? nonEmpty(passwordFileRaw.value, passwordFileRaw.source)
      : undefined,
    auditMaxAgeMs: auditAgeRaw ? parseDuration(auditAgeRaw.value, auditAgeRaw.source) : 0,
    auditMaxRows: auditRowsRaw ? parseCount(auditRowsRaw.value, auditRowsRaw.source) : 0,
    tls: tlsCertRaw && tlsKeyRaw
      ? {
        certFile: nonEmpty(tlsCertRaw.value, tlsCertRaw.source),
        keyFile: nonEmpty(tlsKeyRaw.value, tlsKeyRaw.source),
      }
      : undefined,
    updateCheckIntervalMs: updateRaw.value === "0"
      ? 0
      : parseDuration(updateRaw.value, updateRaw.source),
  };
  if (config.sessionIdleMs > config.sessionAbsoluteMs) {
    throw new ConfigError(`${idleRaw.source} must not be longer than ${maxRaw.source}.`);
  }
  return deepFreeze(config);
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `Unknown flag ${unknown[1]}. Run with --help to see the flags.`;
  const missing = message.match(/Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/);
  if (missing) return `Flag ${missing[1]} needs a value.`;
  const positional = message.match(/Unexpected argument '([^']+)'/);
  if (positional) {
    return `Unexpected argument "${positional[1]}". Run with --help to see the flags.`;
  }
  return message;
}

function nonEmpty(value: string, source: string): string {
  if (value.trim() === "") throw new ConfigError(`${source} must not be empty.`);
  return value;
}

export function parseListen(value: string, source = "--listen"): Config["listen"] {
  const match = value.match(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
  if (!match) {
    throw new ConfigError(
      `${source} must look like HOST:PORT (for example 127.0.0.1:8080), got "${value}".`,
    );
  }
  const port = Number(match[2]);
  // Port 0 asks the OS for a free port; the startup line prints the one it got.
  if (port > 65535) {
    throw new ConfigError(`${source} port must be between 0 and 65535, got ${match[2]}.`);
  }
  const hostname = match[1].startsWith("[") ? match[1].slice(1, -1) : match[1];
  return { hostname, port };
}

export function parseDockerHost(value: string, source = "--docker-host"): DockerHost {
  if (value.startsWith("unix://")) {
    const path = value.slice("unix://".length);
    if (!path.startsWith("/")) {
      throw new ConfigError(
        `${source} must name an absolute socket path (unix:///path), got "${value}".`,
      );
    }
    return { kind: "unix", path };
  }
  if (value.startsWith("tcp://")) {
    const rest = value.slice("tcp://".length).replace(/\/$/, "");
    const match = rest.match(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`${source} must look like tcp://HOST:PORT, got "${value}".`);
    }
    return { kind: "tcp", hostname: match[1], port };
  }
  throw new ConfigError(`${source} must start with unix:// or tcp://, got "${value}".`);
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string, source: string): number {
  const match = value.match(/^(\d{1,6})(s|m|h|d)$/);
  if (!match || Number(match[1]) === 0) {
    throw new ConfigError(
      `${source} must be a duration such as 90s, 30m, 2h or 7d, got "${value}".`,
    );
  }
  return Number(match[1]) * DURATION_UNITS[match[2]];
}

function parseCount(value: string, source: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0) {
    throw new ConfigError(`${source} must be a positive whole number, got "${value}".`);
  }
  return Number(value);
}

function parseLabelKey(value: string, source: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\/-]{0,127}$/.test(value)) {
    throw new ConfigError(
      `${source} must be a label key such as io.example.managed, got "${value}".`,
    );
  }
  return value;
}

function parseOrigins(value: string, source: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean).map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `${source} entry "${origin}" is not an origin like https://panel.example.`,
      );
    }
    if (url.origin !== origin || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError(
        `${source} entry "${origin}" is not an origin like https://panel.example.`,
      );
    }
    return origin;
  });
}

function joinPath(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
