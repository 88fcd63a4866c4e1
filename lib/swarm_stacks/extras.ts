/**
 * What a swarm stack needs from a compose file beyond the normalised project (which is
 * shaped for containers): `deploy:` as swarm reads it, secret and config references with
 * their targets as written, port publish modes, network and volume options, and the keys
 * swarm ignores, each with its line. Read from the YAML tree after `include:` and
 * `extends:` are applied, values interpolated as the parser does.
 */
import { shown } from "../compose/errors.ts";
import { applyExtends } from "../compose/keys/extends.ts";
import { applyInclude } from "../compose/keys/include.ts";
import {
  asBool,
  asInt,
  asMap,
  asSeq,
  asString,
  asText,
  byteSize,
  Context,
  duration,
  isNull,
  KEY_RE,
  prefix,
  record,
} from "../compose/readers.ts";
import type { YMap, YNode } from "../compose/yaml.ts";

export type SwarmMode = "replicated" | "global" | "replicated-job" | "global-job";

export interface SwarmUpdateConfig {
  parallelism: number;
  delay_ns?: number;
  failure_action?: "continue" | "pause" | "rollback";
  monitor_ns?: number;
  max_failure_ratio?: number;
  order?: "stop-first" | "start-first";
}

export interface SwarmRestartPolicy {
  condition?: "none" | "on-failure" | "any";
  delay_ns?: number;
  max_attempts?: number;
  window_ns?: number;
}

export interface SwarmDeploy {
  mode?: SwarmMode;
  replicas?: number;
  labels: Record<string, string>;
  constraints: string[];
  preferences: string[];
  max_replicas_per_node?: number;
  limits?: { nano_cpus?: number; memory_bytes?: number; pids?: number };
  reservations?: { nano_cpus?: number; memory_bytes?: number };
  update_config?: SwarmUpdateConfig;
  rollback_config?: SwarmUpdateConfig;
  restart_policy?: SwarmRestartPolicy;
  endpoint_mode?: "vip" | "dnsrr";
}

/** A service's use of a secret or config, with the target as written (swarm resolves it). */
export interface SwarmFileReference {
  source: string;
  target: string;
  uid: string;
  gid: string;
  mode: number;
}

export interface SwarmObjectSpec {
  /** The name on the swarm: `name:` when given, else `<stack>_<key>` (set by convert). */
  name?: string;
  external: boolean;
  /** Relative to the stack folder. */
  file?: string;
  content?: string;
  labels: Record<string, string>;
}

export interface IgnoredKey {
  service?: string;
  key: string;
  line?: number;
  message: string;
}

export interface ServiceExtras {
  deploy: SwarmDeploy;
  secrets: SwarmFileReference[];
  configs: SwarmFileReference[];
  /** "target/protocol" of the long-syntax ports with `mode: host`. */
  host_ports: string[];
  /** A `restart:` value given, and whether deploy.restart_policy overrides it. */
  restart?: string;
  ignored: IgnoredKey[];
}

export interface StackExtras {
  services: Record<string, ServiceExtras>;
  networks: Record<
    string,
    {
      attachable: boolean;
      internal: boolean;
      labels: Record<string, string>;
      driver_opts: Record<string, string>;
    }
  >;
  volumes: Record<string, { labels: Record<string, string>; driver_opts: Record<string, string> }>;
  secrets: Record<string, SwarmObjectSpec>;
  configs: Record<string, SwarmObjectSpec>;
}

/** Service keys `docker stack deploy` does not apply, and what the preview says of each. */
export const IGNORED_SERVICE_KEYS: Record<string, string> = {
  build:
    "swarm does not build images: build the image and push it to a registry the nodes can pull from",
  container_name: "swarm names the tasks itself",
  depends_on: "swarm starts services in no particular order",
  links: "use networks: services on the same network reach each other by name",
  external_links: "use networks: services on the same network reach each other by name",
  network_mode: "swarm services join overlay networks (the stack's default network here)",
  privileged: "swarm services cannot run privileged",
  cap_add: "the panel does not add capabilities to swarm services",
  cap_drop: "the panel does not drop capabilities of swarm services",
  devices: "swarm services cannot use host devices",
  cgroup_parent: "not a swarm option",
  cgroupns_mode: "not a swarm option",
  domainname: "not a swarm option",
  ipc: "not a swarm option",
  pid: "not a swarm option",
  mac_address: "not a swarm option",
  security_opt: "not a swarm option",
  shm_size: "not a swarm option",
  userns_mode: "not a swarm option",
  expose: "services on the same network reach each other's ports without it",
};

/**
 * Reads the swarm settings of every service from `root` (a tree of its own: include:,
 * extends: and interpolation change it in place).
 */
export function readStackExtras(
  root: YMap,
  options: { project: string; vars: Map<string, string>; files?: Record<string, string> },
): StackExtras {
  const ctx = new Context({ ...options, warnings: [] });
  applyInclude(ctx, root);
  const servicesNode = root.entries.get("services")?.value;
  const servicesMap: YMap = servicesNode?.kind === "map"
    ? servicesNode
    : { kind: "map", entries: new Map(), line: 1 };
  applyExtends(ctx, servicesMap);
  const services = [...servicesMap.entries.keys()];

  const out: StackExtras = {
    services: {},
    networks: {},
    volumes: {},
    secrets: objects(ctx, root, "secrets"),
    configs: objects(ctx, root, "configs"),
  };
  for (const name of services) {
    const node = servicesMap.entries.get(name)?.value;
    if (node?.kind !== "map") continue;
    out.services[name] = serviceExtras(ctx, name, node);
  }
  for (const kind of ["networks", "volumes"] as const) {
    const node = root.entries.get(kind)?.value;
    if (!node || node.kind !== "map") continue;
    ctx.interpolate(node, null, kind);
    for (const entry of node.entries.values()) {
      const body = entry.value.kind === "map" ? entry.value : undefined;
      const labels = body ? keyValues(ctx, body.entries.get("labels")?.value, kind) : {};
      const driverOpts = body ? keyValues(ctx, body.entries.get("driver_opts")?.value, kind) : {};
      if (kind === "networks") {
        const flag = (key: string) => {
          const value = body?.entries.get(key)?.value;
          return isNull(value) ? false : asBool(ctx, value!, `networks.${entry.key}.${key}`);
        };
        out.networks[entry.key] = {
          attachable: flag("attachable"),
          internal: flag("internal"),
          labels,
          driver_opts: driverOpts,
        };
      } else {
        out.volumes[entry.key] = { labels, driver_opts: driverOpts };
      }
    }
  }
  return out;
}

function serviceExtras(ctx: Context, name: string, map: YMap): ServiceExtras {
  const what = prefix(name);
  const get = (key: string) => {
    const value = map.entries.get(key)?.value;
    if (value === undefined || isNull(value)) return undefined;
    ctx.interpolate(value, name, key);
    return value;
  };
  const extras: ServiceExtras = {
    deploy: { labels: {}, constraints: [], preferences: [] },
    secrets: [],
    configs: [],
    host_ports: [],
    ignored: [],
  };
  for (const entry of map.entries.values()) {
    if (Object.hasOwn(IGNORED_SERVICE_KEYS, entry.key)) {
      extras.ignored.push({
        service: name,
        key: entry.key,
        line: entry.keyLine,
        message: `${what}${entry.key} is ignored by swarm: ${IGNORED_SERVICE_KEYS[entry.key]}`,
      });
    }
  }
  let node: YNode | undefined;
  if ((node = get("deploy"))) extras.deploy = deploySettings(ctx, node, name);
  for (const kind of ["secrets", "configs"] as const) {
    if ((node = get(kind))) extras[kind] = references(ctx, node, name, kind);
  }
  if ((node = get("ports")) && node.kind === "seq") {
    for (const item of node.items) {
      if (item.kind !== "map") continue;
      const mode = item.entries.get("mode")?.value;
      if (mode?.kind !== "scalar" || mode.text !== "host") continue;
      const target = item.entries.get("target")?.value;
      const protocol = item.entries.get("protocol")?.value;
      if (target?.kind !== "scalar") continue;
      extras.host_ports.push(
        `${target.text}/${protocol?.kind === "scalar" ? protocol.text.toLowerCase() : "tcp"}`,
      );
    }
  }
  const restart = map.entries.get("restart");
  if ((node = get("restart"))) {
    extras.restart = asText(ctx, node, `${what}restart`);
    const overridden = extras.deploy.restart_policy !== undefined;
    extras.ignored.push({
      service: name,
      key: "restart",
      line: restart!.keyLine,
      message: overridden
        ? `${what}restart is ignored by swarm: deploy.restart_policy applies`
        : `${what}restart is not a swarm option; as docker stack deploy does, it was applied as deploy.restart_policy (set that instead)`,
    });
  }
  return extras;
}

const MODES: SwarmMode[] = ["replicated", "global", "replicated-job", "global-job"];

function deploySettings(ctx: Context, node: YNode, service: string): SwarmDeploy {
  const what = `${prefix(service)}deploy`;
  const map = asMap(ctx, node, what);
  const get = (m: YMap, key: string) => {
    const value = m.entries.get(key)?.value;
    return value === undefined || isNull(value) ? undefined : value;
  };
  const out: SwarmDeploy = { labels: {}, constraints: [], preferences: [] };
  let value: YNode | undefined;
  if ((value = get(map, "mode"))) {
    const mode = asString(ctx, value, `${what}.mode`) as SwarmMode;
    if (!MODES.includes(mode)) {
      ctx.fail(`${what}.mode must be one of ${MODES.join(", ")}, got ${shown(mode)}`, value.line);
    }
    out.mode = mode;
  }
  if ((value = get(map, "replicas"))) {
    out.replicas = asInt(ctx, value, `${what}.replicas`, 0, 10_000);
    if (out.mode === "global" || out.mode === "global-job") {
      ctx.fail(
        `${what}.replicas can only be used with replicated or replicated-job mode`,
        value.line,
      );
    }
  }
  if ((value = get(map, "labels"))) out.labels = keyValues(ctx, value, `${what}.labels`);
  if ((value = get(map, "endpoint_mode"))) {
    const mode = asString(ctx, value, `${what}.endpoint_mode`).toLowerCase();
    if (mode !== "vip" && mode !== "dnsrr") {
      ctx.fail(`${what}.endpoint_mode must be vip or dnsrr, got ${shown(mode)}`, value.line);
    }
    out.endpoint_mode = mode;
  }
  if ((value = get(map, "placement"))) {
    const placement = asMap(ctx, value, `${what}.placement`);
    let item: YNode | undefined;
    if ((item = get(placement, "constraints"))) {
      out.constraints = asSeq(ctx, item, `${what}.placement.constraints`).map((c, i) =>
        asString(ctx, c, `${what}.placement.constraints[${i}]`)
      );
    }
    if ((item = get(placement, "preferences"))) {
      out.preferences = asSeq(ctx, item, `${what}.placement.preferences`).map((p, i) => {
        const spread = p.kind === "map" ? get(p, "spread") : undefined;
        if (!spread) {
          ctx.fail(`${what}.placement.preferences[${i}] needs spread:`, p.line);
        }
        return asString(ctx, spread!, `${what}.placement.preferences[${i}].spread`);
      });
    }
    if ((item = get(placement, "max_replicas_per_node"))) {
      out.max_replicas_per_node = asInt(
        ctx,
        item,
        `${what}.placement.max_replicas_per_node`,
        0,
        10_000,
      );
    }
  }
  if ((value = get(map, "resources"))) {
    const resources = asMap(ctx, value, `${what}.resources`);
    for (const kind of ["limits", "reservations"] as const) {
      const section = get(resources, kind);
      if (!section) continue;
      const m = asMap(ctx, section, `${what}.resources.${kind}`);
      const result: { nano_cpus?: number; memory_bytes?: number; pids?: number } = {};
      let v: YNode | undefined;
      if ((v = get(m, "cpus"))) {
        result.nano_cpus = nanoCpus(ctx, v, `${what}.resources.${kind}.cpus`);
      }
      if ((v = get(m, "memory"))) {
        result.memory_bytes = byteSize(ctx, v, `${what}.resources.${kind}.memory`);
      }
      if (kind === "limits" && (v = get(m, "pids"))) {
        result.pids = asInt(ctx, v, `${what}.resources.limits.pids`, 0, 4_194_304);
      }
      out[kind] = result;
    }
  }
  for (const key of ["update_config", "rollback_config"] as const) {
    if ((value = get(map, key))) out[key] = updateConfig(ctx, value, `${what}.${key}`);
  }
  if ((value = get(map, "restart_policy"))) {
    const m = asMap(ctx, value, `${what}.restart_policy`);
    const policy: SwarmRestartPolicy = {};
    let v: YNode | undefined;
    if ((v = get(m, "condition"))) {
      const condition = asString(ctx, v, `${what}.restart_policy.condition`);
      if (condition !== "none" && condition !== "on-failure" && condition !== "any") {
        ctx.fail(
          `${what}.restart_policy.condition must be none, on-failure or any, got ${
            shown(condition)
          }`,
          v.line,
        );
      }
      policy.condition = condition;
    }
    if ((v = get(m, "delay"))) policy.delay_ns = ns(ctx, v, `${what}.restart_policy.delay`);
    if ((v = get(m, "window"))) policy.window_ns = ns(ctx, v, `${what}.restart_policy.window`);
    if ((v = get(m, "max_attempts"))) {
      policy.max_attempts = asInt(ctx, v, `${what}.restart_policy.max_attempts`, 0, 1_000_000);
    }
    out.restart_policy = policy;
  }
  return out;
}

function updateConfig(ctx: Context, node: YNode, what: string): SwarmUpdateConfig {
  const map = asMap(ctx, node, what);
  const get = (key: string) => {
    const value = map.entries.get(key)?.value;
    return value === undefined || isNull(value) ? undefined : value;
  };
  const out: SwarmUpdateConfig = { parallelism: 1 };
  let v: YNode | undefined;
  if ((v = get("parallelism"))) out.parallelism = asInt(ctx, v, `${what}.parallelism`, 0, 10_000);
  if ((v = get("delay"))) out.delay_ns = ns(ctx, v, `${what}.delay`);
  if ((v = get("monitor"))) out.monitor_ns = ns(ctx, v, `${what}.monitor`);
  if ((v = get("failure_action"))) {
    const action = asString(ctx, v, `${what}.failure_action`);
    if (action !== "continue" && action !== "pause" && action !== "rollback") {
      ctx.fail(
        `${what}.failure_action must be continue, pause or rollback, got ${shown(action)}`,
        v.line,
      );
    }
    out.failure_action = action;
  }
  if ((v = get("order"))) {
    const order = asString(ctx, v, `${what}.order`);
    if (order !== "stop-first" && order !== "start-first") {
      ctx.fail(`${what}.order must be stop-first or start-first, got ${shown(order)}`, v.line);
    }
    out.order = order;
  }
  if ((v = get("max_failure_ratio"))) {
    const ratio = Number(v.kind === "scalar" ? v.text : NaN);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      ctx.fail(`${what}.max_failure_ratio must be a number from 0 to 1`, v.line);
    }
    out.max_failure_ratio = ratio;
  }
  return out;
}

function references(
  ctx: Context,
  node: YNode,
  service: string,
  kind: "secrets" | "configs",
): SwarmFileReference[] {
  return asSeq(ctx, node, `${prefix(service)}${kind}`).map((item, i) => {
    const what = `${prefix(service)}${kind}[${i}]`;
    if (item.kind === "scalar") {
      const source = asString(ctx, item, what);
      return { source, target: source, uid: "0", gid: "0", mode: 0o444 };
    }
    const map = asMap(ctx, item, what);
    const get = (key: string) => {
      const value = map.entries.get(key)?.value;
      return value === undefined || isNull(value) ? undefined : value;
    };
    const sourceNode = get("source");
    if (!sourceNode) ctx.fail(`${what} needs a source`, item.line);
    const source = asString(ctx, sourceNode!, `${what}.source`);
    const target = get("target");
    const id = (key: string) => {
      const value = get(key);
      if (!value) return "0";
      const text = value.kind === "scalar" ? value.text.trim() : "";
      if (!/^\d{1,10}$/.test(text)) ctx.fail(`${what}.${key} must be a numeric id`, value.line);
      return text;
    };
    const modeNode = get("mode");
    let mode = 0o444;
    if (modeNode) {
      const text = modeNode.kind === "scalar" ? modeNode.text.trim() : "";
      mode = /^0o?[0-7]+$/i.test(text)
        ? parseInt(text.replace(/^0o?/i, "") || "0", 8)
        : /^\d+$/.test(text)
        ? Number(text)
        : NaN;
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
        ctx.fail(`${what}.mode must be permission bits such as 0440`, modeNode.line);
      }
    }
    return {
      source,
      target: target ? asString(ctx, target, `${what}.target`) : source,
      uid: id("uid"),
      gid: id("gid"),
      mode,
    };
  });
}

function objects(
  ctx: Context,
  root: YMap,
  kind: "secrets" | "configs",
): Record<string, SwarmObjectSpec> {
  const out: Record<string, SwarmObjectSpec> = {};
  const node = root.entries.get(kind)?.value;
  if (!node || node.kind !== "map") return out;
  ctx.interpolate(node, null, kind);
  for (const entry of node.entries.values()) {
    const what = `${kind}.${entry.key}`;
    if (!KEY_RE.test(entry.key)) ctx.fail(`${shown(entry.key)} is not a valid name`, entry.keyLine);
    const body = asMap(ctx, entry.value, what);
    const get = (key: string) => {
      const value = body.entries.get(key)?.value;
      return value === undefined || isNull(value) ? undefined : value;
    };
    const spec: SwarmObjectSpec = {
      external: false,
      labels: keyValues(ctx, get("labels"), `${what}.labels`),
    };
    let value: YNode | undefined;
    if ((value = get("name"))) spec.name = asString(ctx, value, `${what}.name`);
    if ((value = get("external"))) spec.external = asBool(ctx, value, `${what}.external`);
    if (!spec.external) {
      if ((value = get("file"))) spec.file = asString(ctx, value, `${what}.file`);
      else if ((value = get("content"))) spec.content = asString(ctx, value, `${what}.content`);
      else if ((value = get("environment"))) {
        const variable = asString(ctx, value, `${what}.environment`);
        const found = ctx.lookup(variable);
        if (found === undefined) {
          ctx.fail(
            `${what}.environment: the variable ${
              JSON.stringify(variable)
            } is not set (the .env file does not set it)`,
            value.line,
          );
        }
        spec.content = found;
      } else {
        ctx.fail(`${what} needs one of file:, environment:, content: or external:`, entry.keyLine);
      }
    }
    Object.defineProperty(out, entry.key, { value: spec, enumerable: true, writable: true });
  }
  return out;
}

/** A map or a list of KEY=VALUE, as labels and driver_opts are written. */
function keyValues(ctx: Context, node: YNode | undefined, what: string): Record<string, string> {
  if (!node || isNull(node)) return {};
  if (node.kind === "map") {
    return record(
      [...node.entries.values()].map((
        e,
      ) => [e.key, isNull(e.value) ? "" : asText(ctx, e.value, `${what}.${e.key}`)]),
    );
  }
  return record(
    asSeq(ctx, node, what).map((item, i) => {
      const text = asText(ctx, item, `${what}[${i}]`);
      const at = text.indexOf("=");
      return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
    }),
  );
}

function ns(ctx: Context, node: YNode, what: string): number {
  return Math.round(duration(ctx, node, what) * 1e6);
}

function nanoCpus(ctx: Context, node: YNode, what: string): number {
  const text = node.kind === "scalar" ? node.text.trim() : "";
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value > 1024) {
    ctx.fail(`${what} must be a number of CPUs like 0.5 or 2`, node.line);
  }
  return Math.round(value * 1e9);
}
