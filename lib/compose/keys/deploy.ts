/**
 * `deploy:` as the compose CLI applies it outside swarm mode: resources.limits (memory,
 * cpus, pids) and resources.reservations.memory become the container's limits, and
 * replicas the number of containers. Everything else in deploy: is swarm-only.
 */
import { shown } from "../errors.ts";
import type { ServiceResources } from "../types.ts";
import type { YMap, YNode } from "../yaml.ts";
import { asInt, asMap, byteSize, checkKeys, type Context, isNull, prefix } from "../readers.ts";

export interface DeploySettings {
  resources?: ServiceResources;
  replicas?: number;
}

/** Most containers one service may ask for. */
export const MAX_REPLICAS = 100;

export function deploy(ctx: Context, node: YNode, service: string): DeploySettings {
  const what = `${prefix(service)}deploy`;
  const map = asMap(ctx, node, what);
  checkKeys(ctx, map, ["resources", "replicas", "restart_policy"], service, "deploy", [
    "mode",
    "endpoint_mode",
    "labels",
    "placement",
    "rollback_config",
    "update_config",
  ]);
  const restartPolicy = map.entries.get("restart_policy");
  if (restartPolicy) {
    ctx.warn(
      "unsupported",
      restartPolicy.keyLine,
      service,
      `${what}.restart_policy is not supported and was ignored; note that it would have overridden restart: in Docker Compose`,
    );
  }
  const out: DeploySettings = {};
  const replicas = map.entries.get("replicas")?.value;
  if (!isNull(replicas)) {
    const count = asInt(ctx, replicas!, `${what}.replicas`, 0, MAX_REPLICAS);
    if (count !== 1) out.replicas = count;
  }
  const resourcesNode = map.entries.get("resources")?.value;
  if (!isNull(resourcesNode)) {
    const resources = asMap(ctx, resourcesNode!, `${what}.resources`);
    checkKeys(ctx, resources, ["limits", "reservations"], service, "deploy.resources");
    const result: ServiceResources = {};
    const limits = section(ctx, resources, "limits", service, ["cpus", "memory", "pids"], []);
    if (limits) {
      const memory = limits.entries.get("memory")?.value;
      if (!isNull(memory)) {
        result.memory_bytes = byteSize(ctx, memory!, `${what}.resources.limits.memory`);
      }
      const cpus = limits.entries.get("cpus")?.value;
      if (!isNull(cpus)) {
        result.nano_cpus = nanoCpus(ctx, cpus!, `${what}.resources.limits.cpus`);
      }
      const pids = limits.entries.get("pids")?.value;
      if (!isNull(pids)) {
        result.pids = asInt(ctx, pids!, `${what}.resources.limits.pids`, 0, 4_194_304);
      }
    }
    // As the CLI: a cpu reservation is a swarm option and pids is only a limit.
    const reservations = section(ctx, resources, "reservations", service, ["memory"], [
      "cpus",
      "devices",
      "generic_resources",
      "pids",
    ]);
    const memory = reservations?.entries.get("memory")?.value;
    if (!isNull(memory)) {
      result.memory_reservation_bytes = byteSize(
        ctx,
        memory!,
        `${what}.resources.reservations.memory`,
      );
    }
    if (
      result.memory_bytes && result.memory_reservation_bytes &&
      result.memory_reservation_bytes > result.memory_bytes
    ) {
      ctx.fail(
        `${what}.resources: the memory reservation is larger than the memory limit`,
        resources.line,
      );
    }
    for (const key of Object.keys(result) as (keyof ServiceResources)[]) {
      if (!result[key]) delete result[key];
    }
    if (Object.keys(result).length > 0) out.resources = result;
  }
  return out;
}

function section(
  ctx: Context,
  resources: YMap,
  key: string,
  service: string,
  known: string[],
  unsupported: string[],
): YMap | null {
  const node = resources.entries.get(key)?.value;
  if (isNull(node)) return null;
  const map = asMap(ctx, node!, `${prefix(service)}deploy.resources.${key}`);
  checkKeys(ctx, map, known, service, `deploy.resources.${key}`, unsupported);
  return map;
}

/** "0.5", 1.5 or 2 CPUs → the Engine's NanoCpus. */
function nanoCpus(ctx: Context, node: YNode, what: string): number {
  const text = node.kind === "scalar" ? node.text.trim() : "";
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < 0 || value > 1024) {
    ctx.fail(
      `${what} must be a number of CPUs like 0.5 or 2, got ${
        node.kind === "scalar" ? shown(node.text) : "a " + node.kind
      }`,
      node.line,
    );
  }
  return Math.round(value * 1e9);
}
