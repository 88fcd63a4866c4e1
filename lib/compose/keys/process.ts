/** command:, entrypoint:, restart:, healthcheck:, extra_hosts:, cap_add: and cap_drop:. */
import { ShellwordsError, splitShellwords } from "../../shellwords.ts";
import { shown } from "../errors.ts";
import type { HealthCheck, ServiceSpec } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asBool,
  asInt,
  asMap,
  asText,
  checkKeys,
  type Context,
  duration,
  isNull,
  kindName,
  prefix,
  stringList,
} from "../readers.ts";

const CAPABILITY_RE = /^[A-Za-z0-9_]+$/;

export function commandLine(ctx: Context, node: YNode, what: string): string[] | undefined {
  if (isNull(node)) return undefined;
  if (node.kind === "scalar" && typeof node.value === "string") {
    try {
      return splitShellwords(node.value);
    } catch (error) {
      if (error instanceof ShellwordsError) ctx.fail(`${what}: ${error.message}`, node.line);
      throw error;
    }
  }
  if (node.kind === "seq") {
    return node.items.map((item, i) => asText(ctx, item, `${what}[${i}]`));
  }
  return ctx.fail(`${what} must be a command line or a list of strings`, node.line);
}

export function restartPolicy(ctx: Context, node: YNode, what: string): ServiceSpec["restart"] {
  if (isNull(node) || (node.kind === "scalar" && node.value === false)) {
    return { name: "no", max_retries: 0 };
  }
  if (node.kind === "scalar" && typeof node.value === "string") {
    const value = node.value.trim();
    if (value === "no" || value === "" || value === "always" || value === "unless-stopped") {
      return { name: value === "" ? "no" : value, max_retries: 0 };
    }
    const match = value.match(/^on-failure(?::(\d{1,6}))?$/);
    if (match) return { name: "on-failure", max_retries: match[1] ? Number(match[1]) : 0 };
  }
  return ctx.fail(
    `${what} must be no, always, unless-stopped or on-failure[:N], got ${
      node.kind === "scalar" ? shown(node.text) : kindName(node)
    }`,
    node.line,
  );
}

export function healthcheck(ctx: Context, node: YNode, service: string): HealthCheck | undefined {
  const what = `${prefix(service)}healthcheck`;
  if (isNull(node)) return undefined;
  const map = asMap(ctx, node, what);
  checkKeys(
    ctx,
    map,
    [
      "test",
      "interval",
      "timeout",
      "retries",
      "start_period",
      "start_interval",
      "disable",
    ],
    service,
    "healthcheck",
  );
  const get = (key: string) => {
    const value = map.entries.get(key)?.value;
    return isNull(value) ? undefined : value;
  };
  const disable = get("disable");
  const testNode = get("test");
  if (disable && asBool(ctx, disable, `${what}.disable`)) {
    if (testNode) {
      ctx.fail(`${what}: test and disable: true cannot be used together`, testNode.line);
    }
    return { test: ["NONE"] };
  }
  let test: string[] = [];
  if (testNode) {
    if (testNode.kind === "scalar" && typeof testNode.value === "string") {
      if (testNode.value.trim() === "") ctx.fail(`${what}.test is empty`, testNode.line);
      test = ["CMD-SHELL", testNode.value];
    } else {
      test = stringList(ctx, testNode, `${what}.test`).map((item) => item.value);
      const [kind] = test;
      if (kind !== "CMD" && kind !== "CMD-SHELL" && kind !== "NONE") {
        ctx.fail(`${what}.test must start with CMD, CMD-SHELL or NONE`, testNode.line);
      }
      if (kind !== "NONE" && test.length < 2) {
        ctx.fail(`${what}.test has no command after ${kind}`, testNode.line);
      }
    }
  }
  // An empty test keeps the image's own check, with the timings given here.
  const result: HealthCheck = { test };
  const interval = get("interval");
  if (interval) result.interval_ms = duration(ctx, interval, `${what}.interval`);
  const timeout = get("timeout");
  if (timeout) result.timeout_ms = duration(ctx, timeout, `${what}.timeout`);
  const startPeriod = get("start_period");
  if (startPeriod) result.start_period_ms = duration(ctx, startPeriod, `${what}.start_period`);
  const startInterval = get("start_interval");
  if (startInterval) {
    result.start_interval_ms = duration(ctx, startInterval, `${what}.start_interval`);
  }
  const retries = get("retries");
  if (retries) result.retries = asInt(ctx, retries, `${what}.retries`, 0, 1_000_000);
  return result;
}

export function extraHosts(ctx: Context, node: YNode, service: string): string[] {
  const what = `${prefix(service)}extra_hosts`;
  const out: string[] = [];
  const add = (host: string, ip: string, line: number, at: string) => {
    host = host.trim();
    ip = ip.trim();
    if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (host === "" || ip === "" || /\s/.test(host) || /\s/.test(ip)) {
      ctx.fail(`${at} must look like HOST:IP or HOST=IP`, line);
    }
    out.push(`${host}:${ip}`);
  };
  if (node.kind === "map") {
    for (const entry of node.entries.values()) {
      const at = `${what}.${entry.key}`;
      if (entry.value.kind === "seq") {
        for (const item of stringList(ctx, entry.value, at)) {
          add(entry.key, item.value, item.line, at);
        }
      } else {
        add(entry.key, asText(ctx, entry.value, at), entry.keyLine, at);
      }
    }
    return out;
  }
  stringList(ctx, node, what).forEach(({ value, line }, i) => {
    const at = `${what}[${i}] ${shown(value)}`;
    const eq = value.indexOf("=");
    const sep = eq >= 0 ? eq : value.indexOf(":");
    if (sep < 0) ctx.fail(`${at} must look like HOST:IP or HOST=IP`, line);
    add(value.slice(0, sep), value.slice(sep + 1), line, at);
  });
  return out;
}

export function capabilities(ctx: Context, node: YNode, what: string): string[] {
  return stringList(ctx, node, what).map(({ value, line }, i) => {
    if (!CAPABILITY_RE.test(value)) {
      ctx.fail(`${what}[${i}]: ${shown(value)} is not a capability name`, line);
    }
    return value;
  });
}
