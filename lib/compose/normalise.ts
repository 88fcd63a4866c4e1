/**
 * The YNode tree of a compose file → ComposeProject (types.ts). Every value a service uses
 * is interpolated just before it is read (sections that are dropped are never
 * interpolated, so a `${X:?}` inside `build:` cannot fail an import that ignores it).
 * Problems that make the file unusable throw ComposeError naming the service, the entry
 * and the line; everything else that is dropped or dangerous becomes a warning.
 */
import { HttpError } from "../errors.ts";
import { InvalidReferenceError } from "../docker/errors.ts";
import { parseReference } from "../docker/reference.ts";
import { ShellwordsError, splitShellwords } from "../shellwords.ts";
import { DotenvError, parseDotenv } from "./dotenv.ts";
import { ComposeError, shown } from "./errors.ts";
import { bindRisk, risksOf } from "../risks.ts";
import { interpolate, InterpolationError } from "./interpolate.ts";
import type {
  ComposeProject,
  ComposeWarning,
  DependsOnCondition,
  HealthCheck,
  NetworkSpec,
  PortMapping,
  ServiceSpec,
  VolumeMount,
  VolumeSpec,
  WarningKind,
} from "./types.ts";
import type { YEntry, YMap, YNode, YScalar } from "./yaml.ts";

/** Port mappings one project may expand to (ranges included). */
export const MAX_PORT_MAPPINGS = 65_536;
/** Largest accepted `.env` / env_file text. */
export const MAX_ENV_BYTES = 1024 * 1024;

export interface NormaliseOptions {
  /** The project name, already normalised. */
  project: string;
  /** Interpolation variables: the .env file plus COMPOSE_PROJECT_NAME. */
  vars: Map<string, string>;
  envFiles?: Record<string, string>;
  warnings: ComposeWarning[];
}

const KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENGINE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;
const SERVICE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9a-fA-F:.]+$/;
const CAPABILITY_RE = /^[A-Za-z0-9_]+$/;
const DURATION_RE = /^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const DURATION_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Service keys with a meaning here. */
const SERVICE_KEYS = new Set([
  "image",
  "build",
  "environment",
  "env_file",
  "ports",
  "volumes",
  "restart",
  "command",
  "entrypoint",
  "labels",
  "networks",
  "network_mode",
  "container_name",
  "depends_on",
  "healthcheck",
  "expose",
  "user",
  "working_dir",
  "hostname",
  "cap_add",
  "cap_drop",
  "extra_hosts",
  "stop_signal",
  "stop_grace_period",
  "sysctls",
  "tty",
  "stdin_open",
  "privileged",
  "pid",
  "ipc",
  "devices",
]);

/** Compose features this panel does not implement: dropped with an `unsupported` warning. */
const UNSUPPORTED_SERVICE_KEYS: Record<string, string> = {
  configs: "configs are not supported and were ignored",
  secrets: "secrets are not supported and were ignored",
  extends: "extends is not supported and was ignored",
  profiles:
    "profiles are not supported and were ignored: the service is deployed as if its profile were active",
};

const TOP_LEVEL_KEYS = new Set(["version", "name", "services", "networks", "volumes"]);
const UNSUPPORTED_TOP_LEVEL: Record<string, string> = {
  configs: "Top-level configs are not supported and were ignored",
  secrets: "Top-level secrets are not supported and were ignored",
  include: "include is not supported and was ignored",
};

interface Declared<T> {
  spec: T;
  line: number;
}

/** Mutable state of one import. */
class Context {
  ports = 0;
  constructor(readonly options: NormaliseOptions) {}

  get project(): string {
    return this.options.project;
  }

  warn(kind: WarningKind, line: number | null, service: string | null, message: string) {
    this.options.warnings.push({ line, service, kind, message });
  }

  fail(message: string, line: number | null, field = "yaml"): never {
    throw new ComposeError(message, field, line);
  }

  lookup = (name: string): string | undefined => this.options.vars.get(name);

  /** Interpolates every string scalar under `node`, in place. */
  interpolate(node: YNode, service: string | null, where: string) {
    if (node.kind === "scalar") {
      if (typeof node.value !== "string" || !node.value.includes("$")) return;
      try {
        const value = interpolate(node.value, this.lookup, (name) =>
          this.warn(
            "interpolation",
            node.line,
            service,
            `${prefix(service)}The ${JSON.stringify(name)} variable is not set (${where}). ` +
              "Defaulting to a blank string.",
          ));
        node.value = value;
        node.text = value;
      } catch (error) {
        if (error instanceof InterpolationError) {
          this.fail(`${prefix(service)}${where}: ${error.message}`, node.line);
        }
        throw error;
      }
    } else if (node.kind === "seq") {
      for (const item of node.items) this.interpolate(item, service, where);
    } else {
      for (const entry of node.entries.values()) {
        this.interpolate(entry.value, service, `${where}.${entry.key}`);
      }
    }
  }
}

function prefix(service: string | null): string {
  return service === null ? "" : `Service ${JSON.stringify(service)}: `;
}

/** Sets an own enumerable property, even for keys like `__proto__`. */
function setOwn<T>(target: Record<string, T>, key: string, value: T) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function record<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of entries) setOwn(out, key, value);
  return out;
}

// ---------------------------------------------------------------------------------------
// Typed readers. `where` names the entry in messages ("ports[1]", "healthcheck.interval").

function isNull(node: YNode | undefined): boolean {
  return node === undefined || (node.kind === "scalar" && node.value === null);
}

function kindName(node: YNode): string {
  if (node.kind === "map") return "a map";
  if (node.kind === "seq") return "a list";
  if (node.value === null) return "empty";
  return `a ${typeof node.value}`;
}

function asMap(ctx: Context, node: YNode, what: string): YMap {
  if (node.kind !== "map") ctx.fail(`${what} must be a map, not ${kindName(node)}`, node.line);
  return node;
}

function asSeq(ctx: Context, node: YNode, what: string): YNode[] {
  if (node.kind !== "seq") ctx.fail(`${what} must be a list, not ${kindName(node)}`, node.line);
  return node.items;
}

/** A scalar as text: strings as they are, numbers as written, booleans as true/false. */
function asText(ctx: Context, node: YNode, what: string): string {
  if (node.kind !== "scalar" || node.value === null) {
    ctx.fail(`${what} must be a string, not ${kindName(node)}`, node.line);
  }
  if (typeof node.value === "boolean") return String(node.value);
  return node.text;
}

function asString(ctx: Context, node: YNode, what: string): string {
  if (node.kind !== "scalar" || typeof node.value !== "string") {
    if (node.kind === "scalar" && typeof node.value === "number") return node.text;
    ctx.fail(`${what} must be a string, not ${kindName(node)}`, node.line);
  }
  return node.value;
}

function asBool(ctx: Context, node: YNode, what: string): boolean {
  if (node.kind === "scalar") {
    if (typeof node.value === "boolean") return node.value;
    if (typeof node.value === "string") {
      const lower = node.value.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
    }
  }
  return ctx.fail(`${what} must be true or false`, node.line);
}

function asInt(ctx: Context, node: YNode, what: string, min: number, max: number): number {
  let value = NaN;
  if (node.kind === "scalar") {
    if (typeof node.value === "number") value = node.value;
    else if (typeof node.value === "string" && /^\d{1,10}$/.test(node.value.trim())) {
      value = Number(node.value.trim());
    }
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    ctx.fail(`${what} must be a whole number from ${min} to ${max}`, node.line);
  }
  return value;
}

function stringList(ctx: Context, node: YNode, what: string): { value: string; line: number }[] {
  return asSeq(ctx, node, what).map((item, i) => ({
    value: asText(ctx, item, `${what}[${i}]`),
    line: item.line,
  }));
}

/** Go duration ("1m30s", "10s", "500ms") → milliseconds. */
function duration(ctx: Context, node: YNode, what: string): number {
  if (node.kind === "scalar" && (node.value === 0 || node.value === "0")) return 0;
  const text = node.kind === "scalar" && typeof node.value === "string" ? node.value.trim() : "";
  if (!DURATION_RE.test(text)) {
    ctx.fail(`${what} must be a duration like 30s, 1m30s or 500ms`, node.line);
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_RE)) {
    ms += Number(amount) * DURATION_MS[unit];
  }
  return ms;
}

/** Warns about keys of a map that are not in `known` (ignoring `x-` extensions). */
function checkKeys(
  ctx: Context,
  map: YMap,
  known: readonly string[],
  service: string | null,
  what: string,
  unsupported: readonly string[] = [],
) {
  for (const entry of map.entries.values()) {
    if (known.includes(entry.key) || entry.key.startsWith("x-")) continue;
    if (unsupported.includes(entry.key)) {
      ctx.warn(
        "unsupported",
        entry.keyLine,
        service,
        `${prefix(service)}${what}.${entry.key} is not supported and was ignored`,
      );
    } else {
      ctx.warn(
        "unknown",
        entry.keyLine,
        service,
        `${prefix(service)}unknown key ${JSON.stringify(entry.key)} in ${what} was ignored`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// Paths

/** POSIX path.Clean for absolute paths: `//etc/`, `/etc/../etc` and `/etc/.` are `/etc`. */
export function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function isBindSource(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

// ---------------------------------------------------------------------------------------
// Ports

interface PortParts {
  hostIp: string;
  host: string;
  container: string;
  protocol: string;
}

function parsePortRange(
  ctx: Context,
  text: string,
  what: string,
  which: string,
  line: number,
): [number, number] {
  const match = text.match(/^(\d{1,5})(?:-(\d{1,5}))?$/);
  const start = match ? Number(match[1]) : NaN;
  const end = match ? Number(match[2] ?? match[1]) : NaN;
  if (!match || start < 1 || start > 65535 || end < 1 || end > 65535) {
    ctx.fail(
      `${what}: ${which} must be a number from 1 to 65535 or a range, got ${shown(text)}`,
      line,
    );
  }
  if (end < start) ctx.fail(`${what}: the ${which} range ${shown(text)} runs backwards`, line);
  return [start, end];
}

function checkHostIp(ctx: Context, raw: string, what: string, line: number): string {
  const ip = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (ip === "" || IPV4_RE.test(ip) || (ip.includes(":") && IPV6_RE.test(ip))) return ip;
  return ctx.fail(`${what}: ${shown(raw)} is not an IP address`, line);
}

/** "80", "8080:80", "127.0.0.1:8080:80", "[::1]:80:80", "127.0.0.1::80", "53:53/udp". */
function splitShortPort(ctx: Context, text: string, what: string, line: number): PortParts {
  let rest = text.trim();
  let protocol = "tcp";
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    protocol = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  let hostIp = "";
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") {
      ctx.fail(`${what}: ${shown(text)} is not a valid port mapping`, line);
    }
    hostIp = rest.slice(0, close + 1);
    rest = rest.slice(close + 2);
    if (rest.split(":").length !== 2) {
      ctx.fail(`${what}: ${shown(text)} must look like [IP]:HOST:CONTAINER`, line);
    }
  }
  const parts = rest.split(":");
  const container = parts[parts.length - 1];
  let host = "";
  if (parts.length >= 2) host = parts[parts.length - 2];
  if (parts.length >= 3) hostIp = parts.slice(0, -2).join(":");
  if (container === "") {
    ctx.fail(`${what}: ${shown(text)} has no container port`, line);
  }
  return { hostIp, host, container, protocol };
}

function expandPorts(
  ctx: Context,
  parts: PortParts,
  what: string,
  line: number,
): PortMapping[] {
  const protocol = parts.protocol.toLowerCase();
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") {
    ctx.fail(`${what}: the protocol must be tcp, udp or sctp, got ${shown(parts.protocol)}`, line);
  }
  const hostIp = checkHostIp(ctx, parts.hostIp, what, line);
  const [cStart, cEnd] = parsePortRange(ctx, parts.container, what, "the container port", line);
  const count = cEnd - cStart + 1;
  let host: [number, number] | null = null;
  if (parts.host !== "") host = parsePortRange(ctx, parts.host, what, "the host port", line);
  if (host && host[1] - host[0] + 1 !== count && count !== 1) {
    ctx.fail(
      `${what}: the host range ${parts.host} and the container range ${parts.container} differ in size`,
      line,
    );
  }
  ctx.ports += count;
  if (ctx.ports > MAX_PORT_MAPPINGS) {
    ctx.fail(`The project maps more than ${MAX_PORT_MAPPINGS} ports`, line);
  }
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let published = "";
    if (host) {
      published = count === 1
        ? (host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`)
        : String(host[0] + i);
    }
    out.push({ host_ip: hostIp, published, target: cStart + i, protocol });
  }
  return out;
}

function ports(ctx: Context, node: YNode, service: string): PortMapping[] {
  const out: PortMapping[] = [];
  asSeq(ctx, node, `${prefix(service)}ports`).forEach((item, i) => {
    const what = item.kind === "scalar"
      ? `${prefix(service)}ports[${i}] ${shown(item.text)}`
      : `${prefix(service)}ports[${i}]`;
    if (
      item.kind === "scalar" && (typeof item.value === "number" || typeof item.value === "string")
    ) {
      const text = typeof item.value === "number" ? item.text : item.value;
      out.push(...expandPorts(ctx, splitShortPort(ctx, text, what, item.line), what, item.line));
      return;
    }
    if (item.kind !== "map") {
      ctx.fail(`${what} must be a string like "8080:80" or a map with target`, item.line);
    }
    checkKeys(
      ctx,
      item,
      [
        "target",
        "published",
        "host_ip",
        "protocol",
        "mode",
        "name",
        "app_protocol",
      ],
      service,
      `ports[${i}]`,
    );
    const get = (key: string) => item.entries.get(key)?.value;
    const target = get("target");
    if (isNull(target)) ctx.fail(`${what} needs a target port`, item.line);
    const published = get("published");
    const hostIp = get("host_ip");
    const protocol = get("protocol");
    out.push(...expandPorts(
      ctx,
      {
        container: asText(ctx, target!, `${what}.target`).trim(),
        host: isNull(published) ? "" : asText(ctx, published!, `${what}.published`).trim(),
        hostIp: isNull(hostIp) ? "" : asString(ctx, hostIp!, `${what}.host_ip`).trim(),
        protocol: isNull(protocol) ? "tcp" : asString(ctx, protocol!, `${what}.protocol`),
      },
      what,
      target!.line,
    ));
  });
  return out;
}

function expose(ctx: Context, node: YNode, service: string): string[] {
  return stringList(ctx, node, `${prefix(service)}expose`).map(({ value, line }, i) => {
    const match = value.trim().match(/^(\d{1,5}(?:-\d{1,5})?)(?:\/(tcp|udp|sctp))?$/);
    const what = `${prefix(service)}expose[${i}] ${shown(value)}`;
    if (!match) {
      ctx.fail(`${what} must be a port or range, optionally with /tcp, /udp or /sctp`, line);
    }
    parsePortRange(ctx, match[1], what, "the port", line);
    return value.trim();
  });
}

// ---------------------------------------------------------------------------------------
// Volumes

function volumeTarget(ctx: Context, raw: string, what: string, line: number): string {
  if (!raw.startsWith("/") || /[\0\n]/.test(raw)) {
    ctx.fail(`${what}: the container path must be absolute, got ${shown(raw)}`, line);
  }
  const target = cleanPath(raw);
  if (target === "/") ctx.fail(`${what}: the container path cannot be "/"`, line);
  return target;
}

function checkBindSource(ctx: Context, source: string, what: string, line: number) {
  if (/[\0\n]/.test(source)) {
    ctx.fail(`${what}: the host path ${shown(source)} is not allowed`, line);
  }
}

function flagBind(ctx: Context, source: string, service: string, what: string, line: number) {
  const danger = bindRisk(source);
  if (danger) {
    ctx.warn(
      "risk",
      line,
      service,
      `${what} mounts ${danger} into the container (bind of ${shown(source)})`,
    );
  }
}

function namedVolume(
  ctx: Context,
  source: string,
  declared: Map<string, Declared<VolumeSpec>>,
  what: string,
  line: number,
) {
  if (!KEY_RE.test(source)) {
    ctx.fail(
      `${what}: ${shown(source)} is neither a path (./, ../, /, ~) nor a volume name`,
      line,
    );
  }
  if (!declared.has(source)) {
    ctx.fail(
      `${what} uses the volume ${
        JSON.stringify(source)
      }, which is not declared under the top-level volumes:`,
      line,
    );
  }
}

function volumes(
  ctx: Context,
  node: YNode,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount[] {
  const out: VolumeMount[] = [];
  asSeq(ctx, node, `${prefix(service)}volumes`).forEach((item, i) => {
    if (item.kind === "scalar" && typeof item.value === "string") {
      out.push(shortVolume(ctx, item, i, service, declared));
    } else if (item.kind === "map") {
      const mount = longVolume(ctx, item, i, service, declared);
      if (mount) out.push(mount);
    } else {
      ctx.fail(
        `${prefix(service)}volumes[${i}] must be a string like "data:/var/lib/data" or a map`,
        item.line,
      );
    }
  });
  return out;
}

function shortVolume(
  ctx: Context,
  item: YScalar,
  i: number,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount {
  const text = String(item.value);
  const what = `${prefix(service)}volumes[${i}] ${shown(text)}`;
  const line = item.line;
  const parts = text.split(":");
  if (text === "" || parts.some((part) => part === "")) {
    ctx.fail(`${what} must look like SOURCE:TARGET[:MODE] or /TARGET`, line);
  }
  if (parts.length > 3) ctx.fail(`${what} has too many ":"`, line);
  if (parts.length === 1) {
    return { type: "anonymous", target: volumeTarget(ctx, parts[0], what, line), read_only: false };
  }
  const [source, rawTarget, mode] = parts;
  const target = volumeTarget(ctx, rawTarget, what, line);
  let readOnly = false;
  let selinux: "z" | "Z" | undefined;
  const seen = new Set<string>();
  for (const option of mode === undefined ? [] : mode.split(",")) {
    if (seen.has(option)) continue;
    seen.add(option);
    if (option === "ro" || option === "rw") {
      if (seen.has(option === "ro" ? "rw" : "ro")) ctx.fail(`${what}: ro and rw conflict`, line);
      readOnly = option === "ro";
    } else if (option === "z" || option === "Z") {
      if (selinux && selinux !== option) ctx.fail(`${what}: z and Z conflict`, line);
      selinux = option;
    } else if (option === "nocopy" || ["cached", "delegated", "consistent"].includes(option)) {
      // No effect here (nocopy: the panel never copies image content into a named volume
      // twice; consistency modes only matter on Docker Desktop for Mac).
    } else if (["shared", "slave", "private", "rshared", "rslave", "rprivate"].includes(option)) {
      ctx.warn(
        "unsupported",
        line,
        service,
        `${what}: bind propagation ${option} is not supported and was ignored`,
      );
    } else {
      ctx.fail(
        `${what}: unknown mode ${shown(option)} (use ro, rw, z or Z, comma-separated)`,
        line,
      );
    }
  }
  if (isBindSource(source)) {
    checkBindSource(ctx, source, what, line);
    flagBind(ctx, source, service, `${prefix(service)}volumes[${i}]`, line);
    return {
      type: "bind",
      source,
      target,
      read_only: readOnly,
      ...(selinux ? { selinux } : {}),
      create_host_path: true,
    };
  }
  namedVolume(ctx, source, declared, what, line);
  if (selinux) {
    ctx.warn(
      "unsupported",
      line,
      service,
      `${what}: the SELinux option :${selinux} only applies to bind mounts and was ignored`,
    );
  }
  return { type: "volume", source, target, read_only: readOnly };
}

function longVolume(
  ctx: Context,
  item: YMap,
  i: number,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount | null {
  const what = `${prefix(service)}volumes[${i}]`;
  checkKeys(
    ctx,
    item,
    ["type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"],
    service,
    `volumes[${i}]`,
  );
  const get = (key: string) => item.entries.get(key)?.value;
  const typeNode = get("type");
  if (isNull(typeNode)) ctx.fail(`${what} needs a type (volume, bind or tmpfs)`, item.line);
  const type = asString(ctx, typeNode!, `${what}.type`);
  const targetNode = get("target");
  if (isNull(targetNode)) ctx.fail(`${what} needs a target`, item.line);
  const target = volumeTarget(
    ctx,
    asString(ctx, targetNode!, `${what}.target`),
    what,
    targetNode!.line,
  );
  const sourceNode = get("source");
  const source = isNull(sourceNode) ? "" : asString(ctx, sourceNode!, `${what}.source`);
  const readOnlyNode = get("read_only");
  const readOnly = isNull(readOnlyNode) ? false : asBool(ctx, readOnlyNode!, `${what}.read_only`);
  const options = (key: string, known: string[], unsupported: string[]) => {
    const node = get(key);
    if (isNull(node)) return null;
    const map = asMap(ctx, node!, `${what}.${key}`);
    checkKeys(ctx, map, known, service, `volumes[${i}].${key}`, unsupported);
    return map;
  };
  const misplaced = (keys: string[]) => {
    for (const key of keys) {
      const entry = item.entries.get(key);
      if (entry && !isNull(entry.value)) {
        ctx.warn(
          "unknown",
          entry.keyLine,
          service,
          `${what}.${key} does not apply to a ${type} mount and was ignored`,
        );
      }
    }
  };
  switch (type) {
    case "volume": {
      misplaced(["bind", "tmpfs"]);
      options("volume", ["nocopy"], ["subpath"]);
      if (source === "") return { type: "anonymous", target, read_only: readOnly };
      namedVolume(ctx, source, declared, `${what} ${shown(source)}`, sourceNode!.line);
      return { type: "volume", source, target, read_only: readOnly };
    }
    case "bind": {
      misplaced(["volume", "tmpfs"]);
      if (source === "") ctx.fail(`${what}: a bind mount needs a source`, item.line);
      checkBindSource(ctx, source, what, sourceNode!.line);
      const bind = options("bind", ["create_host_path", "selinux"], ["propagation", "recursive"]);
      let createHostPath = true;
      let selinux: "z" | "Z" | undefined;
      const create = bind?.entries.get("create_host_path")?.value;
      if (!isNull(create)) createHostPath = asBool(ctx, create!, `${what}.bind.create_host_path`);
      const label = bind?.entries.get("selinux")?.value;
      if (!isNull(label)) {
        const value = asString(ctx, label!, `${what}.bind.selinux`);
        if (value !== "z" && value !== "Z") {
          ctx.fail(`${what}.bind.selinux must be z or Z, got ${shown(value)}`, label!.line);
        }
        selinux = value;
      }
      if (selinux && !createHostPath) {
        ctx.warn(
          "unsupported",
          label!.line,
          service,
          `${what}.bind.selinux cannot be applied with create_host_path: false (the Engine's mount API has no relabel option) and was ignored`,
        );
        selinux = undefined;
      }
      flagBind(ctx, source, service, what, sourceNode!.line);
      return {
        type: "bind",
        source,
        target,
        read_only: readOnly,
        ...(selinux ? { selinux } : {}),
        create_host_path: createHostPath,
      };
    }
    case "tmpfs": {
      misplaced(["bind", "volume", "source"]);
      options("tmpfs", [], ["size", "mode"]);
      return { type: "tmpfs", target };
    }
    default:
      ctx.warn(
        "unsupported",
        typeNode!.line,
        service,
        `${what}: mounts of type ${shown(type)} are not supported; the mount was ignored`,
      );
      return null;
  }
}

// ---------------------------------------------------------------------------------------
// Key/value maps (environment, labels, sysctls)

function keyValues(
  ctx: Context,
  node: YNode,
  what: string,
  /** Value for a key given without one (`KEY` in a list, `KEY:` in a map); undefined drops it. */
  missing: (key: string, line: number) => string | undefined,
  checkKey: (key: string, line: number) => void,
): Map<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, value: string | undefined) => {
    if (value === undefined) out.delete(key);
    else out.set(key, value);
  };
  if (node.kind === "map") {
    for (const entry of node.entries.values()) {
      checkKey(entry.key, entry.keyLine);
      const value = entry.value;
      if (isNull(value)) {
        put(entry.key, missing(entry.key, entry.keyLine));
      } else if (value.kind === "scalar") {
        put(entry.key, typeof value.value === "boolean" ? String(value.value) : value.text);
      } else {
        ctx.fail(`${what}.${entry.key} must be a string, number or boolean`, value.line);
      }
    }
    return out;
  }
  if (node.kind === "seq") {
    node.items.forEach((item, i) => {
      if (item.kind !== "scalar" || typeof item.value !== "string") {
        ctx.fail(`${what}[${i}] must be a "KEY=VALUE" string`, item.line);
      }
      const text = item.value;
      const eq = text.indexOf("=");
      const key = eq < 0 ? text : text.slice(0, eq);
      checkKey(key, item.line);
      put(key, eq < 0 ? missing(key, item.line) : text.slice(eq + 1));
    });
    return out;
  }
  return ctx.fail(`${what} must be a map or a list of "KEY=VALUE" strings`, node.line);
}

function plainKey(ctx: Context, what: string) {
  return (key: string, line: number) => {
    if (key === "" || /[\s=\0]/.test(key)) {
      ctx.fail(`${what}: ${shown(key)} is not a valid name`, line);
    }
  };
}

function envFileValues(
  ctx: Context,
  node: YNode,
  service: string,
): Map<string, string> {
  const out = new Map<string, string>();
  const what = `${prefix(service)}env_file`;
  const items: { path: string; required: boolean; line: number }[] = [];
  const entries = node.kind === "seq" ? node.items : [node];
  entries.forEach((item, i) => {
    const at = node.kind === "seq" ? `${what}[${i}]` : what;
    if (item.kind === "map") {
      checkKeys(ctx, item, ["path", "required", "format"], service, `env_file[${i}]`);
      const path = item.entries.get("path")?.value;
      if (isNull(path)) ctx.fail(`${at} needs a path`, item.line);
      const required = item.entries.get("required")?.value;
      const format = item.entries.get("format")?.value;
      if (!isNull(format)) {
        ctx.warn(
          "unsupported",
          format!.line,
          service,
          `${at}.format is not supported; the file is read as a .env file`,
        );
      }
      items.push({
        path: asString(ctx, path!, `${at}.path`),
        required: isNull(required) ? true : asBool(ctx, required!, `${at}.required`),
        line: item.line,
      });
    } else {
      items.push({ path: asString(ctx, item, at), required: true, line: item.line });
    }
  });
  const supplied = ctx.options.envFiles ?? {};
  for (const { path, required, line } of items) {
    const candidates = [path, path.startsWith("./") ? path.slice(2) : `./${path}`];
    const key = candidates.find((candidate) => Object.hasOwn(supplied, candidate));
    if (key === undefined) {
      if (required) {
        ctx.fail(
          `${what}: the file ${shown(path)} was not supplied with the request`,
          line,
          "envFiles",
        );
      }
      ctx.warn(
        "interpolation",
        line,
        service,
        `${what}: the optional file ${shown(path)} was not supplied and was skipped`,
      );
      continue;
    }
    const text = supplied[key];
    if (typeof text !== "string") {
      ctx.fail(`${what}: the file ${shown(path)} must be text`, line, "envFiles");
    }
    if (text.length > MAX_ENV_BYTES || new TextEncoder().encode(text).length > MAX_ENV_BYTES) {
      throw new HttpError(413, `The env_file ${shown(path)} is larger than 1 MiB`, "envFiles");
    }
    try {
      const values = parseDotenv(text, {
        lookup: ctx.lookup,
        onUnset: (name, fileLine) =>
          ctx.warn(
            "interpolation",
            line,
            service,
            `${what} ${shown(path)} line ${fileLine}: the ${
              JSON.stringify(name)
            } variable is not set. Defaulting to a blank string.`,
          ),
      });
      for (const [k, v] of values) out.set(k, v);
    } catch (error) {
      if (error instanceof DotenvError) {
        ctx.fail(`${what} ${shown(path)} line ${error.line}: ${error.message}`, line, "envFiles");
      }
      throw error;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Commands, healthcheck, restart, misc

function commandLine(ctx: Context, node: YNode, what: string): string[] | undefined {
  if (isNull(node)) return undefined;
  if (node.kind === "scalar" && typeof node.value === "string") {
    try {
      return splitShellwords(node.value);
    } catch (error) {
      if (error instanceof ShellwordsError) ctx.fail(`${what}: ${error.message}`, node.line);
      throw error;
    }
  }
  if (node.kind === "seq") {
    return node.items.map((item, i) => asText(ctx, item, `${what}[${i}]`));
  }
  return ctx.fail(`${what} must be a command line or a list of strings`, node.line);
}

function restartPolicy(ctx: Context, node: YNode, what: string): ServiceSpec["restart"] {
  if (isNull(node) || (node.kind === "scalar" && node.value === false)) {
    return { name: "no", max_retries: 0 };
  }
  if (node.kind === "scalar" && typeof node.value === "string") {
    const value = node.value.trim();
    if (value === "no" || value === "" || value === "always" || value === "unless-stopped") {
      return { name: value === "" ? "no" : value, max_retries: 0 };
    }
    const match = value.match(/^on-failure(?::(\d{1,6}))?$/);
    if (match) return { name: "on-failure", max_retries: match[1] ? Number(match[1]) : 0 };
  }
  return ctx.fail(
    `${what} must be no, always, unless-stopped or on-failure[:N], got ${
      node.kind === "scalar" ? shown(node.text) : kindName(node)
    }`,
    node.line,
  );
}

function healthcheck(ctx: Context, node: YNode, service: string): HealthCheck | undefined {
  const what = `${prefix(service)}healthcheck`;
  if (isNull(node)) return undefined;
  const map = asMap(ctx, node, what);
  checkKeys(
    ctx,
    map,
    [
      "test",
      "interval",
      "timeout",
      "retries",
      "start_period",
      "start_interval",
      "disable",
    ],
    service,
    "healthcheck",
  );
  const get = (key: string) => {
    const value = map.entries.get(key)?.value;
    return isNull(value) ? undefined : value;
  };
  const disable = get("disable");
  const testNode = get("test");
  if (disable && asBool(ctx, disable, `${what}.disable`)) {
    if (testNode) {
      ctx.fail(`${what}: test and disable: true cannot be used together`, testNode.line);
    }
    return { test: ["NONE"] };
  }
  let test: string[] = [];
  if (testNode) {
    if (testNode.kind === "scalar" && typeof testNode.value === "string") {
      if (testNode.value.trim() === "") ctx.fail(`${what}.test is empty`, testNode.line);
      test = ["CMD-SHELL", testNode.value];
    } else {
      test = stringList(ctx, testNode, `${what}.test`).map((item) => item.value);
      const [kind] = test;
      if (kind !== "CMD" && kind !== "CMD-SHELL" && kind !== "NONE") {
        ctx.fail(`${what}.test must start with CMD, CMD-SHELL or NONE`, testNode.line);
      }
      if (kind !== "NONE" && test.length < 2) {
        ctx.fail(`${what}.test has no command after ${kind}`, testNode.line);
      }
    }
  }
  // An empty test keeps the image's own check, with the timings given here.
  const result: HealthCheck = { test };
  const interval = get("interval");
  if (interval) result.interval_ms = duration(ctx, interval, `${what}.interval`);
  const timeout = get("timeout");
  if (timeout) result.timeout_ms = duration(ctx, timeout, `${what}.timeout`);
  const startPeriod = get("start_period");
  if (startPeriod) result.start_period_ms = duration(ctx, startPeriod, `${what}.start_period`);
  const startInterval = get("start_interval");
  if (startInterval) {
    result.start_interval_ms = duration(ctx, startInterval, `${what}.start_interval`);
  }
  const retries = get("retries");
  if (retries) result.retries = asInt(ctx, retries, `${what}.retries`, 0, 1_000_000);
  return result;
}

function extraHosts(ctx: Context, node: YNode, service: string): string[] {
  const what = `${prefix(service)}extra_hosts`;
  const out: string[] = [];
  const add = (host: string, ip: string, line: number, at: string) => {
    host = host.trim();
    ip = ip.trim();
    if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (host === "" || ip === "" || /\s/.test(host) || /\s/.test(ip)) {
      ctx.fail(`${at} must look like HOST:IP or HOST=IP`, line);
    }
    out.push(`${host}:${ip}`);
  };
  if (node.kind === "map") {
    for (const entry of node.entries.values()) {
      const at = `${what}.${entry.key}`;
      if (entry.value.kind === "seq") {
        for (const item of stringList(ctx, entry.value, at)) {
          add(entry.key, item.value, item.line, at);
        }
      } else {
        add(entry.key, asText(ctx, entry.value, at), entry.keyLine, at);
      }
    }
    return out;
  }
  stringList(ctx, node, what).forEach(({ value, line }, i) => {
    const at = `${what}[${i}] ${shown(value)}`;
    const eq = value.indexOf("=");
    const sep = eq >= 0 ? eq : value.indexOf(":");
    if (sep < 0) ctx.fail(`${at} must look like HOST:IP or HOST=IP`, line);
    add(value.slice(0, sep), value.slice(sep + 1), line, at);
  });
  return out;
}

function capabilities(ctx: Context, node: YNode, what: string): string[] {
  return stringList(ctx, node, what).map(({ value, line }, i) => {
    if (!CAPABILITY_RE.test(value)) {
      ctx.fail(`${what}[${i}]: ${shown(value)} is not a capability name`, line);
    }
    return value;
  });
}

/** One `devices:` entry in the Engine's form. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Cgroup permissions: a non-empty mix of r, w and m, each at most once (docker's rule). */
function isDeviceMode(mode: string): boolean {
  return /^[rwm]{1,3}$/.test(mode) && new Set(mode).size === mode.length;
}

/**
 * "HOST[:CONTAINER][:PERMISSIONS]" as the docker CLI reads it: the container path defaults
 * to the host path, permissions to "rwm", and a second part that is a permission set
 * ("/dev/x:r") is taken as the permissions. Returns an error message when it is invalid.
 */
export function parseDevice(spec: string): DeviceMapping | string {
  const parts = spec.split(":");
  if (parts.length > 3) return `${shown(spec)} has too many ":"-separated parts`;
  let [host, container = "", permissions = "rwm"] = parts;
  if (parts.length === 2 && isDeviceMode(container)) {
    permissions = container;
    container = "";
  }
  if (container === "") container = host;
  if (!host.startsWith("/")) return `${shown(spec)}: the host path must be absolute`;
  if (!container.startsWith("/")) return `${shown(spec)}: the container path must be absolute`;
  if (!isDeviceMode(permissions)) {
    return `${shown(spec)}: the permissions must be a combination of r, w and m`;
  }
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}

/** A CDI device name (vendor.com/class=name), which docker passes as a device request. */
const CDI_DEVICE_RE = /^[a-zA-Z0-9][a-zA-Z0-9.-]*\/[a-zA-Z0-9][a-zA-Z0-9_.-]*=[^:]+$/;

function devices(ctx: Context, node: YNode, service: string): string[] {
  const what = `${prefix(service)}devices`;
  const out: string[] = [];
  asSeq(ctx, node, what).forEach((item, i) => {
    let spec: string;
    if (item.kind === "map") {
      checkKeys(ctx, item, ["source", "target", "permissions"], service, `devices[${i}]`);
      const source = item.entries.get("source")?.value;
      if (isNull(source)) ctx.fail(`${what}[${i}] needs a source`, item.line);
      const target = item.entries.get("target")?.value;
      const permissions = item.entries.get("permissions")?.value;
      spec = [
        asString(ctx, source!, `${what}[${i}].source`),
        ...(isNull(target) ? [] : [asString(ctx, target!, `${what}[${i}].target`)]),
        ...(isNull(permissions) ? [] : [asString(ctx, permissions!, `${what}[${i}].permissions`)]),
      ].join(":");
    } else {
      spec = asString(ctx, item, `${what}[${i}]`);
    }
    if (CDI_DEVICE_RE.test(spec)) {
      ctx.warn(
        "unsupported",
        item.line,
        service,
        `${what}[${i}]: CDI device ${shown(spec)} is not supported and was ignored`,
      );
      return;
    }
    const parsed = parseDevice(spec);
    if (typeof parsed === "string") ctx.fail(`${what}[${i}]: ${parsed}`, item.line);
    out.push(spec);
  });
  return out;
}

function dependsOn(ctx: Context, node: YNode, service: string): ServiceSpec["depends_on"] {
  const what = `${prefix(service)}depends_on`;
  const out: ServiceSpec["depends_on"] = {};
  if (node.kind === "seq") {
    for (const { value, line } of stringList(ctx, node, what)) {
      if (value === "") ctx.fail(`${what} has an empty service name`, line);
      setOwn(out, value, { condition: "service_started", required: true });
    }
    return out;
  }
  const map = asMap(ctx, node, what);
  for (const entry of map.entries.values()) {
    let condition: DependsOnCondition = "service_started";
    let required = true;
    let restart = false;
    if (!isNull(entry.value)) {
      const options = asMap(ctx, entry.value, `${what}.${entry.key}`);
      checkKeys(
        ctx,
        options,
        ["condition", "required", "restart"],
        service,
        `depends_on.${entry.key}`,
      );
      const conditionNode = options.entries.get("condition")?.value;
      if (!isNull(conditionNode)) {
        const value = asString(ctx, conditionNode!, `${what}.${entry.key}.condition`);
        if (
          value !== "service_started" && value !== "service_healthy" &&
          value !== "service_completed_successfully"
        ) {
          ctx.fail(
            `${what}.${entry.key}.condition must be service_started, service_healthy or service_completed_successfully, got ${
              shown(value)
            }`,
            conditionNode!.line,
          );
        }
        condition = value;
      }
      const requiredNode = options.entries.get("required")?.value;
      if (!isNull(requiredNode)) {
        required = asBool(ctx, requiredNode!, `${what}.${entry.key}.required`);
      }
      const restartNode = options.entries.get("restart")?.value;
      if (!isNull(restartNode)) {
        restart = asBool(ctx, restartNode!, `${what}.${entry.key}.restart`);
      }
    }
    // `restart` is kept only when true, so the config hash of existing services is unchanged.
    setOwn(out, entry.key, { condition, required, ...(restart ? { restart: true as const } : {}) });
  }
  return out;
}

function serviceNetworks(
  ctx: Context,
  node: YNode,
  service: string,
  declared: Map<string, Declared<NetworkSpec>>,
): { networks: ServiceSpec["networks"]; lines: Map<string, number> } {
  const what = `${prefix(service)}networks`;
  const networks: ServiceSpec["networks"] = {};
  const lines = new Map<string, number>();
  const use = (key: string, line: number, aliases: string[]) => {
    if (key !== "default" && !declared.has(key)) {
      ctx.fail(
        `${what}: the network ${JSON.stringify(key)} is not declared under the top-level networks:`,
        line,
      );
    }
    setOwn(networks, key, { aliases });
    lines.set(key, line);
  };
  if (node.kind === "seq") {
    for (const { value, line } of stringList(ctx, node, what)) use(value, line, []);
    return { networks, lines };
  }
  const map = asMap(ctx, node, what);
  for (const entry of map.entries.values()) {
    let aliases: string[] = [];
    if (!isNull(entry.value)) {
      const options = asMap(ctx, entry.value, `${what}.${entry.key}`);
      checkKeys(ctx, options, ["aliases"], service, `networks.${entry.key}`, [
        "ipv4_address",
        "ipv6_address",
        "link_local_ips",
        "mac_address",
        "driver_opts",
        "priority",
        "gw_priority",
        "interface_name",
      ]);
      const aliasNode = options.entries.get("aliases")?.value;
      if (!isNull(aliasNode)) {
        aliases = stringList(ctx, aliasNode!, `${what}.${entry.key}.aliases`).map(
          ({ value, line }) => {
            if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value)) {
              ctx.fail(`${what}.${entry.key}.aliases: ${shown(value)} is not a valid alias`, line);
            }
            return value;
          },
        );
      }
    }
    use(entry.key, entry.keyLine, aliases);
  }
  return { networks, lines };
}

// ---------------------------------------------------------------------------------------
// Top-level networks and volumes

function topLevel<T extends NetworkSpec | VolumeSpec>(
  ctx: Context,
  node: YNode | undefined,
  section: "networks" | "volumes",
): Map<string, Declared<T>> {
  const out = new Map<string, Declared<T>>();
  if (node === undefined || isNull(node)) return out;
  const noun = section === "networks" ? "network" : "volume";
  const map = asMap(ctx, node, section);
  for (const entry of map.entries.values()) {
    const key = entry.key;
    if (key.startsWith("x-")) continue;
    if (!KEY_RE.test(key)) {
      ctx.fail(
        `${section}: ${shown(key)} is not a valid ${noun} key (letters, digits, _ . -)`,
        entry.keyLine,
      );
    }
    const what = `${section}.${key}`;
    let name: string | undefined;
    let external = false;
    let driver: string | undefined;
    if (!isNull(entry.value)) {
      ctx.interpolate(entry.value, null, what);
      const options = asMap(ctx, entry.value, what);
      checkKeys(
        ctx,
        options,
        ["name", "external", "driver"],
        null,
        what,
        section === "networks"
          ? [
            "driver_opts",
            "attachable",
            "internal",
            "ipam",
            "labels",
            "enable_ipv6",
            "enable_ipv4",
          ]
          : ["driver_opts", "labels"],
      );
      const nameNode = options.entries.get("name")?.value;
      if (!isNull(nameNode)) name = asString(ctx, nameNode!, `${what}.name`);
      const externalNode = options.entries.get("external")?.value;
      if (!isNull(externalNode)) {
        if (externalNode!.kind === "map") {
          external = true;
          const legacy = externalNode!.entries.get("name")?.value;
          if (!isNull(legacy)) {
            const legacyName = asString(ctx, legacy!, `${what}.external.name`);
            if (name !== undefined && name !== legacyName) {
              ctx.fail(`${what}: name and external.name disagree`, legacy!.line);
            }
            name = legacyName;
            ctx.warn(
              "obsolete",
              legacy!.line,
              null,
              `${what}.external.name is deprecated: use name: ${legacyName} with external: true`,
            );
          }
        } else {
          external = asBool(ctx, externalNode!, `${what}.external`);
        }
      }
      const driverNode = options.entries.get("driver")?.value;
      if (!isNull(driverNode)) {
        driver = asString(ctx, driverNode!, `${what}.driver`);
        if (external) {
          ctx.warn(
            "unknown",
            driverNode!.line,
            null,
            `${what}.driver does not apply to an external ${noun} and was ignored`,
          );
          driver = undefined;
        }
      }
    }
    const engineName = name ?? (external ? key : `${ctx.project}_${key}`);
    if (!ENGINE_NAME_RE.test(engineName)) {
      ctx.fail(`${what}: ${shown(engineName)} is not a valid ${noun} name`, entry.keyLine);
    }
    out.set(key, {
      spec: { name: engineName, external, ...(driver ? { driver } : {}) } as T,
      line: entry.keyLine,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Services

interface PendingService {
  spec: ServiceSpec;
  /** Line of each depends_on entry / network_mode, for messages. */
  dependsLines: Map<string, number>;
  networkModeLine: number | null;
}

function service(
  ctx: Context,
  name: string,
  entry: YEntry,
  networks: Map<string, Declared<NetworkSpec>>,
  volumesDeclared: Map<string, Declared<VolumeSpec>>,
): PendingService | null {
  const what = prefix(name);
  if (!SERVICE_NAME_RE.test(name)) {
    ctx.fail(
      `${
        shown(name)
      } is not a valid service name (letters, digits, _ . -, starting with a letter or digit)`,
      entry.keyLine,
    );
  }
  if (isNull(entry.value)) {
    ctx.fail(`Service ${JSON.stringify(name)} needs an image`, entry.keyLine);
  }
  const map = asMap(ctx, entry.value, `Service ${JSON.stringify(name)}`);
  const get = (key: string) => {
    const found = map.entries.get(key);
    if (!found || isNull(found.value)) return undefined;
    return found.value;
  };
  const lineOf = (key: string) => map.entries.get(key)?.keyLine ?? entry.keyLine;

  const build = map.entries.get("build");
  const imageNode = get("image");
  if (!imageNode) {
    if (build) {
      ctx.warn(
        "unsupported",
        build.keyLine,
        name,
        `${what}build: is not supported and the service has no image:, so it was skipped`,
      );
      return null;
    }
    ctx.fail(
      `Service ${JSON.stringify(name)} needs an image (build: is not supported)`,
      entry.keyLine,
    );
  }
  if (build) {
    ctx.warn(
      "unsupported",
      build.keyLine,
      name,
      `${what}build: is not supported and was ignored; the image is pulled instead`,
    );
  }

  // Unknown, unsupported and extension keys first: none of them is interpolated.
  for (const [key, found] of map.entries) {
    if (SERVICE_KEYS.has(key) || key.startsWith("x-")) continue;
    if (key === "deploy") {
      const restartPolicy = found.value.kind === "map" && found.value.entries.has("restart_policy");
      ctx.warn(
        "unsupported",
        found.keyLine,
        name,
        `${what}deploy: is not supported and was ignored` +
          (restartPolicy
            ? "; note that its restart_policy would have overridden restart: in Docker Compose"
            : ""),
      );
    } else if (key in UNSUPPORTED_SERVICE_KEYS) {
      ctx.warn("unsupported", found.keyLine, name, `${what}${UNSUPPORTED_SERVICE_KEYS[key]}`);
    } else {
      ctx.warn(
        "unknown",
        found.keyLine,
        name,
        `${what}${JSON.stringify(key)} is not supported here and was ignored`,
      );
    }
  }
  for (const [key, found] of map.entries) {
    if (SERVICE_KEYS.has(key) && key !== "build") ctx.interpolate(found.value, name, key);
  }

  const image = asString(ctx, imageNode, `${what}image`).trim();
  try {
    parseReference(image);
  } catch (error) {
    if (error instanceof InvalidReferenceError) ctx.fail(`${what}${error.message}`, imageNode.line);
    throw error;
  }

  const spec = newServiceSpec(name, entry.keyLine, image);

  let node: YNode | undefined;
  if ((node = get("container_name"))) {
    const value = asString(ctx, node, `${what}container_name`);
    if (!CONTAINER_NAME_RE.test(value)) {
      ctx.fail(
        `${what}container_name ${
          shown(value)
        } must be 2 to 128 letters, digits or _ . -, starting with a letter or digit`,
        node.line,
      );
    }
    spec.container_name = value;
  }

  // environment: env_file values first, environment wins.
  node = get("env_file");
  const fromFiles = node ? envFileValues(ctx, node, name) : new Map<string, string>();
  const env = new Map(fromFiles);
  if ((node = get("environment"))) {
    const values = keyValues(
      ctx,
      node,
      `${what}environment`,
      (key, line) => {
        const value = ctx.lookup(key);
        if (value !== undefined) return value;
        if (fromFiles.has(key)) return fromFiles.get(key);
        ctx.warn(
          "interpolation",
          line,
          name,
          `${what}environment ${key} has no value and the .env file does not set it; it was left out`,
        );
        return undefined;
      },
      plainKey(ctx, `${what}environment`),
    );
    for (const [key, value] of values) env.set(key, value);
  }
  spec.environment = record(env);

  if ((node = get("labels"))) {
    spec.labels = record(
      keyValues(ctx, node, `${what}labels`, () => "", plainKey(ctx, `${what}labels`)),
    );
  }
  if ((node = get("sysctls"))) {
    spec.sysctls = record(
      keyValues(ctx, node, `${what}sysctls`, (key, line) => {
        ctx.fail(`${what}sysctls.${key} needs a value`, line);
      }, plainKey(ctx, `${what}sysctls`)),
    );
  }
  if ((node = get("ports"))) spec.ports = ports(ctx, node, name);
  if ((node = get("expose"))) spec.expose = expose(ctx, node, name);
  if ((node = get("volumes"))) spec.volumes = volumes(ctx, node, name, volumesDeclared);
  if ((node = map.entries.get("restart")?.value)) {
    spec.restart = restartPolicy(ctx, node, `${what}restart`);
  }
  if ((node = map.entries.get("command")?.value)) {
    const command = commandLine(ctx, node, `${what}command`);
    if (command) spec.command = command;
  }
  if ((node = map.entries.get("entrypoint")?.value)) {
    const entrypoint = commandLine(ctx, node, `${what}entrypoint`);
    if (entrypoint) spec.entrypoint = entrypoint;
  }
  if ((node = get("healthcheck"))) {
    const check = healthcheck(ctx, node, name);
    if (check) spec.healthcheck = check;
  }
  if ((node = get("user"))) spec.user = asText(ctx, node, `${what}user`);
  if ((node = get("working_dir"))) {
    const dir = asString(ctx, node, `${what}working_dir`);
    if (!dir.startsWith("/")) {
      ctx.fail(`${what}working_dir must be an absolute path, got ${shown(dir)}`, node.line);
    }
    spec.working_dir = dir;
  }
  if ((node = get("hostname"))) {
    const hostname = asString(ctx, node, `${what}hostname`);
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$/.test(hostname)) {
      ctx.fail(`${what}hostname ${shown(hostname)} is not a valid host name`, node.line);
    }
    spec.hostname = hostname;
  }
  if ((node = get("stop_signal"))) spec.stop_signal = asText(ctx, node, `${what}stop_signal`);
  if ((node = get("stop_grace_period"))) {
    spec.stop_grace_period_s = Math.ceil(
      duration(ctx, node, `${what}stop_grace_period`) / 1000,
    );
  }
  if ((node = get("cap_add"))) spec.cap_add = capabilities(ctx, node, `${what}cap_add`);
  if ((node = get("cap_drop"))) spec.cap_drop = capabilities(ctx, node, `${what}cap_drop`);
  if ((node = get("extra_hosts"))) spec.extra_hosts = extraHosts(ctx, node, name);
  if ((node = get("tty"))) spec.tty = asBool(ctx, node, `${what}tty`);
  if ((node = get("stdin_open"))) spec.stdin_open = asBool(ctx, node, `${what}stdin_open`);
  if ((node = get("privileged"))) spec.privileged = asBool(ctx, node, `${what}privileged`);
  if ((node = get("ipc"))) {
    const ipc = asString(ctx, node, `${what}ipc`);
    if (ipc === "host") spec.ipc = "host";
    else {
      ctx.warn(
        "unsupported",
        lineOf("ipc"),
        name,
        `${what}ipc: ${ipc} is not supported and was ignored`,
      );
    }
  }
  if ((node = get("pid"))) {
    const pid = asString(ctx, node, `${what}pid`);
    if (pid === "host") spec.pid = "host";
    else {
      ctx.warn(
        "unsupported",
        lineOf("pid"),
        name,
        `${what}pid: ${pid} is not supported and was ignored`,
      );
    }
  }
  if ((node = get("devices"))) {
    const list = devices(ctx, node, name);
    if (list.length > 0) spec.devices = list;
  }

  let networkModeLine: number | null = null;
  if ((node = get("network_mode"))) {
    const mode = asString(ctx, node, `${what}network_mode`).trim();
    if (mode === "") ctx.fail(`${what}network_mode is empty`, node.line);
    if (map.entries.has("networks") && !isNull(map.entries.get("networks")!.value)) {
      ctx.fail(`${what}network_mode and networks cannot be used together`, node.line);
    }
    spec.network_mode = mode;
    networkModeLine = node.line;
  } else if ((node = get("networks"))) {
    spec.networks = serviceNetworks(ctx, node, name, networks).networks;
  }
  // Binds were judged entry by entry (with their own lines); the rest by lib/risks.ts here.
  for (
    const risk of risksOf({
      capAdd: spec.cap_add,
      privileged: spec.privileged,
      pid: spec.pid,
      ipc: spec.ipc,
      networkMode: spec.network_mode,
      devices: spec.devices,
    })
  ) {
    ctx.warn("risk", lineOf(risk.setting), name, `${what}${risk.message}`);
  }
  if (!spec.network_mode && Object.keys(spec.networks).length === 0) {
    spec.networks = { default: { aliases: [] } };
  }

  const dependsLines = new Map<string, number>();
  if ((node = get("depends_on"))) {
    spec.depends_on = dependsOn(ctx, node, name);
    const lines = node.kind === "map"
      ? [...node.entries.values()].map((e) => [e.key, e.keyLine] as const)
      : node.kind === "seq"
      ? node.items.map((item) => [item.kind === "scalar" ? item.text : "", item.line] as const)
      : [];
    for (const [key, line] of lines) dependsLines.set(key, line);
  }
  return { spec, dependsLines, networkModeLine };
}

/** Builds the project from the parsed (not yet interpolated) root map. */
export function normaliseProject(root: YMap, options: NormaliseOptions): ComposeProject {
  const ctx = new Context(options);

  for (const entry of root.entries.values()) {
    const key = entry.key;
    if (TOP_LEVEL_KEYS.has(key) || key.startsWith("x-")) continue;
    if (key in UNSUPPORTED_TOP_LEVEL) {
      ctx.warn("unsupported", entry.keyLine, null, UNSUPPORTED_TOP_LEVEL[key]);
    } else {
      ctx.warn(
        "unknown",
        entry.keyLine,
        null,
        `Unknown top-level key ${JSON.stringify(key)} was ignored`,
      );
    }
  }
  const version = root.entries.get("version");
  if (version) {
    ctx.warn(
      "obsolete",
      version.keyLine,
      null,
      "version: is obsolete and was ignored (the Compose Specification needs none)",
    );
  }

  const networks = topLevel<NetworkSpec>(ctx, root.entries.get("networks")?.value, "networks");
  const volumes = topLevel<VolumeSpec>(ctx, root.entries.get("volumes")?.value, "volumes");

  const servicesEntry = root.entries.get("services");
  if (!servicesEntry || isNull(servicesEntry.value)) {
    return ctx.fail("The file has no services:", servicesEntry?.keyLine ?? null);
  }
  const servicesMap = asMap(ctx, servicesEntry.value, "services");
  const names = [...servicesMap.entries.keys()];
  if (names.length === 0) ctx.fail("services: is empty", servicesEntry.keyLine);
  names.sort();

  const pending = new Map<string, PendingService>();
  const skipped = new Set<string>();
  for (const name of names) {
    const result = service(ctx, name, servicesMap.entries.get(name)!, networks, volumes);
    if (result) pending.set(name, result);
    else skipped.add(name);
  }

  // Services that share the network stack of a skipped service cannot run either.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, { spec, networkModeLine }] of pending) {
      const target = spec.network_mode?.startsWith("service:")
        ? spec.network_mode.slice("service:".length)
        : null;
      if (target === null) continue;
      if (!names.includes(target)) {
        ctx.fail(
          `${prefix(name)}network_mode refers to the unknown service ${JSON.stringify(target)}`,
          networkModeLine,
        );
      }
      if (skipped.has(target)) {
        ctx.warn(
          "unsupported",
          networkModeLine,
          name,
          `${prefix(name)}shares the network of ${
            JSON.stringify(target)
          }, which was skipped, so it was skipped too`,
        );
        pending.delete(name);
        skipped.add(name);
        changed = true;
      }
    }
  }

  const containerNames = new Map<string, string>();
  for (const [name, { spec, dependsLines, networkModeLine }] of pending) {
    for (const dependency of Object.keys(spec.depends_on)) {
      const line = dependsLines.get(dependency) ?? spec.line;
      if (skipped.has(dependency)) {
        ctx.warn(
          "unsupported",
          line,
          name,
          `${prefix(name)}depends on ${
            JSON.stringify(dependency)
          }, which was skipped; the dependency was dropped`,
        );
        delete spec.depends_on[dependency];
      } else if (!pending.has(dependency)) {
        ctx.fail(
          `${prefix(name)}depends_on names the unknown service ${JSON.stringify(dependency)}`,
          line,
        );
      }
    }
    // Sharing another service's network stack means starting after it.
    const target = spec.network_mode?.startsWith("service:")
      ? spec.network_mode.slice("service:".length)
      : null;
    if (target && !Object.hasOwn(spec.depends_on, target)) {
      // As compose-go does: the implied dependency restarts this service with its target.
      setOwn(spec.depends_on, target, {
        condition: "service_started",
        required: true,
        restart: true,
      });
      dependsLines.set(target, networkModeLine ?? spec.line);
    }
    if (spec.container_name) {
      const other = containerNames.get(spec.container_name);
      if (other) {
        ctx.fail(
          `${prefix(name)}container_name ${JSON.stringify(spec.container_name)} is also used by ${
            JSON.stringify(other)
          }`,
          spec.line,
        );
      }
      containerNames.set(spec.container_name, name);
    }
  }

  const services = [...pending.values()].map((p) => p.spec);
  const projectNetworks: Record<string, NetworkSpec> = {};
  for (const [key, { spec }] of networks) setOwn(projectNetworks, key, spec);
  if (!networks.has("default") && services.some((s) => Object.hasOwn(s.networks, "default"))) {
    setOwn(projectNetworks, "default", { name: `${ctx.project}_default`, external: false });
  }
  const projectVolumes: Record<string, VolumeSpec> = {};
  for (const [key, { spec }] of volumes) setOwn(projectVolumes, key, spec);

  return {
    name: ctx.project,
    services,
    networks: projectNetworks,
    volumes: projectVolumes,
    warnings: options.warnings,
  };
}

/** A service with only its name, line and image: every other setting at its default. */
export function newServiceSpec(name: string, line: number, image: string): ServiceSpec {
  return {
    name,
    line,
    image,
    environment: {},
    labels: {},
    ports: [],
    expose: [],
    volumes: [],
    networks: {},
    restart: { name: "no", max_retries: 0 },
    depends_on: {},
    cap_add: [],
    cap_drop: [],
    extra_hosts: [],
    sysctls: {},
    tty: false,
    stdin_open: false,
    privileged: false,
  };
}
