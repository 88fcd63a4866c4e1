/**
 * build: of a service. Only a context inside the stack directory is accepted (the panel
 * sends it to the Engine's build API itself); a remote context (git, URL) or one outside
 * the folder is refused with the reason.
 */
import { shown } from "../errors.ts";
import type { BuildSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import { asString, checkKeys, type Context, isNull, prefix, record } from "../readers.ts";
import { keyValues, plainKey } from "./environment.ts";

const BUILD_KEYS = ["context", "dockerfile", "args", "target", "labels"];
const UNSUPPORTED_BUILD_KEYS = [
  "dockerfile_inline",
  "ssh",
  "cache_from",
  "cache_to",
  "additional_contexts",
  "network",
  "shm_size",
  "extra_hosts",
  "isolation",
  "privileged",
  "secrets",
  "tags",
  "platforms",
  "ulimits",
  "no_cache",
  "pull",
  "entitlements",
];

/** `git@…`, `https://…`, `github.com/x/y`: contexts the CLI would fetch from elsewhere. */
function isRemote(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || /^git@/.test(context) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(context);
}

/**
 * A path relative to `base` that stays inside it, normalised ("." or "a/b"). `what` and
 * `line` name the entry in the 400.
 */
export function relativeInside(
  ctx: Context,
  raw: string,
  what: string,
  line: number,
  folder: string,
): string {
  if (raw.startsWith("/") || raw.startsWith("~")) {
    ctx.fail(
      `${what} ${
        shown(raw)
      } must be inside ${folder}: give a relative path such as . or ./app (absolute and ~ paths are refused)`,
      line,
    );
  }
  if (/[\0\n]/.test(raw)) ctx.fail(`${what} ${shown(raw)} is not allowed`, line);
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) {
        ctx.fail(
          `${what} ${shown(raw)} leaves ${folder}; the panel only builds from inside it`,
          line,
        );
      }
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join("/") : ".";
}

export function build(ctx: Context, node: YNode, service: string): BuildSpec {
  const what = `${prefix(service)}build`;
  ctx.interpolate(node, service, "build");
  let contextRaw = ".";
  let contextLine = node.line;
  const spec: BuildSpec = { context: ".", args: {} };
  if (node.kind === "scalar") {
    contextRaw = asString(ctx, node, what);
  } else if (node.kind === "map") {
    checkKeys(ctx, node, BUILD_KEYS, service, "build", UNSUPPORTED_BUILD_KEYS);
    const get = (key: string) => {
      const value = node.entries.get(key)?.value;
      return isNull(value) ? undefined : value;
    };
    let value: YNode | undefined;
    if ((value = get("context"))) {
      contextRaw = asString(ctx, value, `${what}.context`);
      contextLine = value.line;
    }
    if ((value = get("dockerfile"))) {
      const dockerfile = asString(ctx, value, `${what}.dockerfile`);
      const path = relativeInside(
        ctx,
        dockerfile,
        `${what}.dockerfile`,
        value.line,
        "the build context",
      );
      if (path === ".") ctx.fail(`${what}.dockerfile must name a file`, value.line);
      if (path !== "Dockerfile") spec.dockerfile = path;
    }
    if ((value = get("target"))) spec.target = asString(ctx, value, `${what}.target`);
    if ((value = get("args"))) {
      spec.args = record(
        keyValues(
          ctx,
          value,
          `${what}.args`,
          // As the CLI: an arg without a value takes the variable's, or is left to the Dockerfile.
          (key) => ctx.lookup(key),
          plainKey(ctx, `${what}.args`),
        ),
      );
    }
    if ((value = get("labels"))) {
      const labels = record(
        keyValues(ctx, value, `${what}.labels`, () => "", plainKey(ctx, `${what}.labels`)),
      );
      if (Object.keys(labels).length) spec.labels = labels;
    }
  } else {
    ctx.fail(`${what} must be a path or a map`, node.line);
  }
  if (isRemote(contextRaw)) {
    ctx.fail(
      `${what} context ${
        shown(contextRaw)
      } is remote; the panel builds only from files in the stack folder (add them in the Compose tab)`,
      contextLine,
    );
  }
  spec.context = relativeInside(
    ctx,
    contextRaw,
    `${what} context`,
    contextLine,
    "the stack folder",
  );
  return spec;
}
