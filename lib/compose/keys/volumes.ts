/** volumes: of a service (short and long syntax) and host paths. */
import { bindRisk } from "../../risks.ts";
import { shown } from "../errors.ts";
import type { VolumeMount, VolumeSpec } from "../types.ts";
import type { YMap, YNode, YScalar } from "../yaml.ts";
import {
  asBool,
  asMap,
  asSeq,
  asString,
  byteSize,
  checkKeys,
  type Context,
  type Declared,
  isNull,
  KEY_RE,
  prefix,
  stringList,
} from "../readers.ts";

/** POSIX path.Clean for absolute paths: `//etc/`, `/etc/../etc` and `/etc/.` are `/etc`. */
export function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function isBindSource(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

function volumeTarget(ctx: Context, raw: string, what: string, line: number): string {
  if (!raw.startsWith("/") || /[\0\n]/.test(raw)) {
    ctx.fail(`${what}: the container path must be absolute, got ${shown(raw)}`, line);
  }
  const target = cleanPath(raw);
  if (target === "/") ctx.fail(`${what}: the container path cannot be "/"`, line);
  return target;
}

function checkBindSource(ctx: Context, source: string, what: string, line: number) {
  if (/[\0\n]/.test(source)) {
    ctx.fail(`${what}: the host path ${shown(source)} is not allowed`, line);
  }
  refuseHome(ctx, source, what, line);
}

/**
 * `~` is refused rather than expanded: the CLI expands it to the home of the user who runs
 * it, but the panel runs as a service account whose home is not the user's.
 */
export function refuseHome(ctx: Context, source: string, what: string, line: number) {
  if (source.startsWith("~")) {
    ctx.fail(
      `${what}: the host path ${
        shown(source)
      } starts with "~", which the panel does not expand (it does not run as your user); use a path relative to the stack folder (./…) or an absolute one`,
      line,
    );
  }
}

function flagBind(ctx: Context, source: string, service: string, what: string, line: number) {
  const danger = bindRisk(source);
  if (danger) {
    ctx.warn(
      "risk",
      line,
      service,
      `${what} mounts ${danger} into the container (bind of ${shown(source)})`,
    );
  }
}

function namedVolume(
  ctx: Context,
  source: string,
  declared: Map<string, Declared<VolumeSpec>>,
  what: string,
  line: number,
) {
  if (!KEY_RE.test(source)) {
    ctx.fail(
      `${what}: ${shown(source)} is neither a path (./, ../, /, ~) nor a volume name`,
      line,
    );
  }
  if (!declared.has(source)) {
    ctx.fail(
      `${what} uses the volume ${
        JSON.stringify(source)
      }, which is not declared under the top-level volumes:`,
      line,
    );
  }
}

export function volumes(
  ctx: Context,
  node: YNode,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount[] {
  const out: VolumeMount[] = [];
  asSeq(ctx, node, `${prefix(service)}volumes`).forEach((item, i) => {
    if (item.kind === "scalar" && typeof item.value === "string") {
      out.push(shortVolume(ctx, item, i, service, declared));
    } else if (item.kind === "map") {
      const mount = longVolume(ctx, item, i, service, declared);
      if (mount) out.push(mount);
    } else {
      ctx.fail(
        `${prefix(service)}volumes[${i}] must be a string like "data:/var/lib/data" or a map`,
        item.line,
      );
    }
  });
  return out;
}

function shortVolume(
  ctx: Context,
  item: YScalar,
  i: number,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount {
  const text = String(item.value);
  const what = `${prefix(service)}volumes[${i}] ${shown(text)}`;
  const line = item.line;
  const parts = text.split(":");
  if (text === "" || parts.some((part) => part === "")) {
    ctx.fail(`${what} must look like SOURCE:TARGET[:MODE] or /TARGET`, line);
  }
  if (parts.length > 3) ctx.fail(`${what} has too many ":"`, line);
  if (parts.length === 1) {
    return { type: "anonymous", target: volumeTarget(ctx, parts[0], what, line), read_only: false };
  }
  const [source, rawTarget, mode] = parts;
  const target = volumeTarget(ctx, rawTarget, what, line);
  let readOnly = false;
  let selinux: "z" | "Z" | undefined;
  const seen = new Set<string>();
  for (const option of mode === undefined ? [] : mode.split(",")) {
    if (seen.has(option)) continue;
    seen.add(option);
    if (option === "ro" || option === "rw") {
      if (seen.has(option === "ro" ? "rw" : "ro")) ctx.fail(`${what}: ro and rw conflict`, line);
      readOnly = option === "ro";
    } else if (option === "z" || option === "Z") {
      if (selinux && selinux !== option) ctx.fail(`${what}: z and Z conflict`, line);
      selinux = option;
    } else if (option === "nocopy" || ["cached", "delegated", "consistent"].includes(option)) {
      // No effect here (nocopy: the panel never copies image content into a named volume
      // twice; consistency modes only matter on Docker Desktop for Mac).
    } else if (["shared", "slave", "private", "rshared", "rslave", "rprivate"].includes(option)) {
      ctx.warn(
        "unsupported",
        line,
        service,
        `${what}: bind propagation ${option} is not supported and was ignored`,
      );
    } else {
      ctx.fail(
        `${what}: unknown mode ${shown(option)} (use ro, rw, z or Z, comma-separated)`,
        line,
      );
    }
  }
  if (isBindSource(source)) {
    checkBindSource(ctx, source, what, line);
    flagBind(ctx, source, service, `${prefix(service)}volumes[${i}]`, line);
    return {
      type: "bind",
      source,
      target,
      read_only: readOnly,
      ...(selinux ? { selinux } : {}),
      create_host_path: true,
    };
  }
  namedVolume(ctx, source, declared, what, line);
  if (selinux) {
    ctx.warn(
      "unsupported",
      line,
      service,
      `${what}: the SELinux option :${selinux} only applies to bind mounts and was ignored`,
    );
  }
  return { type: "volume", source, target, read_only: readOnly };
}

function longVolume(
  ctx: Context,
  item: YMap,
  i: number,
  service: string,
  declared: Map<string, Declared<VolumeSpec>>,
): VolumeMount | null {
  const what = `${prefix(service)}volumes[${i}]`;
  checkKeys(
    ctx,
    item,
    ["type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency"],
    service,
    `volumes[${i}]`,
  );
  const get = (key: string) => item.entries.get(key)?.value;
  const typeNode = get("type");
  if (isNull(typeNode)) ctx.fail(`${what} needs a type (volume, bind or tmpfs)`, item.line);
  const type = asString(ctx, typeNode!, `${what}.type`);
  const targetNode = get("target");
  if (isNull(targetNode)) ctx.fail(`${what} needs a target`, item.line);
  const target = volumeTarget(
    ctx,
    asString(ctx, targetNode!, `${what}.target`),
    what,
    targetNode!.line,
  );
  const sourceNode = get("source");
  const source = isNull(sourceNode) ? "" : asString(ctx, sourceNode!, `${what}.source`);
  const readOnlyNode = get("read_only");
  const readOnly = isNull(readOnlyNode) ? false : asBool(ctx, readOnlyNode!, `${what}.read_only`);
  const options = (key: string, known: string[], unsupported: string[]) => {
    const node = get(key);
    if (isNull(node)) return null;
    const map = asMap(ctx, node!, `${what}.${key}`);
    checkKeys(ctx, map, known, service, `volumes[${i}].${key}`, unsupported);
    return map;
  };
  const misplaced = (keys: string[]) => {
    for (const key of keys) {
      const entry = item.entries.get(key);
      if (entry && !isNull(entry.value)) {
        ctx.warn(
          "unknown",
          entry.keyLine,
          service,
          `${what}.${key} does not apply to a ${type} mount and was ignored`,
        );
      }
    }
  };
  switch (type) {
    case "volume": {
      misplaced(["bind", "tmpfs"]);
      options("volume", ["nocopy"], ["subpath"]);
      if (source === "") return { type: "anonymous", target, read_only: readOnly };
      namedVolume(ctx, source, declared, `${what} ${shown(source)}`, sourceNode!.line);
      return { type: "volume", source, target, read_only: readOnly };
    }
    case "bind": {
      misplaced(["volume", "tmpfs"]);
      if (source === "") ctx.fail(`${what}: a bind mount needs a source`, item.line);
      checkBindSource(ctx, source, what, sourceNode!.line);
      const bind = options("bind", ["create_host_path", "selinux"], ["propagation", "recursive"]);
      let createHostPath = true;
      let selinux: "z" | "Z" | undefined;
      const create = bind?.entries.get("create_host_path")?.value;
      if (!isNull(create)) createHostPath = asBool(ctx, create!, `${what}.bind.create_host_path`);
      const label = bind?.entries.get("selinux")?.value;
      if (!isNull(label)) {
        const value = asString(ctx, label!, `${what}.bind.selinux`);
        if (value !== "z" && value !== "Z") {
          ctx.fail(`${what}.bind.selinux must be z or Z, got ${shown(value)}`, label!.line);
        }
        selinux = value;
      }
      if (selinux && !createHostPath) {
        ctx.warn(
          "unsupported",
          label!.line,
          service,
          `${what}.bind.selinux cannot be applied with create_host_path: false (the Engine's mount API has no relabel option) and was ignored`,
        );
        selinux = undefined;
      }
      flagBind(ctx, source, service, what, sourceNode!.line);
      return {
        type: "bind",
        source,
        target,
        read_only: readOnly,
        ...(selinux ? { selinux } : {}),
        create_host_path: createHostPath,
      };
    }
    case "tmpfs": {
      misplaced(["bind", "volume", "source"]);
      const tmpfs = options("tmpfs", ["size", "mode"], []);
      return { type: "tmpfs", target, ...tmpfsOptions(ctx, tmpfs, `${what}.tmpfs`) };
    }
    default:
      ctx.warn(
        "unsupported",
        typeNode!.line,
        service,
        `${what}: mounts of type ${shown(type)} are not supported; the mount was ignored`,
      );
      return null;
  }
}

/** tmpfs.size (bytes or 64m) and tmpfs.mode (octal, e.g. 0o1777 or "1777"). */
function tmpfsOptions(
  ctx: Context,
  map: YMap | null,
  what: string,
): { size_bytes?: number; mode?: number } {
  const out: { size_bytes?: number; mode?: number } = {};
  const size = map?.entries.get("size")?.value;
  if (!isNull(size)) out.size_bytes = byteSize(ctx, size!, `${what}.size`);
  const mode = map?.entries.get("mode")?.value;
  if (!isNull(mode)) {
    let value = NaN;
    if (mode!.kind === "scalar" && typeof mode!.value === "number") value = mode!.value;
    else if (mode!.kind === "scalar" && typeof mode!.value === "string") {
      const text = mode!.value.trim().replace(/^0o?/i, "");
      if (/^[0-7]{1,4}$/.test(text)) value = parseInt(text, 8);
    }
    if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
      ctx.fail(`${what}.mode must be a file mode like 0o1777 or "1777"`, mode!.line);
    }
    out.mode = value;
  }
  return out;
}

/** Service-level `tmpfs:`: one path or a list of "PATH[:OPTIONS]" (size=, mode=, ...). */
export function tmpfs(ctx: Context, node: YNode, service: string): string[] {
  const what = `${prefix(service)}tmpfs`;
  const items = node.kind === "seq"
    ? stringList(ctx, node, what)
    : [{ value: asString(ctx, node, what), line: node.line }];
  return items.map(({ value, line }, i) => {
    const colon = value.indexOf(":");
    const path = colon < 0 ? value : value.slice(0, colon);
    const options = colon < 0 ? "" : value.slice(colon + 1);
    const at = node.kind === "seq" ? `${what}[${i}]` : what;
    const target = volumeTarget(ctx, path, at, line);
    if (/[\s\0]/.test(options)) ctx.fail(`${at}: ${shown(options)} are not tmpfs options`, line);
    return options ? `${target}:${options}` : target;
  });
}
