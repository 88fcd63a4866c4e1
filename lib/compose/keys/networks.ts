/** networks: of a service. */
import { shown } from "../errors.ts";
import { contains, parseCidr, parseIp } from "../../docker/cidr.ts";
import type { NetworkSpec, ServiceNetwork, ServiceSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asInt,
  asMap,
  asString,
  checkKeys,
  type Context,
  type Declared,
  isNull,
  prefix,
  setOwn,
  stringList,
} from "../readers.ts";

export function serviceNetworks(
  ctx: Context,
  node: YNode,
  service: string,
  declared: Map<string, Declared<NetworkSpec>>,
): { networks: ServiceSpec["networks"]; lines: Map<string, number> } {
  const what = `${prefix(service)}networks`;
  const networks: ServiceSpec["networks"] = {};
  const lines = new Map<string, number>();
  const use = (key: string, line: number, settings: ServiceNetwork) => {
    if (key !== "default" && !declared.has(key)) {
      ctx.fail(
        `${what}: the network ${JSON.stringify(key)} is not declared under the top-level networks:`,
        line,
      );
    }
    setOwn(networks, key, settings);
    lines.set(key, line);
  };
  if (node.kind === "seq") {
    for (const { value, line } of stringList(ctx, node, what)) use(value, line, { aliases: [] });
    return { networks: byPriority(networks), lines };
  }
  const map = asMap(ctx, node, what);
  for (const entry of map.entries.values()) {
    const settings: ServiceNetwork = { aliases: [] };
    const at = `${what}.${entry.key}`;
    if (!isNull(entry.value)) {
      const options = asMap(ctx, entry.value, at);
      checkKeys(
        ctx,
        options,
        ["aliases", "ipv4_address", "ipv6_address", "priority"],
        service,
        `networks.${entry.key}`,
        ["link_local_ips", "mac_address", "driver_opts", "gw_priority", "interface_name"],
      );
      const get = (key: string) => {
        const value = options.entries.get(key)?.value;
        return isNull(value) ? undefined : value;
      };
      const aliasNode = get("aliases");
      if (aliasNode) {
        settings.aliases = stringList(ctx, aliasNode, `${at}.aliases`).map(
          ({ value, line }) => {
            if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value)) {
              ctx.fail(`${at}.aliases: ${shown(value)} is not a valid alias`, line);
            }
            return value;
          },
        );
      }
      for (const [key, family] of [["ipv4_address", 4], ["ipv6_address", 6]] as const) {
        const addressNode = get(key);
        if (!addressNode) continue;
        const address = asString(ctx, addressNode, `${at}.${key}`).trim();
        const parsed = parseIp(address);
        if (!parsed || parsed.family !== family) {
          ctx.fail(
            `${at}.${key}: ${shown(address)} is not an IPv${family} address`,
            addressNode.line,
          );
        }
        const subnets = declared.get(entry.key)?.spec.ipam?.config.flatMap((c) =>
          c.subnet ? [c.subnet] : []
        ) ?? [];
        const cidrs = subnets.map(parseCidrOrNull).filter((c) => c?.family === family);
        if (cidrs.length === 0) {
          ctx.fail(
            `${at}.${key} needs an IPv${family} subnet under networks.${entry.key}.ipam.config (the Engine only assigns fixed addresses on user-configured subnets)`,
            addressNode.line,
          );
        }
        if (!cidrs.some((cidr) => contains(cidr!, parsed))) {
          ctx.fail(
            `${at}.${key}: ${address} is outside the subnet ${subnets.join(", ")} of ${entry.key}`,
            addressNode.line,
          );
        }
        settings[key] = address;
      }
      const priorityNode = get("priority");
      if (priorityNode) {
        const priority = asInt(ctx, priorityNode, `${at}.priority`, -1_000_000, 1_000_000);
        if (priority !== 0) settings.priority = priority;
      }
    }
    use(entry.key, entry.keyLine, settings);
  }
  return { networks: byPriority(networks), lines };
}

/** The CLI's order: the highest priority first, then by key. */
function byPriority(networks: ServiceSpec["networks"]): ServiceSpec["networks"] {
  const keys = Object.keys(networks).sort((a, b) =>
    (networks[b].priority ?? 0) - (networks[a].priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0)
  );
  const out: ServiceSpec["networks"] = {};
  for (const key of keys) setOwn(out, key, networks[key]);
  return out;
}

function parseCidrOrNull(text: string) {
  const cidr = parseCidr(text);
  return "error" in cidr ? null : cidr;
}
