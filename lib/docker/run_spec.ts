/**
 * Validates the body of `POST /api/containers/run` and turns it into an Engine create
 * body. Every problem is a ValidationError naming the field (`ports[1]`, `env.KEY`, ...).
 */
import { ValidationError } from "../errors.ts";
import { ShellwordsError, splitShellwords } from "../shellwords.ts";
import type { ContainerCreateBody } from "./types.ts";
import { checkProcessSettings, imageRef, stringMap } from "./validate.ts";
import { parseCpus, parseMemory } from "./limits.ts";

export interface RunSpec {
  image: string;
  name?: string;
  env: string[];
  ports: PortSpec[];
  binds: string[];
  restart: { Name: string; MaximumRetryCount?: number };
  cmd?: string[];
  entrypoint?: string[];
  networks: { name: string; aliases: string[] }[];
  labels: Record<string, string>;
  workingDir?: string;
  user?: string;
  hostname?: string;
  memory: number | null;
  nanoCpus: number | null;
  capAdd: string[];
  capDrop: string[];
  devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  privileged: boolean;
  log?: { Type: string; Config: Record<string, string> };
  healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    Retries?: number;
    StartPeriod?: number;
  };
}

export interface PortSpec {
  hostIp: string;
  hostPort: string;
  containerPort: number;
  proto: "tcp" | "udp" | "sctp";
}

const ALLOWED_KEYS = new Set([
  "image",
  "name",
  "env",
  "ports",
  "volumes",
  "restart_policy",
  "cmd",
  "entrypoint",
  "networks",
  "labels",
  "working_dir",
  "user",
  "hostname",
  "memory",
  "cpus",
  "cap_add",
  "cap_drop",
  "devices",
  "privileged",
  "log_driver",
  "log_options",
  "healthcheck",
  // Read by the handler: the caller has seen the risk flags (lib/risks.ts) and runs anyway.
  "acknowledge_risks",
]);
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9a-fA-F:]+$/;

export function parseRunSpec(body: Record<string, unknown>): RunSpec {
  for (const key of Object.keys(body)) {
    if (!ALLOWED_KEYS.has(key)) throw new ValidationError(`Unknown field "${key}"`, key);
  }
  let image: string;
  try {
    if (typeof body.image !== "string" || body.image === "") {
      throw new ValidationError("image is required", "image");
    }
    image = imageRef(body.image);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.message, "image");
    throw error;
  }
  let name: string | undefined;
  if (body.name !== undefined && body.name !== null && body.name !== "") {
    if (typeof body.name !== "string" || !NAME_RE.test(body.name)) {
      throw new ValidationError(
        "name must be 2 to 128 letters, digits, or _ . - and start with a letter or digit",
        "name",
      );
    }
    name = body.name;
  }
  if (body.acknowledge_risks !== undefined && typeof body.acknowledge_risks !== "boolean") {
    throw new ValidationError("acknowledge_risks must be true or false", "acknowledge_risks");
  }
  const spec: RunSpec = {
    image,
    name,
    env: parseEnv(body.env),
    ports: asList(body.ports, "ports").map((entry, i) => parsePort(entry, `ports[${i}]`)),
    binds: asList(body.volumes, "volumes").map((entry, i) => parseVolume(entry, `volumes[${i}]`)),
    restart: parseRestart(body.restart_policy),
    cmd: parseCmd(body.cmd),
    entrypoint: parseCmd(body.entrypoint, "entrypoint"),
    networks: parseNetworks(body.networks),
    labels: body.labels === undefined || body.labels === null
      ? {}
      : stringMap(body.labels, "labels"),
    workingDir: optionalText(body.working_dir, "working_dir", /^\/[^\0\n]*$/, "an absolute path"),
    user: optionalText(
      body.user,
      "user",
      /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?$/,
      "a user name or uid, optionally :group",
    ),
    hostname: optionalText(
      body.hostname,
      "hostname",
      /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
      "a host name (letters, digits, - and .)",
    ),
    memory: parseMemory(body.memory, "memory"),
    nanoCpus: parseCpus(body.cpus, "cpus"),
    capAdd: parseCaps(body.cap_add, "cap_add"),
    capDrop: parseCaps(body.cap_drop, "cap_drop"),
    devices: asList(body.devices, "devices").map((entry, i) => parseDevice(entry, `devices[${i}]`)),
    privileged: parseFlag(body.privileged, "privileged"),
    log: parseLog(body.log_driver, body.log_options),
    healthcheck: parseHealthcheck(body.healthcheck),
  };
  checkProcessSettings({
    command: spec.cmd,
    entrypoint: spec.entrypoint,
    env: spec.env,
    labels: spec.labels,
    healthcheck: spec.healthcheck?.Test,
  });
  return spec;
}

function optionalText(
  value: unknown,
  field: string,
  pattern: RegExp,
  what: string,
): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || value.length > 255 || !pattern.test(value)) {
    throw new ValidationError(`${field} must be ${what}`, field);
  }
  return value;
}

function parseFlag(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") {
    throw new ValidationError(`${field} must be true or false`, field);
  }
  return value;
}

const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ALIAS_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** ["front", {name: "back", aliases: ["api"]}] → the networks to join, each once. */
function parseNetworks(value: unknown): RunSpec["networks"] {
  const seen = new Set<string>();
  return asList(value, "networks").map((entry, i) => {
    const field = `networks[${i}]`;
    const object = typeof entry === "string" ? { name: entry } : entry;
    if (!object || typeof object !== "object" || Array.isArray(object)) {
      throw new ValidationError(`${field} must be a network name or {name, aliases}`, field);
    }
    const { name, aliases, ...rest } = object as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra) throw new ValidationError(`${field}: unknown field "${extra.slice(0, 40)}"`, field);
    if (typeof name !== "string" || !NETWORK_NAME_RE.test(name)) {
      throw new ValidationError(
        `${field}: "${String(name).slice(0, 40)}" is not a network name`,
        field,
      );
    }
    if (name === "host" || name === "none") {
      throw new ValidationError(`${field}: ${name} cannot be joined here`, field);
    }
    if (seen.has(name)) throw new ValidationError(`${field}: ${name} is listed twice`, field);
    seen.add(name);
    const list = asList(aliases, `${field}.aliases`).map((alias, j) => {
      if (typeof alias !== "string" || !ALIAS_RE.test(alias)) {
        throw new ValidationError(
          `${field}.aliases[${j}]: "${String(alias).slice(0, 40)}" is not a valid alias`,
          `${field}.aliases`,
        );
      }
      return alias;
    });
    return { name, aliases: list };
  });
}

const CAP_RE = /^(CAP_)?[A-Z_]{2,32}$/;

function parseCaps(value: unknown, field: string): string[] {
  return asList(value, field).map((cap, i) => {
    const text = typeof cap === "string" ? cap.toUpperCase() : "";
    if (!CAP_RE.test(text)) {
      throw new ValidationError(
        `${field}[${i}]: "${String(cap).slice(0, 40)}" is not a capability name`,
        field,
      );
    }
    return text.replace(/^CAP_/, "");
  });
}

/** "/dev/fuse", "/dev/sda:/dev/xvda", "/dev/sda:/dev/xvda:r". */
function parseDevice(entry: unknown, field: string): RunSpec["devices"][number] {
  const parts = typeof entry === "string" ? entry.split(":") : [];
  const [host, inside = host, permissions = "rwm"] = parts;
  const path = /^\/dev\/[a-zA-Z0-9_.\/-]+$/;
  if (
    parts.length < 1 || parts.length > 3 || !path.test(host ?? "") || !path.test(inside) ||
    host.split("/").includes("..") || inside.split("/").includes("..") ||
    !/^[rwm]{1,3}$/.test(permissions)
  ) {
    throw new ValidationError(
      `${field} must look like /dev/HOST[:/dev/CONTAINER[:rwm]]`,
      field,
    );
  }
  return { PathOnHost: host, PathInContainer: inside, CgroupPermissions: permissions };
}

const LOG_DRIVERS = new Set([
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
]);

function parseLog(driver: unknown, options: unknown): RunSpec["log"] {
  if (driver === undefined || driver === null || driver === "") {
    if (options !== undefined && options !== null && Object.keys(options).length) {
      throw new ValidationError("log_options needs a log_driver", "log_options");
    }
    return undefined;
  }
  if (typeof driver !== "string" || !LOG_DRIVERS.has(driver)) {
    throw new ValidationError(
      `log_driver must be one of ${[...LOG_DRIVERS].join(", ")}`,
      "log_driver",
    );
  }
  const config = options === undefined || options === null ? {} : stringMap(options, "log_options");
  return { Type: driver, Config: config };
}

/** "30s", "1m30s", "500ms", or a number of seconds → nanoseconds. */
function parseDurationNs(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number" && value > 0 && value <= 86400) return Math.round(value * 1e9);
  if (typeof value === "string") {
    const match = value.match(/^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/);
    if (match && value) {
      const seconds = Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 +
        Number(match[3] ?? 0) + Number(match[4] ?? 0) / 1000;
      if (seconds >= 0.001 && seconds <= 86400) return Math.round(seconds * 1e9);
    }
  }
  throw new ValidationError(`${field} must be a duration like 30s or 1m30s`, field);
}

function parseHealthcheck(value: unknown): RunSpec["healthcheck"] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(
      "healthcheck must be {test, interval?, timeout?, retries?, start_period?}",
      "healthcheck",
    );
  }
  const check = value as Record<string, unknown>;
  for (const key of Object.keys(check)) {
    if (!["test", "interval", "timeout", "retries", "start_period"].includes(key)) {
      throw new ValidationError(
        `healthcheck: unknown field "${key.slice(0, 40)}"`,
        `healthcheck.${key.slice(0, 40)}`,
      );
    }
  }
  let test: string[];
  if (typeof check.test === "string" && check.test.trim()) test = ["CMD-SHELL", check.test];
  else if (
    Array.isArray(check.test) && check.test.length > 0 &&
    check.test.every((word) => typeof word === "string")
  ) {
    test = check.test[0] === "CMD" || check.test[0] === "CMD-SHELL" || check.test[0] === "NONE"
      ? check.test
      : ["CMD", ...check.test];
  } else {
    throw new ValidationError(
      "healthcheck.test must be a shell command or a list of words",
      "healthcheck.test",
    );
  }
  let retries: number | undefined;
  if (check.retries !== undefined && check.retries !== null && check.retries !== "") {
    retries = Number(check.retries);
    if (!Number.isInteger(retries) || retries < 1 || retries > 100) {
      throw new ValidationError(
        "healthcheck.retries must be a whole number from 1 to 100",
        "healthcheck.retries",
      );
    }
  }
  return {
    Test: test,
    Interval: parseDurationNs(check.interval, "healthcheck.interval"),
    Timeout: parseDurationNs(check.timeout, "healthcheck.timeout"),
    Retries: retries,
    StartPeriod: parseDurationNs(check.start_period, "healthcheck.start_period"),
  };
}

function asList(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError(`${field} must be a list`, field);
  return value;
}

function parseEnv(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value.map((entry, i) => {
      const field = `env[${i}]`;
      if (typeof entry !== "string") {
        throw new ValidationError(`${field} must be a "KEY=VALUE" string`, field);
      }
      const eq = entry.indexOf("=");
      if (eq < 0) {
        throw new ValidationError(`${field} must look like KEY=VALUE (it has no "=")`, field);
      }
      checkEnvKey(entry.slice(0, eq), field);
      return entry;
    });
  }
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).map(([key, raw]) => {
      const field = `env.${key}`;
      checkEnvKey(key, field);
      if (raw !== null && !["string", "number", "boolean"].includes(typeof raw)) {
        throw new ValidationError(`${field} must be a string, number or boolean`, field);
      }
      return `${key}=${raw ?? ""}`;
    });
  }
  throw new ValidationError("env must be a list of KEY=VALUE or a map", "env");
}

function checkEnvKey(key: string, field: string) {
  if (!ENV_KEY_RE.test(key)) {
    throw new ValidationError(
      `${field}: "${key.slice(0, 40)}" is not a valid variable name`,
      field,
    );
  }
}

function portNumber(text: string | number, field: string, what: string): number {
  const port = typeof text === "number" ? text : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError(
      `${field}: ${what} must be a number from 1 to 65535, got "${text}"`,
      field,
    );
  }
  return port;
}

function parseProto(value: unknown, field: string): PortSpec["proto"] {
  const proto = value ?? "tcp";
  if (proto !== "tcp" && proto !== "udp" && proto !== "sctp") {
    throw new ValidationError(`${field}: protocol must be tcp, udp or sctp, got "${proto}"`, field);
  }
  return proto;
}

function parseHostIp(value: string, field: string): string {
  const ip = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (ip === "" || IPV4_RE.test(ip) || (ip.includes(":") && IPV6_RE.test(ip))) return ip;
  throw new ValidationError(`${field}: "${value}" is not an IP address`, field);
}

/** "80", "8080:80", "127.0.0.1:8080:80/udp", "[::1]:8080:80", or the object form. */
export function parsePort(entry: unknown, field: string): PortSpec {
  if (entry && typeof entry === "object" && !Array.isArray(entry)) {
    const object = entry as Record<string, unknown>;
    const hostPort = object.host_port;
    return {
      hostIp: object.host_ip ? parseHostIp(String(object.host_ip), field) : "",
      hostPort: hostPort === undefined || hostPort === null || hostPort === ""
        ? ""
        : String(portNumber(hostPort as string | number, field, "host_port")),
      containerPort: portNumber(object.container_port as string | number, field, "container_port"),
      proto: parseProto(object.proto, field),
    };
  }
  if (typeof entry !== "string") {
    throw new ValidationError(`${field} must be a string like "8080:80"`, field);
  }
  const [address, protoText, extra] = entry.split("/");
  if (extra !== undefined) {
    throw new ValidationError(`${field}: "${entry}" has more than one "/"`, field);
  }
  const proto = parseProto(protoText, field);
  let hostIp = "";
  let rest = address;
  const bracketed = address.match(/^\[([^\]]+)\]:(.*)$/);
  if (bracketed) {
    hostIp = parseHostIp(bracketed[1], field);
    rest = bracketed[2];
  }
  const parts = rest.split(":");
  if (!bracketed && parts.length === 3) hostIp = parseHostIp(parts.shift()!, field);
  if (
    parts.length > 2 || parts.some((part, i) => part === "" && !(i === 0 && parts.length === 2))
  ) {
    throw new ValidationError(
      `${field}: "${entry}" must look like [IP:]HOST:CONTAINER[/proto] or CONTAINER`,
      field,
    );
  }
  const containerPort = portNumber(parts.at(-1)!, field, "the container port");
  const hostPort = parts.length === 2 && parts[0] !== ""
    ? String(portNumber(parts[0], field, "the host port"))
    : "";
  return { hostIp, hostPort, containerPort, proto };
}

/** "name:/path[:ro]", "/host:/path[:ro]", or {type?, source, target, read_only?}. Returns a Binds entry. */
export function parseVolume(entry: unknown, field: string): string {
  let source: string;
  let target: string;
  let readOnly = false;
  if (entry && typeof entry === "object" && !Array.isArray(entry)) {
    const object = entry as Record<string, unknown>;
    if (typeof object.source !== "string" || typeof object.target !== "string") {
      throw new ValidationError(`${field} needs a source and a target`, field);
    }
    source = object.source;
    target = object.target;
    readOnly = object.read_only === true;
    if (object.type !== undefined && object.type !== "volume" && object.type !== "bind") {
      throw new ValidationError(`${field}: type must be "volume" or "bind"`, field);
    }
    if (object.type === "bind" && !source.startsWith("/")) {
      throw new ValidationError(`${field}: a bind source must be an absolute path`, field);
    }
    if (object.type === "volume" && source.startsWith("/")) {
      throw new ValidationError(`${field}: a volume source must be a volume name`, field);
    }
  } else if (typeof entry === "string") {
    const parts = entry.split(":");
    if (parts.length < 2 || parts.length > 3) {
      throw new ValidationError(
        `${field}: "${entry}" must look like SOURCE:/container/path[:ro]`,
        field,
      );
    }
    [source, target] = parts;
    if (parts.length === 3) {
      if (parts[2] !== "ro" && parts[2] !== "rw") {
        throw new ValidationError(`${field}: the mode must be ro or rw`, field);
      }
      readOnly = parts[2] === "ro";
    }
  } else {
    throw new ValidationError(`${field} must be a string like "data:/var/lib/data"`, field);
  }
  if (source.startsWith("/")) {
    if (source.split("/").includes("..") || /[\0\n:]/.test(source)) {
      throw new ValidationError(`${field}: the host path "${source}" is not allowed`, field);
    }
  } else if (!VOLUME_NAME_RE.test(source)) {
    throw new ValidationError(
      `${field}: "${source}" is neither an absolute host path nor a volume name (letters, digits, _ . -)`,
      field,
    );
  }
  if (!target.startsWith("/") || target.split("/").includes("..") || /[\0\n:]/.test(target)) {
    throw new ValidationError(
      `${field}: the container path must be absolute, got "${target}"`,
      field,
    );
  }
  return `${source}:${target}${readOnly ? ":ro" : ""}`;
}

export function parseRestart(value: unknown): RunSpec["restart"] {
  if (value === undefined || value === null || value === "" || value === "no") {
    return { Name: "no" };
  }
  if (value === "always" || value === "unless-stopped") return { Name: value };
  if (typeof value === "string") {
    const match = value.match(/^on-failure(?::(\d{1,4}))?$/);
    if (match) return { Name: "on-failure", MaximumRetryCount: match[1] ? Number(match[1]) : 0 };
  }
  throw new ValidationError(
    `restart_policy must be no, always, unless-stopped or on-failure[:N], got "${
      String(value).slice(0, 40)
    }"`,
    "restart_policy",
  );
}

function parseCmd(value: unknown, field = "cmd"): string[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") {
    try {
      const words = splitShellwords(value);
      return words.length ? words : undefined;
    } catch (error) {
      if (error instanceof ShellwordsError) {
        throw new ValidationError(`${field}: ${error.message}`, field);
      }
      throw error;
    }
  }
  if (Array.isArray(value) && value.every((word) => typeof word === "string")) {
    return value.length ? value : undefined;
  }
  throw new ValidationError(`${field} must be a list of strings or a command line`, field);
}

/** The Engine's create body for a validated spec. */
export function createBody(spec: RunSpec, labels: Record<string, string>): ContainerCreateBody {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.hostIp, HostPort: port.hostPort });
  }
  const [primary] = spec.networks;
  return {
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.hostname ? { Hostname: spec.hostname } : {}),
    ...(spec.healthcheck ? { Healthcheck: spec.healthcheck } : {}),
    Env: spec.env,
    // The panel's own labels win over the caller's.
    Labels: { ...spec.labels, ...labels },
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      Binds: spec.binds,
      RestartPolicy: spec.restart,
      ...(spec.memory !== null ? { Memory: spec.memory } : {}),
      ...(spec.nanoCpus !== null ? { NanoCpus: spec.nanoCpus } : {}),
      ...(spec.capAdd.length ? { CapAdd: spec.capAdd } : {}),
      ...(spec.capDrop.length ? { CapDrop: spec.capDrop } : {}),
      ...(spec.devices.length ? { Devices: spec.devices } : {}),
      ...(spec.privileged ? { Privileged: true } : {}),
      ...(spec.log ? { LogConfig: spec.log } : {}),
      ...(primary ? { NetworkMode: primary.name } : {}),
    },
    ...(primary
      ? {
        NetworkingConfig: {
          EndpointsConfig: {
            [primary.name]: primary.aliases.length ? { Aliases: primary.aliases } : {},
          },
        },
      }
      : {}),
  };
}
