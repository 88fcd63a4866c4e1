/**
 * The shared state of one import (warnings, interpolation, failures) and typed readers of
 * YAML nodes. `what` names the entry in messages ("ports[1]", "healthcheck.interval").
 */
import { ComposeError } from "./errors.ts";
import { interpolate, InterpolationError } from "./interpolate.ts";
import type { ComposeWarning, WarningKind } from "./types.ts";
import type { YMap, YNode } from "./yaml.ts";

export interface NormaliseOptions {
  /** The project name, already normalised. */
  project: string;
  /** Interpolation variables: the .env file plus COMPOSE_PROJECT_NAME. */
  vars: Map<string, string>;
  envFiles?: Record<string, string>;
  /** Other files of the stack directory (extends: file:, include:), by relative path. */
  files?: Record<string, string>;
  /** Active profiles; "*" activates every profile. */
  profiles?: string[];
  warnings: ComposeWarning[];
}

export const KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const ENGINE_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const DURATION_RE = /^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const DURATION_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export interface Declared<T> {
  spec: T;
  line: number;
}

/** Mutable state of one import. */
export class Context {
  ports = 0;
  constructor(readonly options: NormaliseOptions) {}

  get project(): string {
    return this.options.project;
  }

  warn(kind: WarningKind, line: number | null, service: string | null, message: string) {
    this.options.warnings.push({ line, service, kind, message });
  }

  fail(message: string, line: number | null, field = "yaml"): never {
    throw new ComposeError(message, field, line);
  }

  lookup = (name: string): string | undefined => this.options.vars.get(name);

  /** Interpolates every string scalar under `node`, in place. */
  interpolate(node: YNode, service: string | null, where: string) {
    if (node.kind === "scalar") {
      if (typeof node.value !== "string" || !node.value.includes("$")) return;
      try {
        const value = interpolate(node.value, this.lookup, (name) =>
          this.warn(
            "interpolation",
            node.line,
            service,
            `${prefix(service)}The ${JSON.stringify(name)} variable is not set (${where}). ` +
              "Defaulting to a blank string.",
          ));
        node.value = value;
        node.text = value;
      } catch (error) {
        if (error instanceof InterpolationError) {
          this.fail(`${prefix(service)}${where}: ${error.message}`, node.line);
        }
        throw error;
      }
    } else if (node.kind === "seq") {
      for (const item of node.items) this.interpolate(item, service, where);
    } else {
      for (const entry of node.entries.values()) {
        this.interpolate(entry.value, service, `${where}.${entry.key}`);
      }
    }
  }
}

export function prefix(service: string | null): string {
  return service === null ? "" : `Service ${JSON.stringify(service)}: `;
}

/** Sets an own enumerable property, even for keys like `__proto__`. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function record<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of entries) setOwn(out, key, value);
  return out;
}

export function isNull(node: YNode | undefined): boolean {
  return node === undefined || (node.kind === "scalar" && node.value === null);
}

export function kindName(node: YNode): string {
  if (node.kind === "map") return "a map";
  if (node.kind === "seq") return "a list";
  if (node.value === null) return "empty";
  return `a ${typeof node.value}`;
}

export function asMap(ctx: Context, node: YNode, what: string): YMap {
  if (node.kind !== "map") ctx.fail(`${what} must be a map, not ${kindName(node)}`, node.line);
  return node;
}

export function asSeq(ctx: Context, node: YNode, what: string): YNode[] {
  if (node.kind !== "seq") ctx.fail(`${what} must be a list, not ${kindName(node)}`, node.line);
  return node.items;
}

/** A scalar as text: strings as they are, numbers as written, booleans as true/false. */
export function asText(ctx: Context, node: YNode, what: string): string {
  if (node.kind !== "scalar" || node.value === null) {
    ctx.fail(`${what} must be a string, not ${kindName(node)}`, node.line);
  }
  if (typeof node.value === "boolean") return String(node.value);
  return node.text;
}

export function asString(ctx: Context, node: YNode, what: string): string {
  if (node.kind !== "scalar" || typeof node.value !== "string") {
    if (node.kind === "scalar" && typeof node.value === "number") return node.text;
    ctx.fail(`${what} must be a string, not ${kindName(node)}`, node.line);
  }
  return node.value;
}

export function asBool(ctx: Context, node: YNode, what: string): boolean {
  if (node.kind === "scalar") {
    if (typeof node.value === "boolean") return node.value;
    if (typeof node.value === "string") {
      const lower = node.value.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
    }
  }
  return ctx.fail(`${what} must be true or false`, node.line);
}

export function asInt(ctx: Context, node: YNode, what: string, min: number, max: number): number {
  let value = NaN;
  if (node.kind === "scalar") {
    if (typeof node.value === "number") value = node.value;
    else if (typeof node.value === "string" && /^\d{1,10}$/.test(node.value.trim())) {
      value = Number(node.value.trim());
    }
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    ctx.fail(`${what} must be a whole number from ${min} to ${max}`, node.line);
  }
  return value;
}

export function stringList(
  ctx: Context,
  node: YNode,
  what: string,
): { value: string; line: number }[] {
  return asSeq(ctx, node, what).map((item, i) => ({
    value: asText(ctx, item, `${what}[${i}]`),
    line: item.line,
  }));
}

/** Go duration ("1m30s", "10s", "500ms") → milliseconds. */
export function duration(ctx: Context, node: YNode, what: string): number {
  if (node.kind === "scalar" && (node.value === 0 || node.value === "0")) return 0;
  const text = node.kind === "scalar" && typeof node.value === "string" ? node.value.trim() : "";
  if (!DURATION_RE.test(text)) {
    ctx.fail(`${what} must be a duration like 30s, 1m30s or 500ms`, node.line);
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART_RE)) {
    ms += Number(amount) * DURATION_MS[unit];
  }
  return ms;
}

/** Warns about keys of a map that are not in `known` (ignoring `x-` extensions). */
export function checkKeys(
  ctx: Context,
  map: YMap,
  known: readonly string[],
  service: string | null,
  what: string,
  unsupported: readonly string[] = [],
) {
  for (const entry of map.entries.values()) {
    if (known.includes(entry.key) || entry.key.startsWith("x-")) continue;
    if (unsupported.includes(entry.key)) {
      ctx.warn(
        "unsupported",
        entry.keyLine,
        service,
        `${prefix(service)}${what}.${entry.key} is not supported and was ignored`,
      );
    } else {
      ctx.warn(
        "unknown",
        entry.keyLine,
        service,
        `${prefix(service)}unknown key ${JSON.stringify(entry.key)} in ${what} was ignored`,
      );
    }
  }
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** A size as docker's RAMInBytes reads it: 1048576, "64m", "1.5g", "512MiB" (1024-based). */
export function byteSize(ctx: Context, node: YNode, what: string): number {
  if (node.kind === "scalar" && typeof node.value === "number") {
    if (Number.isSafeInteger(node.value) && node.value >= 0) return node.value;
  } else if (node.kind === "scalar" && typeof node.value === "string") {
    const match = node.value.trim().match(/^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i);
    if (match) {
      const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[match[2].toLowerCase()]);
      if (Number.isSafeInteger(bytes)) return bytes;
    }
  }
  return ctx.fail(`${what} must be a size like 512m, 1g or a number of bytes`, node.line);
}
