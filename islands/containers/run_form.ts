/**
 * The Run container form as data: rows, validation while typing, and the request body
 * with a map from the body's array indexes back to the form's rows (for the server's
 * `field` errors such as "ports[1]").
 */
import { type Risk, risksOf } from "../../lib/risks.ts";
import { splitCommand } from "./format.ts";
import type { InspectView } from "./types.ts";

export type Proto = "tcp" | "udp" | "sctp";
export type RestartName = "no" | "always" | "unless-stopped" | "on-failure";

export interface EnvRow {
  key: string;
  value: string;
  uid: number;
}
export interface PortRow {
  ip: string;
  host: string;
  container: string;
  proto: Proto;
  uid: number;
}
export interface VolumeRow {
  source: string;
  target: string;
  readOnly: boolean;
  uid: number;
}

/** A label or a log option. */
export interface KeyValueRow {
  key: string;
  value: string;
  uid: number;
}
export interface NetworkRow {
  name: string;
  /** Comma- or space-separated. */
  aliases: string;
  uid: number;
}
export interface CapRow {
  name: string;
  uid: number;
}
export interface DeviceRow {
  host: string;
  container: string;
  permissions: string;
  uid: number;
}
export interface HealthForm {
  test: string;
  interval: string;
  timeout: string;
  retries: string;
  startPeriod: string;
}

export interface RunForm {
  image: string;
  name: string;
  env: EnvRow[];
  ports: PortRow[];
  volumes: VolumeRow[];
  restart: RestartName;
  retries: string;
  cmd: string;
  entrypoint: string;
  workingDir: string;
  user: string;
  hostname: string;
  networks: NetworkRow[];
  labels: KeyValueRow[];
  memory: string;
  cpus: string;
  capAdd: CapRow[];
  capDrop: CapRow[];
  devices: DeviceRow[];
  privileged: boolean;
  logDriver: string;
  logOptions: KeyValueRow[];
  health: HealthForm;
}

/** The form's lists, by their key in the body (and in error keys such as "networks[2]"). */
export type ListKind =
  | "env"
  | "ports"
  | "volumes"
  | "networks"
  | "labels"
  | "cap_add"
  | "cap_drop"
  | "devices"
  | "log_options";
export const LIST_PROP = {
  env: "env",
  ports: "ports",
  volumes: "volumes",
  networks: "networks",
  labels: "labels",
  cap_add: "capAdd",
  cap_drop: "capDrop",
  devices: "devices",
  log_options: "logOptions",
} as const satisfies Record<ListKind, keyof RunForm>;

export interface RunBody {
  image: string;
  name?: string;
  env: string[];
  ports: string[];
  volumes: string[];
  restart_policy: string;
  cmd?: string[];
  entrypoint?: string[];
  working_dir?: string;
  user?: string;
  hostname?: string;
  networks?: { name: string; aliases: string[] }[];
  labels?: Record<string, string>;
  memory?: string;
  cpus?: number;
  cap_add?: string[];
  cap_drop?: string[];
  devices?: string[];
  privileged?: true;
  log_driver?: string;
  log_options?: Record<string, string>;
  healthcheck?: {
    test: string;
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  /** Sent when the form has risky settings and the user ticked the acknowledgement. */
  acknowledge_risks?: true;
}

/** The log drivers the run API accepts (lib/docker/run_spec.ts); "" is the Engine's default. */
export const LOG_DRIVERS = [
  "json-file",
  "local",
  "none",
  "syslog",
  "journald",
  "gelf",
  "fluentd",
  "awslogs",
  "splunk",
  "etwlogs",
  "gcplogs",
  "logentries",
] as const;

/** Linux capabilities by the names Docker takes (without CAP_), and ALL. */
export const CAPABILITIES = [
  "ALL",
  "AUDIT_CONTROL",
  "AUDIT_READ",
  "AUDIT_WRITE",
  "BLOCK_SUSPEND",
  "BPF",
  "CHECKPOINT_RESTORE",
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "IPC_LOCK",
  "IPC_OWNER",
  "KILL",
  "LEASE",
  "LINUX_IMMUTABLE",
  "MAC_ADMIN",
  "MAC_OVERRIDE",
  "MKNOD",
  "NET_ADMIN",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_RAW",
  "PERFMON",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYSLOG",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_CHROOT",
  "SYS_MODULE",
  "SYS_NICE",
  "SYS_PACCT",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "WAKE_ALARM",
] as const;

let nextUid = 1;
export const uid = () => nextUid++;

export function emptyForm(): RunForm {
  return {
    image: "",
    name: "",
    env: [],
    ports: [],
    volumes: [],
    restart: "no",
    retries: "",
    cmd: "",
    entrypoint: "",
    workingDir: "",
    user: "",
    hostname: "",
    networks: [],
    labels: [],
    memory: "",
    cpus: "",
    capAdd: [],
    capDrop: [],
    devices: [],
    privileged: false,
    logDriver: "",
    logOptions: [],
    health: { test: "", interval: "", timeout: "", retries: "", startPeriod: "" },
  };
}

export type AnyRow = EnvRow | PortRow | VolumeRow | NetworkRow | KeyValueRow | CapRow | DeviceRow;

/** A new empty row of a list. */
export function emptyRow(kind: ListKind): AnyRow {
  switch (kind) {
    case "ports":
      return { ip: "", host: "", container: "", proto: "tcp", uid: uid() };
    case "volumes":
      return { source: "", target: "", readOnly: false, uid: uid() };
    case "networks":
      return { name: "", aliases: "", uid: uid() };
    case "cap_add":
    case "cap_drop":
      return { name: "", uid: uid() };
    case "devices":
      return { host: "", container: "", permissions: "", uid: uid() };
    default:
      return { key: "", value: "", uid: uid() };
  }
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/;
// The server's rules (lib/docker/run_spec.ts, validate.ts, limits.ts), checked while typing.
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,254}$/;
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ALIAS = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const USER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?$/;
const HOSTNAME =
  /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const DEVICE_PATH = /^\/dev\/[a-zA-Z0-9_.\/-]+$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i;
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const MIN_MEMORY = 6 * 1024 * 1024;
const DURATION = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/;

const isEmptyEnv = (row: EnvRow) => !row.key.trim() && !row.value;
const isEmptyPort = (row: PortRow) => !row.ip.trim() && !row.host.trim() && !row.container.trim();
const isEmptyVolume = (row: VolumeRow) => !row.source.trim() && !row.target.trim();
const isEmptyPair = (row: KeyValueRow) => !row.key.trim() && !row.value;
const isEmptyNetwork = (row: NetworkRow) => !row.name.trim() && !row.aliases.trim();
const isEmptyDevice = (row: DeviceRow) =>
  !row.host.trim() && !row.container.trim() && !row.permissions.trim();
const capName = (row: CapRow) => row.name.trim().toUpperCase().replace(/^CAP_/, "");
const aliasesOf = (row: NetworkRow) => row.aliases.split(/[\s,]+/).filter(Boolean);

/** Bytes from "256m", "1g", "1.5GiB" or a number of bytes; null when it is not a size. */
export function sizeBytes(text: string): number | null {
  const match = text.trim().match(SIZE);
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]);
  return Number.isSafeInteger(bytes) && bytes <= 2 ** 50 ? bytes : null;
}

/** Bytes as the shortest exact "256m" / "1g" / "512k" (bytes when none is exact). */
export function sizeText(bytes: number): string {
  for (const [unit, size] of [["g", 1024 ** 3], ["m", 1024 ** 2], ["k", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

function durationOk(text: string): boolean {
  const match = text.match(DURATION);
  if (!match || !text) {
    return /^\d+(\.\d+)?$/.test(text) && Number(text) > 0 &&
      Number(text) <= 86400;
  }
  const seconds = Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 +
    Number(match[3] ?? 0) + Number(match[4] ?? 0) / 1000;
  return seconds >= 0.001 && seconds <= 86400;
}

function portNumber(text: string): number | null {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Which input of a row a problem is about, so that one is outlined. */
export type RowPart =
  | "key"
  | "value"
  | "ip"
  | "host"
  | "container"
  | "source"
  | "target"
  | "name"
  | "aliases"
  | "permissions";

export interface Problems {
  /**
   * Messages keyed by the body's field ("image", "memory", "healthcheck.interval", ...), a
   * list's row ("env[i]", "networks[i]", ...) or a whole list ("log_options").
   */
  errors: Record<string, string>;
  /** For row problems: the input at fault. */
  parts: Record<string, RowPart>;
}

/** What is wrong with the form (i is the form row). Rows left completely empty are ignored. */
export function validate(form: RunForm): Problems {
  const errors: Record<string, string> = {};
  const parts: Record<string, RowPart> = {};
  const fail = (key: string, message: string, part?: RowPart) => {
    errors[key] = message;
    if (part) parts[key] = part;
  };

  const image = form.image.trim();
  if (!image) fail("image", "An image is required");
  else if (/\s/.test(image)) fail("image", "An image reference has no spaces");
  else if (!/^[a-z0-9]/.test(image)) {
    fail("image", "An image reference starts with a lowercase letter or digit");
  }

  const name = form.name.trim();
  if (name.length > 128) fail("name", "At most 128 characters");
  else if (name && !NAME_PATTERN.test(name)) {
    fail(
      "name",
      name.length < 2 && /^[a-zA-Z0-9]$/.test(name)
        ? "At least 2 characters"
        : "Letters, digits, _ . - only, starting with a letter or digit",
    );
  }

  const keys = new Set<string>();
  form.env.forEach((row, i) => {
    if (isEmptyEnv(row)) return;
    const at = `env[${i}]`;
    const key = row.key.trim();
    if (!key) fail(at, "The variable needs a name", "key");
    else if (key.includes("=")) fail(at, "A name cannot contain “=”", "key");
    else if (/\s/.test(key)) fail(at, "A name cannot contain spaces", "key");
    else if (!ENV_KEY.test(key)) {
      fail(at, "Letters, digits, _ . - only, starting with a letter or _", "key");
    } else if (keys.has(key)) fail(at, `${key} is already set above`, "key");
    keys.add(key);
  });

  const published = new Set<string>();
  form.ports.forEach((row, i) => {
    if (isEmptyPort(row)) return;
    const at = `ports[${i}]`;
    const ip = row.ip.trim();
    const host = portNumber(row.host);
    const container = portNumber(row.container);
    if (ip && !IPV4.test(ip) && !IPV6.test(ip.replace(/^\[|\]$/g, ""))) {
      fail(at, "The host IP is not an IPv4 or IPv6 address", "ip");
    } else if (host === null && row.host.trim()) {
      fail(at, "The host port must be a number from 1 to 65535", "host");
    } else if (container === null) {
      fail(
        at,
        row.container.trim()
          ? "The container port must be a number from 1 to 65535"
          : "Which container port? (1-65535)",
        "container",
      );
    } else if (host !== null) {
      const key = `${ip}|${host}|${row.proto}`;
      if (published.has(key)) fail(at, `Host port ${host}/${row.proto} is used above`, "host");
      published.add(key);
    }
  });

  const targets = new Set<string>();
  form.volumes.forEach((row, i) => {
    if (isEmptyVolume(row)) return;
    const at = `volumes[${i}]`;
    const source = row.source.trim();
    const target = row.target.trim();
    if (!source) fail(at, "A volume name or an absolute host path is required", "source");
    else if (source.includes(":")) fail(at, "The source cannot contain “:”", "source");
    else if (source.startsWith("/") && source.split("/").includes("..")) {
      fail(at, "A host path cannot contain “..”", "source");
    } else if (!source.startsWith("/") && !VOLUME_NAME.test(source)) {
      fail(
        at,
        "A volume name (2+ letters, digits, _ . -) or an absolute host path (/…)",
        "source",
      );
    } else if (!target) fail(at, "The container path is required", "target");
    else if (!target.startsWith("/")) {
      fail(at, "The container path must be absolute (start with /)", "target");
    } else if (target.includes(":")) fail(at, "The container path cannot contain “:”", "target");
    else if (targets.has(target)) fail(at, `${target} is mounted above`, "target");
    targets.add(target);
  });

  if (form.restart === "on-failure" && form.retries.trim()) {
    if (!/^\d{1,4}$/.test(form.retries.trim())) {
      fail("restart_policy", "Max retries is a whole number (0 or empty: no limit)");
    }
  }

  if (form.cmd.trim()) {
    const { error } = splitCommand(form.cmd);
    if (error) fail("cmd", error);
  }
  validateProcess(form, fail);
  validateNetworks(form, fail);
  validateResources(form, fail);
  validateSecurity(form, fail);
  validateLogging(form, fail);
  validateHealth(form, fail);
  validatePairs(form.labels, "labels", "label", fail);
  return { errors, parts };
}

type Fail = (key: string, message: string, part?: RowPart) => void;

function validateProcess(form: RunForm, fail: Fail) {
  if (form.entrypoint.trim()) {
    const { error } = splitCommand(form.entrypoint);
    if (error) fail("entrypoint", error);
  }
  const dir = form.workingDir.trim();
  if (dir && (!dir.startsWith("/") || dir.length > 255)) {
    fail("working_dir", "An absolute path inside the container, like /srv/app");
  }
  const user = form.user.trim();
  if (user && (user.length > 255 || !USER.test(user))) {
    fail("user", "A user name or uid, optionally :group (nobody, 1000:1000)");
  }
}

function validateNetworks(form: RunForm, fail: Fail) {
  const hostname = form.hostname.trim();
  if (hostname && (hostname.length > 255 || !HOSTNAME.test(hostname))) {
    fail("hostname", "Letters, digits and - in dot-separated parts of at most 63 (web-1)");
  }
  const seen = new Set<string>();
  form.networks.forEach((row, i) => {
    if (isEmptyNetwork(row)) return;
    const at = `networks[${i}]`;
    const name = row.name.trim();
    const bad = aliasesOf(row).find((alias) => !ALIAS.test(alias));
    if (!name) fail(at, "Pick a network", "name");
    else if (!NETWORK_NAME.test(name)) fail(at, "Not a network name", "name");
    else if (name === "host" || name === "none") {
      fail(at, `The ${name} network cannot be joined with others`, "name");
    } else if (seen.has(name)) fail(at, `${name} is listed above`, "name");
    else if (bad) {
      fail(at, `“${bad}” is not an alias: letters, digits, _ . - (at most 63)`, "aliases");
    } else if (name === "bridge" && aliasesOf(row).length) {
      fail(at, "The default bridge network has no aliases: use a network you created", "aliases");
    }
    seen.add(name);
  });
}

function validateResources(form: RunForm, fail: Fail) {
  const memory = form.memory.trim();
  if (memory) {
    const bytes = sizeBytes(memory);
    if (bytes === null) fail("memory", "A size like 256m or 1g");
    else if (bytes < MIN_MEMORY) fail("memory", "At least 6m (the Engine's minimum)");
  }
  const cpus = form.cpus.trim();
  if (cpus && (!/^\d+(\.\d+)?$/.test(cpus) || Number(cpus) < 0.01 || Number(cpus) > 1024)) {
    fail("cpus", "A number of CPUs from 0.01 to 1024, like 0.5 or 2");
  }
}

function validateSecurity(form: RunForm, fail: Fail) {
  const added = new Set<string>();
  for (const kind of ["cap_add", "cap_drop"] as const) {
    const seen = new Set<string>();
    form[LIST_PROP[kind]].forEach((row, i) => {
      const name = capName(row);
      if (!name) return;
      const at = `${kind}[${i}]`;
      if (!(CAPABILITIES as readonly string[]).includes(name)) {
        fail(at, `${name.slice(0, 40)} is not a Linux capability`, "name");
      } else if (seen.has(name)) fail(at, `${name} is listed above`, "name");
      else if (kind === "cap_drop" && added.has(name)) {
        fail(at, `${name} is also added: keep it in one list`, "name");
      }
      seen.add(name);
      if (kind === "cap_add") added.add(name);
    });
  }
  form.devices.forEach((row, i) => {
    if (isEmptyDevice(row)) return;
    const at = `devices[${i}]`;
    const host = row.host.trim();
    const inside = row.container.trim();
    const safe = (path: string) => DEVICE_PATH.test(path) && !path.split("/").includes("..");
    if (!safe(host)) fail(at, "A device path on the host, like /dev/fuse", "host");
    else if (inside && !safe(inside)) {
      fail(at, "A device path in the container, like /dev/fuse (empty: the same)", "container");
    } else if (row.permissions.trim() && !/^[rwm]{1,3}$/.test(row.permissions.trim())) {
      fail(at, "Permissions are r, w and m (empty: rwm)", "permissions");
    }
  });
}

function validateLogging(form: RunForm, fail: Fail) {
  if (form.logDriver && !(LOG_DRIVERS as readonly string[]).includes(form.logDriver)) {
    fail("log_driver", "Pick a log driver from the list");
  }
  validatePairs(form.logOptions, "log_options", "option", fail);
  if (!form.logDriver && form.logOptions.some((row) => !isEmptyPair(row))) {
    fail("log_options", "Options need a log driver: pick one above");
  }
}

function validateHealth(form: RunForm, fail: Fail) {
  const health = form.health;
  const rest = [health.interval, health.timeout, health.retries, health.startPeriod];
  if (!health.test.trim()) {
    if (rest.some((text) => text.trim())) {
      fail("healthcheck.test", "A healthcheck needs a command");
    }
    return;
  }
  const durations = [
    ["healthcheck.interval", health.interval],
    ["healthcheck.timeout", health.timeout],
    ["healthcheck.start_period", health.startPeriod],
  ] as const;
  for (const [key, text] of durations) {
    if (text.trim() && !durationOk(text.trim())) fail(key, "A duration like 30s, 1m30s or 500ms");
  }
  const retries = health.retries.trim();
  if (retries && (!/^\d{1,3}$/.test(retries) || Number(retries) < 1 || Number(retries) > 100)) {
    fail("healthcheck.retries", "A whole number from 1 to 100");
  }
}

function validatePairs(rows: KeyValueRow[], kind: string, what: string, fail: Fail) {
  const keys = new Set<string>();
  rows.forEach((row, i) => {
    if (isEmptyPair(row)) return;
    const at = `${kind}[${i}]`;
    const key = row.key.trim();
    if (!key) fail(at, `The ${what} needs a key`, "key");
    else if (!LABEL_KEY.test(key)) {
      fail(at, "Letters, digits, . _ / - only, starting with a letter or digit", "key");
    } else if (keys.has(key)) fail(at, `${key} is set above`, "key");
    else if (row.value.length > 4096) fail(at, "At most 4096 characters", "value");
    keys.add(key);
  });
}

/** For each list sent, which form row each entry of the body came from. */
export type RowMap = Record<ListKind, number[]>;

/** The request body, and for each array which form row each entry came from. */
export function toBody(form: RunForm): { body: RunBody; rows: RowMap } {
  const rows: RowMap = {
    env: [],
    ports: [],
    volumes: [],
    networks: [],
    labels: [],
    cap_add: [],
    cap_drop: [],
    devices: [],
    log_options: [],
  };
  const env: string[] = [];
  form.env.forEach((row, i) => {
    if (isEmptyEnv(row)) return;
    env.push(`${row.key.trim()}=${row.value}`);
    rows.env.push(i);
  });
  const ports: string[] = [];
  form.ports.forEach((row, i) => {
    if (isEmptyPort(row)) return;
    let ip = row.ip.trim();
    if (ip.includes(":") && !ip.startsWith("[")) ip = `[${ip}]`;
    // "8080:80", "127.0.0.1:8080:80/udp"; no host port: "80" (Docker picks one).
    const host = row.host.trim();
    const binding = ip ? `${ip}:${host}:` : host ? `${host}:` : "";
    ports.push(`${binding}${row.container.trim()}${row.proto === "tcp" ? "" : `/${row.proto}`}`);
    rows.ports.push(i);
  });
  const volumes: string[] = [];
  form.volumes.forEach((row, i) => {
    if (isEmptyVolume(row)) return;
    volumes.push(`${row.source.trim()}:${row.target.trim()}${row.readOnly ? ":ro" : ""}`);
    rows.volumes.push(i);
  });
  const retries = form.retries.trim();
  const restart_policy = form.restart === "on-failure" && retries && Number(retries) > 0
    ? `on-failure:${Number(retries)}`
    : form.restart;
  const body: RunBody = { image: form.image.trim(), env, ports, volumes, restart_policy };
  if (form.name.trim()) body.name = form.name.trim();
  if (form.cmd.trim()) body.cmd = splitCommand(form.cmd).args;
  if (form.entrypoint.trim()) body.entrypoint = splitCommand(form.entrypoint).args;
  if (form.workingDir.trim()) body.working_dir = form.workingDir.trim();
  if (form.user.trim()) body.user = form.user.trim();
  if (form.hostname.trim()) body.hostname = form.hostname.trim();

  const networks = form.networks.flatMap((row, i) => {
    if (isEmptyNetwork(row)) return [];
    rows.networks.push(i);
    return [{ name: row.name.trim(), aliases: aliasesOf(row) }];
  });
  if (networks.length) body.networks = networks;
  const labels = pairs(form.labels, rows.labels);
  if (labels) body.labels = labels;

  if (form.memory.trim()) body.memory = form.memory.trim();
  if (form.cpus.trim()) body.cpus = Number(form.cpus.trim());

  for (const kind of ["cap_add", "cap_drop"] as const) {
    const names = form[LIST_PROP[kind]].flatMap((row, i) => {
      if (!capName(row)) return [];
      rows[kind].push(i);
      return [capName(row)];
    });
    if (names.length) body[kind] = names;
  }
  const devices = form.devices.flatMap((row, i) => {
    if (isEmptyDevice(row)) return [];
    rows.devices.push(i);
    const host = row.host.trim();
    const inside = row.container.trim() || host;
    const permissions = row.permissions.trim();
    return [`${host}:${inside}${permissions && permissions !== "rwm" ? `:${permissions}` : ""}`];
  });
  if (devices.length) body.devices = devices;
  if (form.privileged) body.privileged = true;

  if (form.logDriver) {
    body.log_driver = form.logDriver;
    const options = pairs(form.logOptions, rows.log_options);
    if (options) body.log_options = options;
  }

  const health = form.health;
  if (health.test.trim()) {
    body.healthcheck = { test: health.test.trim() };
    if (health.interval.trim()) body.healthcheck.interval = health.interval.trim();
    if (health.timeout.trim()) body.healthcheck.timeout = health.timeout.trim();
    if (health.retries.trim()) body.healthcheck.retries = Number(health.retries.trim());
    if (health.startPeriod.trim()) body.healthcheck.start_period = health.startPeriod.trim();
  }
  return { body, rows };
}

function pairs(list: KeyValueRow[], rows: number[]): Record<string, string> | null {
  const entries = list.flatMap((row, i) => {
    if (isEmptyPair(row)) return [];
    rows.push(i);
    return [[row.key.trim(), row.value] as const];
  });
  return entries.length ? Object.fromEntries(entries) : null;
}

/**
 * The form's escape-shaped settings, by the rules the server applies (lib/risks.ts); a
 * volume risk's `index` is its row in the form.
 */
export function formRisks(form: RunForm): Risk[] {
  return risksOf({
    binds: form.volumes.map((row) => row.source.trim()),
    capAdd: form.capAdd.map(capName),
    privileged: form.privileged,
    devices: form.devices.map((row) => row.host.trim()).filter(Boolean),
  });
}

/** Fields the form shows one input (or one list) for, under the body's own name. */
const FIELDS = new Set([
  "image",
  "name",
  "restart_policy",
  "cmd",
  "entrypoint",
  "working_dir",
  "user",
  "hostname",
  "memory",
  "cpus",
  "privileged",
  "log_driver",
  "log_options",
  "labels",
  "env",
  "ports",
  "volumes",
  "networks",
  "cap_add",
  "cap_drop",
  "devices",
  "healthcheck.test",
  "healthcheck.interval",
  "healthcheck.timeout",
  "healthcheck.retries",
  "healthcheck.start_period",
]);

/**
 * Turns the server's field ("ports[1]", "networks[0].aliases") into the form's key
 * ("ports[3]", "networks[2]") and the input at fault, or null when the form has no such field.
 */
export function formField(
  field: string | undefined,
  rows: RowMap,
): { key: string; part?: RowPart } | null {
  if (!field) return null;
  const match = /^([a-z_]+)\[(\d+)\](\.aliases)?/.exec(field);
  if (match && match[1] in rows) {
    const row = rows[match[1] as ListKind][Number(match[2])];
    if (row === undefined) return null;
    return { key: `${match[1]}[${row}]`, part: match[3] ? "aliases" : undefined };
  }
  if (field === "healthcheck" || /^healthcheck\.[a-z_]+$/.test(field) && !FIELDS.has(field)) {
    return { key: "healthcheck.test" };
  }
  return FIELDS.has(field) ? { key: field } : null;
}

/** The form's collapsible sections and the keys of the fields in each. */
export type SectionId =
  | "process"
  | "network"
  | "resources"
  | "security"
  | "logging"
  | "health"
  | "labels";

export function sectionOf(key: string): SectionId | null {
  const base = key.split(/[.\[]/)[0];
  switch (base) {
    case "entrypoint":
    case "working_dir":
    case "user":
      return "process";
    case "networks":
    case "hostname":
      return "network";
    case "memory":
    case "cpus":
      return "resources";
    case "privileged":
    case "cap_add":
    case "cap_drop":
    case "devices":
      return "security";
    case "log_driver":
    case "log_options":
      return "logging";
    case "healthcheck":
      return "health";
    case "labels":
      return "labels";
    default:
      return null;
  }
}

/** One line per section saying what is set in it (empty: nothing), shown while it is closed. */
export function sectionSummaries(form: RunForm): Record<SectionId, string> {
  const count = (n: number, one: string, many = `${one}s`) =>
    n ? `${n} ${n === 1 ? one : many}` : "";
  const join = (...parts: string[]) => parts.filter(Boolean).join(" · ");
  const networks = form.networks.filter((row) => !isEmptyNetwork(row));
  const caps = (rows: CapRow[], sign: string) =>
    rows.map(capName).filter(Boolean).map((name) => `${sign}${name}`).join(" ");
  const health = form.health;
  return {
    process: join(
      form.entrypoint.trim() && `entrypoint ${form.entrypoint.trim()}`,
      form.workingDir.trim() && `in ${form.workingDir.trim()}`,
      form.user.trim() && `as ${form.user.trim()}`,
    ),
    network: join(
      networks.map((row) => row.name.trim() || "?").join(", "),
      form.hostname.trim() && `host name ${form.hostname.trim()}`,
    ),
    resources: join(
      form.memory.trim() && `memory ${form.memory.trim()}`,
      form.cpus.trim() && `${form.cpus.trim()} CPUs`,
    ),
    security: join(
      form.privileged ? "privileged" : "",
      caps(form.capAdd, "+"),
      caps(form.capDrop, "−"),
      count(form.devices.filter((row) => !isEmptyDevice(row)).length, "device"),
    ),
    logging: join(
      form.logDriver,
      count(form.logOptions.filter((row) => !isEmptyPair(row)).length, "option"),
    ),
    health: health.test.trim()
      ? join(health.test.trim(), health.interval.trim() && `every ${health.interval.trim()}`)
      : "",
    labels: count(form.labels.filter((row) => !isEmptyPair(row)).length, "label"),
  };
}

/**
 * The server's message for a field, as shown on that field: without the body's own field
 * prefix ("networks[1]: there is no network" → "There is no network"), whose index is the
 * body's, not the form's.
 */
export function fieldMessage(message: string): string {
  const text = message.replace(/^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)?: /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "A=1\nB=2" pasted into a key field: the rows it describes, or null for plain text. */
export function parseEnvLines(text: string): { key: string; value: string }[] | null {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean)
    .filter((line) => !line.startsWith("#"));
  if (lines.length === 0 || !lines.every((line) => /^[^=\s]+=/.test(line))) return null;
  return lines.map((line) => {
    const at = line.indexOf("=");
    return { key: line.slice(0, at), value: line.slice(at + 1) };
  });
}

const quote = (word: string) =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;

/** Duplicate / edit: the Run form filled from a container's inspect view. */
export function formFromInspect(view: InspectView): RunForm {
  const policy = view.restart_policy;
  const shortId = view.id.slice(0, 12);
  const pairRows = (map: Record<string, string>) =>
    Object.entries(map).map(([key, value]) => ({ key, value, uid: uid() }));
  const capRows = (names: string[]) => names.map((name) => ({ name, uid: uid() }));
  const health = view.healthcheck;
  const test = health?.test ?? [];
  const seconds = (value: number | null) => value ? `${value}s` : "";
  return {
    image: view.image,
    name: `${view.name}-copy`.slice(0, 128),
    env: view.env.map((entry) => ({ key: entry.key, value: entry.value ?? "", uid: uid() })),
    ports: view.ports.filter((port) => port.host_port !== null).map((port) => ({
      ip: port.host_ip && port.host_ip !== "0.0.0.0" && port.host_ip !== "::" ? port.host_ip : "",
      // The copy would collide with the original's host port: leave it for the Engine to pick.
      host: "",
      container: String(port.container_port),
      proto: port.proto,
      uid: uid(),
    })).filter((row, i, rows) =>
      rows.findIndex((other) => other.container === row.container && other.proto === row.proto) ===
        i
    ),
    volumes: view.mounts.filter((mount) => mount.type === "volume" || mount.type === "bind").map((
      mount,
    ) => ({
      source: mount.type === "volume" ? mount.name ?? "" : mount.source,
      target: mount.destination,
      readOnly: mount.read_only,
      uid: uid(),
    })),
    restart: (policy.name || "no") as RestartName,
    retries: policy.name === "on-failure" && policy.max_retries ? String(policy.max_retries) : "",
    cmd: (view.cmd ?? []).map(quote).join(" "),
    entrypoint: (view.entrypoint ?? []).map(quote).join(" "),
    workingDir: view.working_dir,
    user: view.user,
    // The Engine names a container's host after its short id: the copy gets its own.
    hostname: view.hostname === shortId ? "" : view.hostname,
    networks: networksFromInspect(view),
    // Compose's labels would make the copy part of the original's project, and the managed
    // label would say another system owns it: the copy is the panel's own.
    labels: pairRows(
      Object.fromEntries(
        Object.entries(view.labels).filter(([key]) =>
          !key.startsWith("com.docker.compose.") && key !== view.managed_label
        ),
      ),
    ),
    memory: view.limits.memory ? sizeText(view.limits.memory) : "",
    cpus: view.limits.cpus ? String(view.limits.cpus) : "",
    capAdd: capRows(view.cap_add),
    capDrop: capRows(view.cap_drop),
    devices: view.devices.map((text) => {
      const [host = "", inside = "", permissions = ""] = text.split(":");
      return {
        host,
        container: inside === host ? "" : inside,
        permissions: permissions === "rwm" ? "" : permissions,
        uid: uid(),
      };
    }),
    privileged: view.privileged,
    logDriver: (LOG_DRIVERS as readonly string[]).includes(view.log.driver) ? view.log.driver : "",
    logOptions: pairRows(view.log.options),
    health: test.length && test[0] !== "NONE"
      ? {
        test: test[0] === "CMD-SHELL"
          ? test.slice(1).join(" ")
          : test.slice(1).map(quote).join(" "),
        interval: seconds(health!.interval_s),
        timeout: seconds(health!.timeout_s),
        retries: health!.retries ? String(health!.retries) : "",
        startPeriod: seconds(health!.start_period_s),
      }
      : { test: "", interval: "", timeout: "", retries: "", startPeriod: "" },
  };
}

/**
 * The networks a container is on, its primary (network mode) first, without the alias the
 * Engine adds itself. Only the default bridge: none (the copy gets it anyway).
 */
function networksFromInspect(view: InspectView): NetworkRow[] {
  const mode = view.network_mode === "default" ? "bridge" : view.network_mode;
  if (mode === "host" || mode === "none" || mode.startsWith("container:")) return [];
  const shortId = view.id.slice(0, 12);
  const networks = [...view.networks].sort((a, b) =>
    Number(b.name === mode) - Number(a.name === mode)
  );
  if (networks.length === 1 && networks[0].name === "bridge") return [];
  return networks.map((network) => ({
    name: network.name,
    // The Engine adds the container's host name (its short id unless set) by itself.
    aliases: network.aliases.filter((alias) =>
      alias !== shortId && alias !== view.id && alias !== view.hostname
    ).join(", "),
    uid: uid(),
  }));
}
