/** environment:, env_file:, labels: and sysctls: (key/value maps). */
import { HttpError } from "../../errors.ts";
import { DotenvError, parseDotenv } from "../dotenv.ts";
import { shown } from "../errors.ts";
import type { YNode } from "../yaml.ts";
import { asBool, asString, checkKeys, type Context, isNull, prefix } from "../readers.ts";

/** Largest accepted `.env` / env_file text. */
export const MAX_ENV_BYTES = 1024 * 1024;

export function keyValues(
  ctx: Context,
  node: YNode,
  what: string,
  /** Value for a key given without one (`KEY` in a list, `KEY:` in a map); undefined drops it. */
  missing: (key: string, line: number) => string | undefined,
  checkKey: (key: string, line: number) => void,
): Map<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, value: string | undefined) => {
    if (value === undefined) out.delete(key);
    else out.set(key, value);
  };
  if (node.kind === "map") {
    for (const entry of node.entries.values()) {
      checkKey(entry.key, entry.keyLine);
      const value = entry.value;
      if (isNull(value)) {
        put(entry.key, missing(entry.key, entry.keyLine));
      } else if (value.kind === "scalar") {
        put(entry.key, typeof value.value === "boolean" ? String(value.value) : value.text);
      } else {
        ctx.fail(`${what}.${entry.key} must be a string, number or boolean`, value.line);
      }
    }
    return out;
  }
  if (node.kind === "seq") {
    node.items.forEach((item, i) => {
      if (item.kind !== "scalar" || typeof item.value !== "string") {
        ctx.fail(`${what}[${i}] must be a "KEY=VALUE" string`, item.line);
      }
      const text = item.value;
      const eq = text.indexOf("=");
      const key = eq < 0 ? text : text.slice(0, eq);
      checkKey(key, item.line);
      put(key, eq < 0 ? missing(key, item.line) : text.slice(eq + 1));
    });
    return out;
  }
  return ctx.fail(`${what} must be a map or a list of "KEY=VALUE" strings`, node.line);
}

export function plainKey(ctx: Context, what: string) {
  return (key: string, line: number) => {
    if (key === "" || /[\s=\0]/.test(key)) {
      ctx.fail(`${what}: ${shown(key)} is not a valid name`, line);
    }
  };
}

export function envFileValues(
  ctx: Context,
  node: YNode,
  service: string,
): Map<string, string> {
  const out = new Map<string, string>();
  const what = `${prefix(service)}env_file`;
  const items: { path: string; required: boolean; line: number }[] = [];
  const entries = node.kind === "seq" ? node.items : [node];
  entries.forEach((item, i) => {
    const at = node.kind === "seq" ? `${what}[${i}]` : what;
    if (item.kind === "map") {
      checkKeys(ctx, item, ["path", "required", "format"], service, `env_file[${i}]`);
      const path = item.entries.get("path")?.value;
      if (isNull(path)) ctx.fail(`${at} needs a path`, item.line);
      const required = item.entries.get("required")?.value;
      const format = item.entries.get("format")?.value;
      if (!isNull(format)) {
        ctx.warn(
          "unsupported",
          format!.line,
          service,
          `${at}.format is not supported; the file is read as a .env file`,
        );
      }
      items.push({
        path: asString(ctx, path!, `${at}.path`),
        required: isNull(required) ? true : asBool(ctx, required!, `${at}.required`),
        line: item.line,
      });
    } else {
      items.push({ path: asString(ctx, item, at), required: true, line: item.line });
    }
  });
  const supplied = ctx.options.envFiles ?? {};
  for (const { path, required, line } of items) {
    const candidates = [path, path.startsWith("./") ? path.slice(2) : `./${path}`];
    const key = candidates.find((candidate) => Object.hasOwn(supplied, candidate));
    if (key === undefined) {
      if (required) {
        ctx.fail(
          `${what}: the file ${shown(path)} was not supplied with the request`,
          line,
          "envFiles",
        );
      }
      ctx.warn(
        "interpolation",
        line,
        service,
        `${what}: the optional file ${shown(path)} was not supplied and was skipped`,
      );
      continue;
    }
    const text = supplied[key];
    if (typeof text !== "string") {
      ctx.fail(`${what}: the file ${shown(path)} must be text`, line, "envFiles");
    }
    if (text.length > MAX_ENV_BYTES || new TextEncoder().encode(text).length > MAX_ENV_BYTES) {
      throw new HttpError(413, `The env_file ${shown(path)} is larger than 1 MiB`, "envFiles");
    }
    try {
      const values = parseDotenv(text, {
        lookup: ctx.lookup,
        onUnset: (name, fileLine) =>
          ctx.warn(
            "interpolation",
            line,
            service,
            `${what} ${shown(path)} line ${fileLine}: the ${
              JSON.stringify(name)
            } variable is not set. Defaulting to a blank string.`,
          ),
      });
      for (const [k, v] of values) out.set(k, v);
    } catch (error) {
      if (error instanceof DotenvError) {
        ctx.fail(`${what} ${shown(path)} line ${error.line}: ${error.message}`, line, "envFiles");
      }
      throw error;
    }
  }
  return out;
}
