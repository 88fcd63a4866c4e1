/** networks: of a service. */
import { shown } from "../errors.ts";
import type { NetworkSpec, ServiceSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asMap,
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
