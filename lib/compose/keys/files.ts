/**
 * Other files of the stack directory, as `extends: {file:}` and `include:` name them. The
 * parser does no I/O: the caller supplies their texts (ComposeInput.files) by path relative
 * to the stack directory, and names are confined to it (no absolute paths, no `..` out).
 */
import { shown } from "../errors.ts";
import { loadYaml, type YMap, type YNode } from "../yaml.ts";
import type { Context } from "../readers.ts";

/** Files one import may load (extends and include together). */
const MAX_LOADED_FILES = 50;

export interface LoadedFile {
  /** Relative to the stack directory, normalised ("conf/base.yml"). */
  path: string;
  root: YMap;
  /** The line that named the file (in the file that named it). */
  line: number;
}

const loaded = new WeakMap<Context, Map<string, YMap>>();

/** `name` as written in `fromFile` (relative to the stack directory) → its stack path. */
export function relativeFile(
  ctx: Context,
  fromFile: string,
  name: string,
  at: { what: string; line: number },
): string {
  if (name === "" || name.startsWith("/") || name.startsWith("~") || /[\0\n]/.test(name)) {
    ctx.fail(
      `${at.what}: ${shown(name)} must be a relative path to a file in the stack directory`,
      at.line,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) {
    ctx.fail(`${at.what}: remote files (${shown(name)}) are not supported`, at.line);
  }
  const parts = dirOf(fromFile) === "" ? [] : dirOf(fromFile).split("/");
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) {
        ctx.fail(`${at.what}: ${shown(name)} is outside the stack directory`, at.line);
      }
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** Parses a stack file once per import; a missing or non-map file is a 400. */
export function loadStackFile(ctx: Context, path: string, what: string, line: number): LoadedFile {
  let cache = loaded.get(ctx);
  if (!cache) loaded.set(ctx, cache = new Map());
  const known = cache.get(path);
  if (known) return { path, root: known, line };
  const files = ctx.options.files ?? {};
  if (!Object.hasOwn(files, path) || typeof files[path] !== "string") {
    ctx.fail(`${what}: the file ${shown(path)} is not in the stack directory`, line, "files");
  }
  if (cache.size >= MAX_LOADED_FILES) {
    ctx.fail(`${what}: more than ${MAX_LOADED_FILES} files are extended or included`, line);
  }
  const root = loadYaml(files[path]);
  if (root === null || root.kind !== "map") {
    ctx.fail(`${what}: ${shown(path)} is not a compose file (its top level must be a map)`, line);
  }
  cache.set(path, root);
  return { path, root, line };
}

/**
 * A bind source written in `fromFile` made relative to `toFile`'s folder (both relative to
 * the stack directory), so that it still names the same host path.
 */
export function rebaseSource(source: string, fromFile: string, toFile: string): string {
  if (!source.startsWith(".")) return source;
  const from = dirOf(fromFile);
  const to = dirOf(toFile);
  if (from === to) return source;
  const target = [...(from ? from.split("/") : [])];
  for (const part of source.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") target.pop();
    else target.push(part);
  }
  const up = to === "" ? [] : to.split("/").map(() => "..");
  const joined = [...up, ...target].join("/");
  return joined.startsWith(".") ? joined : `./${joined}`;
}

/** A service's relative bind sources (short and long syntax) rebased by rebaseSource. */
export function rebaseVolumes(service: YNode, fromFile: string, toFile: string): YNode {
  if (service.kind !== "map") return service;
  const volumes = service.entries.get("volumes");
  if (!volumes || volumes.value.kind !== "seq") return service;
  const items = volumes.value.items.map((item): YNode => {
    if (item.kind === "scalar" && typeof item.value === "string") {
      const [source, ...rest] = item.value.split(":");
      if (rest.length === 0) return item;
      const value = [rebaseSource(source, fromFile, toFile), ...rest].join(":");
      return { ...item, value, text: value };
    }
    if (item.kind === "map") {
      const source = item.entries.get("source");
      if (source?.value.kind === "scalar" && typeof source.value.value === "string") {
        const value = rebaseSource(source.value.value, fromFile, toFile);
        const entries = new Map(item.entries);
        entries.set("source", { ...source, value: { ...source.value, value, text: value } });
        return { ...item, entries };
      }
    }
    return item;
  });
  const entries = new Map(service.entries);
  entries.set("volumes", { ...volumes, value: { ...volumes.value, items } });
  return { ...service, entries };
}
