/** The top-level networks: and volumes: sections. */
import { shown } from "../errors.ts";
import type { NetworkSpec, VolumeSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asBool,
  asMap,
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
