/**
 * `include:` — other compose files of the stack directory whose services, networks and
 * volumes join this project, as compose-go imports them: a name the including file also
 * defines differently is an error, relative bind sources keep naming the included file's
 * folder, and included files may include others (a cycle is an error).
 */
import { shown } from "../errors.ts";
import type { YEntry, YMap, YNode } from "../yaml.ts";
import { asMap, asSeq, asString, checkKeys, type Context, isNull } from "../readers.ts";
import { loadStackFile, rebaseVolumes, relativeFile } from "./files.ts";

const SECTIONS = ["services", "networks", "volumes"] as const;

export function applyInclude(ctx: Context, root: YMap) {
  includeInto(ctx, root, "", root, [""]);
}

function includeInto(ctx: Context, into: YMap, file: string, from: YMap, chain: string[]) {
  const entry = from.entries.get("include");
  if (!entry || isNull(entry.value)) return;
  const where = file ? ` in ${file}` : "";
  ctx.interpolate(entry.value, null, "include");
  asSeq(ctx, entry.value, `include${where}`).forEach((item, i) => {
    const what = `include[${i}]${where}`;
    let paths: YNode[];
    if (item.kind === "map") {
      checkKeys(ctx, item, ["path"], null, `include[${i}]`, ["project_directory", "env_file"]);
      const path = item.entries.get("path")?.value;
      if (isNull(path)) ctx.fail(`${what} needs a path`, item.line);
      paths = path!.kind === "seq" ? path!.items : [path!];
    } else {
      paths = [item];
    }
    for (const node of paths) {
      const name = asString(ctx, node, what);
      const path = relativeFile(ctx, file, name, { what, line: node.line });
      if (chain.includes(path)) {
        ctx.fail(`${what}: including ${shown(path)} makes a cycle`, node.line);
      }
      const loaded = loadStackFile(ctx, path, what, node.line);
      includeInto(ctx, loaded.root, path, loaded.root, [...chain, path]);
      for (const section of SECTIONS) merge(ctx, into, loaded.root, section, path, what, node.line);
    }
  });
}

function merge(
  ctx: Context,
  into: YMap,
  included: YMap,
  section: (typeof SECTIONS)[number],
  path: string,
  what: string,
  line: number,
) {
  const source = included.entries.get(section);
  if (!source || isNull(source.value)) return;
  const map = asMap(ctx, source.value, `${section} in ${path}`);
  let target = into.entries.get(section);
  if (!target || isNull(target.value)) {
    target = { key: section, keyLine: line, value: { kind: "map", entries: new Map(), line } };
    into.entries.set(section, target);
  }
  const targetMap = asMap(ctx, target.value, section);
  for (const [key, entry] of map.entries) {
    const value = section === "services" ? rebaseVolumes(entry.value, path, "") : entry.value;
    const existing = targetMap.entries.get(key);
    if (existing && !sameTree(existing.value, value)) {
      ctx.fail(
        `${what}: ${section}.${key} from ${
          shown(path)
        } conflicts with a definition of the same name`,
        existing.keyLine,
      );
    }
    if (!existing) targetMap.entries.set(key, { ...entry, value } as YEntry);
  }
}

/** Same content, lines aside. */
function sameTree(a: YNode, b: YNode): boolean {
  if (a.kind === "scalar" || b.kind === "scalar") {
    return a.kind === b.kind && (a as { value: unknown }).value === (b as { value: unknown }).value;
  }
  if (a.kind === "seq" || b.kind === "seq") {
    return a.kind === "seq" && b.kind === "seq" && a.items.length === b.items.length &&
      a.items.every((item, i) => sameTree(item, b.items[i]));
  }
  if (a.entries.size !== b.entries.size) return false;
  for (const [key, entry] of a.entries) {
    const other = b.entries.get(key);
    if (!other || !sameTree(entry.value, other.value)) return false;
  }
  return true;
}
