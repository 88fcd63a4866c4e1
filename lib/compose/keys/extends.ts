/**
 * `extends:` — a service built on another one, in the same file or in another file of the
 * stack directory, merged as compose-go merges them (the local service wins): maps merge,
 * lists append, `command`/`entrypoint`/`healthcheck.test` are replaced, and key/value lists
 * (environment, labels, ...) merge by key. Runs on the YAML tree before interpolation; the
 * result is a fresh tree (a base used twice is never interpolated twice).
 */
import type { YEntry, YMap, YNode, YScalar } from "../yaml.ts";
import { asMap, asString, checkKeys, type Context, isNull, prefix } from "../readers.ts";
import { type LoadedFile, loadStackFile, rebaseVolumes, relativeFile } from "./files.ts";

/** Longest chain of extends, as a guard beside the cycle check. */
const MAX_EXTENDS_DEPTH = 32;

const REPLACED = new Set(["command", "entrypoint", "healthcheck.test"]);
const BY_KEY = new Set(["environment", "labels", "sysctls", "annotations", "build.args"]);
const UNIQUE = new Set(["ports", "expose", "cap_add", "cap_drop", "dns", "dns_search", "tmpfs"]);
const NAMED = new Set(["depends_on", "networks"]);

interface Source {
  /** "" for the compose file itself, else the path inside the stack directory. */
  file: string;
  services: YMap;
}

/**
 * Resolves `extends` for every service of `services` in place (each merged service
 * replaces its entry). Services of other files are looked up in `ctx.options.files`.
 */
export function applyExtends(ctx: Context, services: YMap) {
  const main: Source = { file: "", services };
  const done = new Map<string, YMap>();
  for (const [name, entry] of services.entries) {
    if (entry.value.kind !== "map" || !entry.value.entries.has("extends")) continue;
    const merged = resolve(ctx, main, name, [], done);
    services.entries.set(name, { ...entry, value: merged });
  }
}

function resolve(
  ctx: Context,
  source: Source,
  name: string,
  chain: string[],
  done: Map<string, YMap>,
): YMap {
  const id = `${source.file}#${name}`;
  const cached = done.get(id);
  if (cached) return cached;
  const entry = source.services.entries.get(name)!;
  const where = source.file ? ` in ${source.file}` : "";
  const service = asMap(ctx, entry.value, `Service ${JSON.stringify(name)}${where}`);
  const extendsEntry = service.entries.get("extends");
  if (!extendsEntry || isNull(extendsEntry.value)) return service;
  if (chain.includes(id) || chain.length >= MAX_EXTENDS_DEPTH) {
    ctx.fail(
      `${prefix(name)}extends makes a cycle (${[...chain, id].map(label).join(" → ")})`,
      extendsEntry.keyLine,
    );
  }
  const what = `${prefix(name)}extends`;
  ctx.interpolate(extendsEntry.value, name, "extends");
  let baseName: string;
  let baseSource = source;
  const node = extendsEntry.value;
  if (node.kind === "map") {
    checkKeys(ctx, node, ["service", "file"], name, "extends");
    const serviceNode = node.entries.get("service")?.value;
    if (isNull(serviceNode)) ctx.fail(`${what} needs a service`, node.line);
    baseName = asString(ctx, serviceNode!, `${what}.service`);
    const fileNode = node.entries.get("file")?.value;
    if (!isNull(fileNode)) {
      const path = relativeFile(ctx, source.file, asString(ctx, fileNode!, `${what}.file`), {
        what: `${what}.file`,
        line: fileNode!.line,
      });
      baseSource = fromFile(ctx, loadStackFile(ctx, path, `${what}.file`, fileNode!.line));
    }
  } else {
    baseName = asString(ctx, node, what);
  }
  const baseEntry = baseSource.services.entries.get(baseName);
  if (!baseEntry) {
    ctx.fail(
      `${what}: the service ${JSON.stringify(baseName)} is not defined${
        baseSource.file ? ` in ${baseSource.file}` : ""
      }`,
      extendsEntry.keyLine,
    );
  }
  let base = resolve(ctx, baseSource, baseName, [...chain, id], done);
  if (baseSource.file !== source.file) {
    base = rebaseVolumes(base, baseSource.file, source.file) as YMap;
  }
  const local: YMap = { ...service, entries: new Map(service.entries) };
  local.entries.delete("extends");
  const merged = mergeNode(clone(base), clone(local), "") as YMap;
  merged.line = service.line;
  done.set(id, merged);
  return merged;
}

function label(id: string): string {
  const [file, name] = id.split("#");
  return file ? `${file}:${name}` : name;
}

function fromFile(ctx: Context, file: LoadedFile): Source {
  const services = file.root.entries.get("services")?.value;
  if (isNull(services)) {
    ctx.fail(`${file.path} has no services:`, file.line);
  }
  return { file: file.path, services: asMap(ctx, services!, `services in ${file.path}`) };
}

function clone<T extends YNode>(node: T): T {
  if (node.kind === "scalar") return { ...node };
  if (node.kind === "seq") return { ...node, items: node.items.map(clone) };
  const entries = new Map<string, YEntry>();
  for (const [key, entry] of node.entries) {
    entries.set(key, { ...entry, value: clone(entry.value) });
  }
  return { ...node, entries } as T;
}

/** compose-go's MergeYaml for `services.x.<path>`: `local` wins. */
function mergeNode(base: YNode, local: YNode, path: string): YNode {
  if (REPLACED.has(path)) return local;
  if (isNull(local)) return base;
  if (BY_KEY.has(path)) return mergeByKey(base, local);
  if (NAMED.has(path)) return mergeMaps(namedMap(base), namedMap(local), path);
  if (path === "build") return mergeMaps(buildMap(base), buildMap(local), path);
  if (path === "volumes" && base.kind === "seq" && local.kind === "seq") {
    return uniqueBy([...base.items, ...local.items], volumeTarget);
  }
  if (UNIQUE.has(path) && base.kind === "seq" && local.kind === "seq") {
    return uniqueBy(
      [...base.items, ...local.items],
      (item) => JSON.stringify(item.kind === "scalar" ? item.text : item),
    );
  }
  if (base.kind === "map" && local.kind === "map") return mergeMaps(base, local, path);
  if (base.kind === "seq" && local.kind === "seq") {
    return { ...base, items: [...base.items, ...local.items] };
  }
  return local;
}

function mergeMaps(base: YMap, local: YMap, path: string): YMap {
  const entries = new Map(base.entries);
  for (const [key, entry] of local.entries) {
    const existing = entries.get(key);
    const next = path === "" ? key : `${path}.${key}`;
    entries.set(
      key,
      existing ? { ...entry, value: mergeNode(existing.value, entry.value, next) } : entry,
    );
  }
  return { ...local, entries };
}

/** `[a, b]` → `{a: null, b: null}`, as compose-go reads depends_on and networks lists. */
function namedMap(node: YNode): YMap {
  if (node.kind === "map") return node;
  const entries = new Map<string, YEntry>();
  if (node.kind === "seq") {
    for (const item of node.items) {
      const key = item.kind === "scalar" ? item.text : "";
      entries.set(key, { key, keyLine: item.line, value: nullAt(item.line) });
    }
  }
  return { kind: "map", entries, line: node.line };
}

function buildMap(node: YNode): YMap {
  if (node.kind === "map") return node;
  const context: YEntry = { key: "context", keyLine: node.line, value: node };
  return { kind: "map", entries: new Map([["context", context]]), line: node.line };
}

/** KEY=VALUE lists and maps merged by key, the later one winning (as compose-go's unicity). */
function mergeByKey(base: YNode, local: YNode): YMap {
  const entries = new Map<string, YEntry>();
  for (const node of [base, local]) {
    for (const entry of keyEntries(node)) {
      entries.set(entry.key, entry);
    }
  }
  return { kind: "map", entries, line: local.line };
}

function keyEntries(node: YNode): YEntry[] {
  if (node.kind === "map") return [...node.entries.values()];
  if (node.kind !== "seq") return [];
  return node.items.map((item) => {
    const text = item.kind === "scalar" ? item.text : "";
    const eq = text.indexOf("=");
    const key = eq < 0 ? text : text.slice(0, eq);
    const value: YScalar = eq < 0
      ? nullAt(item.line)
      : { kind: "scalar", value: text.slice(eq + 1), text: text.slice(eq + 1), line: item.line };
    return { key, keyLine: item.line, value };
  });
}

function nullAt(line: number): YScalar {
  return { kind: "scalar", value: null, text: "", line };
}

function volumeTarget(item: YNode): string {
  if (item.kind === "scalar") {
    const parts = item.text.split(":");
    return parts.length === 1 ? parts[0] : parts[1];
  }
  if (item.kind === "map") {
    const target = item.entries.get("target")?.value;
    if (target?.kind === "scalar") return target.text;
  }
  return JSON.stringify(item);
}

/** Later items replace earlier ones with the same key, in the earlier one's place. */
function uniqueBy(items: YNode[], keyOf: (item: YNode) => string): YNode {
  const out: YNode[] = [];
  const index = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(item);
    } else {
      out[at] = item;
    }
  }
  return { kind: "seq", items: out, line: items[0]?.line ?? 0 };
}
