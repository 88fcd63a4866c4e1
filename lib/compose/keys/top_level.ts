/** The top-level networks: and volumes: sections. */
import { shown } from "../errors.ts";
import { type Cidr, contains, overlaps, parseCidr, parseIp } from "../../docker/cidr.ts";
import type { NetworkIpam, NetworkSpec, VolumeSpec } from "../types.ts";
import type { YMap, YNode } from "../yaml.ts";
import {
  asBool,
  asMap,
  asSeq,
  asString,
  checkKeys,
  type Context,
  type Declared,
  ENGINE_NAME_RE,
  isNull,
  KEY_RE,
} from "../readers.ts";

export function topLevel<T extends NetworkSpec | VolumeSpec>(
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
    // `x-` keys here are names (compose-go treats them as user-defined), not extensions.
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
        section === "networks"
          ? ["name", "external", "driver", "ipam", "enable_ipv6"]
          : ["name", "external", "driver"],
        null,
        what,
        section === "networks"
          ? ["driver_opts", "attachable", "internal", "labels", "enable_ipv4"]
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
    let extra: Partial<NetworkSpec> = {};
    if (section === "networks" && !isNull(entry.value) && entry.value.kind === "map") {
      extra = networkOptions(ctx, entry.value, what, external);
    }
    const engineName = name ?? (external ? key : `${ctx.project}_${key}`);
    if (!ENGINE_NAME_RE.test(engineName)) {
      ctx.fail(`${what}: ${shown(engineName)} is not a valid ${noun} name`, entry.keyLine);
    }
    out.set(key, {
      spec: { name: engineName, external, ...(driver ? { driver } : {}), ...extra } as T,
      line: entry.keyLine,
    });
  }
  return out;
}

/** A network's ipam: and enable_ipv6:, checked as the Engine would check them. */
function networkOptions(
  ctx: Context,
  options: YMap,
  what: string,
  external: boolean,
): Partial<NetworkSpec> {
  const out: Partial<NetworkSpec> = {};
  const ipv6Node = options.entries.get("enable_ipv6")?.value;
  if (!isNull(ipv6Node)) {
    const enabled = asBool(ctx, ipv6Node!, `${what}.enable_ipv6`);
    if (enabled && !external) out.enable_ipv6 = true;
  }
  const ipamNode = options.entries.get("ipam")?.value;
  if (isNull(ipamNode)) return out;
  const ipamMap = asMap(ctx, ipamNode!, `${what}.ipam`);
  checkKeys(ctx, ipamMap, ["driver", "config"], null, `${what}.ipam`, ["options"]);
  if (external) {
    ctx.warn(
      "unknown",
      ipamMap.line,
      null,
      `${what}.ipam does not apply to an external network and was ignored`,
    );
    return out;
  }
  const ipam: NetworkIpam = { config: [] };
  const driverNode = ipamMap.entries.get("driver")?.value;
  if (!isNull(driverNode)) ipam.driver = asString(ctx, driverNode!, `${what}.ipam.driver`);
  const configNode = ipamMap.entries.get("config")?.value;
  const subnets: Cidr[] = [];
  if (!isNull(configNode)) {
    asSeq(ctx, configNode!, `${what}.ipam.config`).forEach((item, i) => {
      const at = `${what}.ipam.config[${i}]`;
      const map = asMap(ctx, item, at);
      checkKeys(ctx, map, ["subnet", "ip_range", "gateway"], null, `${what}.ipam.config[${i}]`, [
        "aux_addresses",
      ]);
      const text = (key: string) => {
        const node = map.entries.get(key)?.value;
        return isNull(node)
          ? undefined
          : { value: asString(ctx, node!, `${at}.${key}`).trim(), line: node!.line };
      };
      const subnet = text("subnet");
      const range = text("ip_range");
      const gateway = text("gateway");
      let cidr: Cidr | undefined;
      if (subnet) {
        const parsed = parseCidr(subnet.value);
        if ("error" in parsed) ctx.fail(`${at}.subnet: ${parsed.error}`, subnet.line);
        const clash = subnets.find((other) => overlaps(other, parsed));
        if (clash) {
          ctx.fail(`${at}.subnet ${subnet.value} overlaps ${clash.text}`, subnet.line);
        }
        subnets.push(parsed);
        cidr = parsed;
      }
      if (range) {
        const parsed = parseCidr(range.value);
        if ("error" in parsed) ctx.fail(`${at}.ip_range: ${parsed.error}`, range.line);
        if (!cidr) ctx.fail(`${at}.ip_range needs a subnet`, range.line);
        if (
          parsed.family !== cidr.family || parsed.prefix < cidr.prefix ||
          !contains(cidr, { family: parsed.family, value: parsed.network })
        ) {
          ctx.fail(
            `${at}.ip_range ${range.value} is not inside the subnet ${cidr.text}`,
            range.line,
          );
        }
      }
      if (gateway) {
        const parsed = parseIp(gateway.value);
        if (!parsed) {
          ctx.fail(`${at}.gateway: ${shown(gateway.value)} is not an IP address`, gateway.line);
        }
        if (!cidr) ctx.fail(`${at}.gateway needs a subnet`, gateway.line);
        if (!contains(cidr, parsed)) {
          ctx.fail(
            `${at}.gateway ${gateway.value} is outside the subnet ${cidr.text}`,
            gateway.line,
          );
        }
      }
      ipam.config.push({
        ...(subnet ? { subnet: subnet.value } : {}),
        ...(range ? { ip_range: range.value } : {}),
        ...(gateway ? { gateway: gateway.value } : {}),
      });
    });
  }
  out.ipam = ipam;
  return out;
}
