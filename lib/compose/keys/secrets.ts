/**
 * secrets: and configs:, at the top level and in services, as the CLI applies them outside
 * swarm mode: a `file:` source is bind-mounted read-only; an `environment:` or `content:`
 * source is written into the container before it starts (lib/compose/secrets.ts). Values
 * from `environment:` come from the .env file only, never from the panel's environment.
 * `external:` ones need swarm mode: they are dropped with a warning.
 */
import { bindRisk } from "../../risks.ts";
import { shown } from "../errors.ts";
import type { FileObjectSpec, FileReference, ServiceSpec } from "../types.ts";
import type { YMap, YNode } from "../yaml.ts";
import {
  asBool,
  asMap,
  asSeq,
  asString,
  checkKeys,
  type Context,
  isNull,
  KEY_RE,
  prefix,
  setOwn,
} from "../readers.ts";
import { refuseHome } from "./volumes.ts";

export type FileObjectKind = "secrets" | "configs";

/** Where each service-level reference was written, for messages (kept out of the spec). */
const referenceLines = new WeakMap<FileReference, number>();

const singular = (kind: FileObjectKind) => (kind === "secrets" ? "secret" : "config");

function targetOf(kind: FileObjectKind, raw: string, what: string, line: number, ctx: Context) {
  if (/[\0\n]/.test(raw) || raw === "") ctx.fail(`${what}: invalid target ${shown(raw)}`, line);
  const absolute = raw.startsWith("/") ? raw : `${kind === "secrets" ? "/run/secrets" : ""}/${raw}`;
  const parts: string[] = [];
  for (const part of absolute.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  if (parts.length === 0) ctx.fail(`${what}: the target cannot be "/"`, line);
  return `/${parts.join("/")}`;
}

/** Permission bits as compose reads them: 0440 and 0o440 are octal, 288 is decimal. */
function modeOf(ctx: Context, node: YNode, what: string): number {
  if (node.kind === "scalar") {
    const text = node.text.trim();
    let mode = NaN;
    if (/^0o?[0-7]+$/i.test(text)) mode = parseInt(text.replace(/^0o?/i, "") || "0", 8);
    else if (/^\d+$/.test(text)) mode = Number(text);
    if (Number.isInteger(mode) && mode >= 0 && mode <= 0o7777) return mode;
  }
  return ctx.fail(`${what} must be permission bits such as 0440`, node.line);
}

/** A service's `secrets:` or `configs:` list. Names are checked against the top level later. */
export function fileReferences(
  ctx: Context,
  node: YNode,
  service: string,
  kind: FileObjectKind,
): FileReference[] {
  const out: FileReference[] = [];
  const targets = new Set<string>();
  asSeq(ctx, node, `${prefix(service)}${kind}`).forEach((item, i) => {
    const what = `${prefix(service)}${kind}[${i}]`;
    let reference: FileReference;
    if (item.kind === "scalar") {
      const source = asString(ctx, item, what);
      reference = { source, target: targetOf(kind, source, what, item.line, ctx) };
    } else {
      const map = asMap(ctx, item, what);
      checkKeys(ctx, map, ["source", "target", "uid", "gid", "mode"], service, `${kind}[${i}]`);
      const get = (key: string) => {
        const value = map.entries.get(key)?.value;
        return isNull(value) ? undefined : value;
      };
      const sourceNode = get("source");
      if (!sourceNode) ctx.fail(`${what} needs a source`, item.line);
      const source = asString(ctx, sourceNode!, `${what}.source`);
      const targetNode = get("target");
      reference = {
        source,
        target: targetOf(
          kind,
          targetNode ? asString(ctx, targetNode, `${what}.target`) : source,
          what,
          targetNode?.line ?? item.line,
          ctx,
        ),
      };
      let value: YNode | undefined;
      if ((value = get("uid"))) reference.uid = checkId(ctx, value, `${what}.uid`);
      if ((value = get("gid"))) reference.gid = checkId(ctx, value, `${what}.gid`);
      if ((value = get("mode"))) reference.mode = modeOf(ctx, value, `${what}.mode`);
    }
    if (!KEY_RE.test(reference.source)) {
      ctx.fail(
        `${what}: ${shown(reference.source)} is not a valid ${singular(kind)} name`,
        item.line,
      );
    }
    if (targets.has(reference.target)) {
      ctx.fail(`${what}: the target ${shown(reference.target)} is used twice`, item.line);
    }
    targets.add(reference.target);
    referenceLines.set(reference, item.line);
    out.push(reference);
  });
  return out;
}

function checkId(ctx: Context, node: YNode, what: string): string {
  const text = node.kind === "scalar" ? node.text.trim() : "";
  if (!/^\d{1,10}$/.test(text)) ctx.fail(`${what} must be a numeric id`, node.line);
  return text;
}

interface Declared {
  spec: FileObjectSpec;
  line: number;
}

function topLevelObjects(ctx: Context, node: YNode | undefined, kind: FileObjectKind) {
  const declared = new Map<string, Declared>();
  if (!node || isNull(node)) return declared;
  ctx.interpolate(node, null, kind);
  const map = asMap(ctx, node, kind);
  for (const entry of map.entries.values()) {
    const what = `${kind}.${entry.key}`;
    if (!KEY_RE.test(entry.key)) {
      ctx.fail(`${shown(entry.key)} is not a valid ${singular(kind)} name`, entry.keyLine);
    }
    const body: YMap = asMap(ctx, entry.value, what);
    checkKeys(ctx, body, ["file", "environment", "content", "external", "name"], null, what, [
      "driver",
      "driver_opts",
      "template_driver",
      "labels",
    ]);
    const get = (key: string) => {
      const value = body.entries.get(key)?.value;
      return isNull(value) ? undefined : value;
    };
    const sources = ["file", "environment", "content", "external"].filter((key) => get(key));
    const external = get("external");
    if (external && asBool(ctx, external, `${what}.external`)) {
      const name = get("name");
      declared.set(entry.key, {
        spec: { kind: "external", name: name ? asString(ctx, name, `${what}.name`) : entry.key },
        line: entry.keyLine,
      });
      continue;
    }
    const given = sources.filter((key) => key !== "external");
    if (given.length !== 1) {
      ctx.fail(
        `${what} needs exactly one of file:, environment: or content:${
          given.length ? ` (it has ${given.join(" and ")})` : ""
        }`,
        entry.keyLine,
      );
    }
    const node = get(given[0])!;
    let spec: FileObjectSpec;
    if (given[0] === "file") {
      const file = asString(ctx, node, `${what}.file`);
      if (/[\0\n]/.test(file) || file === "") {
        ctx.fail(`${what}.file ${shown(file)} is not allowed`, node.line);
      }
      refuseHome(ctx, file, `${what}.file`, node.line);
      const danger = bindRisk(file);
      if (danger) {
        ctx.warn(
          "risk",
          node.line,
          null,
          `${what}.file mounts ${danger} into the containers that use it (${shown(file)})`,
        );
      }
      spec = { kind: "file", file };
    } else if (given[0] === "environment") {
      const variable = asString(ctx, node, `${what}.environment`);
      const value = ctx.lookup(variable);
      if (value === undefined) {
        ctx.fail(
          `${what}.environment: the variable ${
            JSON.stringify(variable)
          } is not set (the .env file does not set it)`,
          node.line,
        );
      }
      spec = { kind: "content", content: value };
    } else {
      spec = { kind: "content", content: asString(ctx, node, `${what}.content`) };
    }
    declared.set(entry.key, { spec, line: entry.keyLine });
  }
  return declared;
}

/**
 * The top-level secrets and configs, checked against what the services use: an unknown
 * name is a 400, an external one is dropped from the service with a warning, and only the
 * ones used are kept.
 */
export function fileObjects(
  ctx: Context,
  root: YMap,
  services: ServiceSpec[],
): { secrets?: Record<string, FileObjectSpec>; configs?: Record<string, FileObjectSpec> } {
  const result: {
    secrets?: Record<string, FileObjectSpec>;
    configs?: Record<string, FileObjectSpec>;
  } = {};
  for (const kind of ["secrets", "configs"] as const) {
    const declared = topLevelObjects(ctx, root.entries.get(kind)?.value, kind);
    const used: Record<string, FileObjectSpec> = {};
    for (const service of services) {
      const references = service[kind];
      if (!references) continue;
      service[kind] = references.filter((reference) => {
        const line = referenceLines.get(reference) ?? service.line;
        const found = declared.get(reference.source);
        if (!found) {
          ctx.fail(
            `${prefix(service.name)}${kind} uses ${
              JSON.stringify(reference.source)
            }, which is not declared under the top-level ${kind}:`,
            line,
          );
        }
        if (found!.spec.kind === "external") {
          ctx.warn(
            "unsupported",
            line,
            service.name,
            `${prefix(service.name)}the ${singular(kind)} ${
              JSON.stringify(reference.source)
            } is external: external ${kind} need swarm mode, so it was not mounted`,
          );
          return false;
        }
        if (
          found!.spec.kind === "file" &&
          (reference.uid !== undefined || reference.gid !== undefined ||
            reference.mode !== undefined)
        ) {
          ctx.warn(
            "unsupported",
            line,
            service.name,
            `${prefix(service.name)}uid, gid and mode of the ${singular(kind)} ${
              JSON.stringify(reference.source)
            } do not apply to a file: source outside swarm mode (it is bind-mounted) and were ignored`,
          );
          delete reference.uid;
          delete reference.gid;
          delete reference.mode;
        }
        setOwn(used, reference.source, found!.spec);
        return true;
      });
      if (service[kind]!.length === 0) delete service[kind];
    }
    if (Object.keys(used).length) result[kind] = used;
  }
  return result;
}
