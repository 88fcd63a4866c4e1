/** One service: its keys in order, each read by its normaliser in keys/. */
import { InvalidReferenceError } from "../../docker/errors.ts";
import { parseReference } from "../../docker/reference.ts";
import { risksOf } from "../../risks.ts";
import { shown } from "../errors.ts";
import type { NetworkSpec, ServiceSpec, VolumeSpec } from "../types.ts";
import type { YEntry, YNode } from "../yaml.ts";
import {
  asBool,
  asMap,
  asString,
  asText,
  type Context,
  type Declared,
  duration,
  isNull,
  prefix,
  record,
} from "../readers.ts";
import { dependsOn } from "./depends_on.ts";
import { deploy } from "./deploy.ts";
import { devices } from "./devices.ts";
import { envFileValues, keyValues, plainKey } from "./environment.ts";
import { serviceNetworks } from "./networks.ts";
import { expose, ports } from "./ports.ts";
import { capabilities, commandLine, extraHosts, healthcheck, restartPolicy } from "./process.ts";
import { tmpfs, volumes } from "./volumes.ts";
import { build } from "./build.ts";
import { fileReferences } from "./secrets.ts";

const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/;
const SERVICE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

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
  "secrets",
  "configs",
  "tmpfs",
  "deploy",
  // Read before the service itself (normalise.ts, keys/extends.ts), never interpolated here.
  "profiles",
  "extends",
]);

const READ_BEFORE = new Set(["build", "profiles", "extends"]);

/** Compose features this panel does not implement: dropped with an `unsupported` warning. */
const UNSUPPORTED_SERVICE_KEYS: Record<string, string> = {};

export interface PendingService {
  spec: ServiceSpec;
  /** Line of each depends_on entry / network_mode, for messages. */
  dependsLines: Map<string, number>;
  networkModeLine: number | null;
}

export function service(
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

  const buildNode = get("build");
  const imageNode = get("image");
  if (!imageNode && !buildNode) {
    ctx.fail(`Service ${JSON.stringify(name)} needs an image: or a build:`, entry.keyLine);
  }

  // Unknown, unsupported and extension keys first: none of them is interpolated.
  for (const [key, found] of map.entries) {
    if (SERVICE_KEYS.has(key) || key.startsWith("x-")) continue;
    if (key in UNSUPPORTED_SERVICE_KEYS) {
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
    if (SERVICE_KEYS.has(key) && !READ_BEFORE.has(key)) ctx.interpolate(found.value, name, key);
  }

  // Built without image:, the image is named as compose v2 names it: <project>-<service>.
  const image = imageNode
    ? asString(ctx, imageNode, `${what}image`).trim()
    : `${ctx.project}-${name}`.toLowerCase();
  try {
    parseReference(image);
  } catch (error) {
    if (error instanceof InvalidReferenceError) {
      ctx.fail(`${what}${error.message}`, imageNode?.line ?? entry.keyLine);
    }
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
  if (buildNode) spec.build = build(ctx, buildNode, name);
  if ((node = get("secrets"))) spec.secrets = fileReferences(ctx, node, name, "secrets");
  if ((node = get("configs"))) spec.configs = fileReferences(ctx, node, name, "configs");
  if ((node = get("tmpfs"))) {
    const list = tmpfs(ctx, node, name);
    if (list.length > 0) spec.tmpfs = list;
  }
  if ((node = get("deploy"))) {
    const settings = deploy(ctx, node, name);
    if (settings.resources) spec.resources = settings.resources;
    if (settings.replicas !== undefined) spec.replicas = settings.replicas;
    if (spec.container_name && settings.replicas !== undefined && settings.replicas > 1) {
      ctx.fail(
        `${what}container_name ${
          shown(spec.container_name)
        } names one container, but deploy.replicas asks for ${settings.replicas} replicas: remove container_name to run several (as the CLI requires)`,
        lineOf("deploy"),
      );
    }
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
