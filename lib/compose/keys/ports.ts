/** ports: and expose: of a service. */
import { shown } from "../errors.ts";
import type { PortMapping } from "../types.ts";
import type { YNode } from "../yaml.ts";
import {
  asSeq,
  asString,
  asText,
  checkKeys,
  type Context,
  isNull,
  prefix,
  stringList,
} from "../readers.ts";

/** Port mappings one project may expand to (ranges included). */
export const MAX_PORT_MAPPINGS = 65_536;

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9a-fA-F:.]+$/;

interface PortParts {
  hostIp: string;
  host: string;
  container: string;
  protocol: string;
}

export function parsePortRange(
  ctx: Context,
  text: string,
  what: string,
  which: string,
  line: number,
): [number, number] {
  const match = text.match(/^(\d{1,5})(?:-(\d{1,5}))?$/);
  const start = match ? Number(match[1]) : NaN;
  const end = match ? Number(match[2] ?? match[1]) : NaN;
  if (!match || start < 1 || start > 65535 || end < 1 || end > 65535) {
    ctx.fail(
      `${what}: ${which} must be a number from 1 to 65535 or a range, got ${shown(text)}`,
      line,
    );
  }
  if (end < start) ctx.fail(`${what}: the ${which} range ${shown(text)} runs backwards`, line);
  return [start, end];
}

export function checkHostIp(ctx: Context, raw: string, what: string, line: number): string {
  const ip = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (ip === "" || IPV4_RE.test(ip) || (ip.includes(":") && IPV6_RE.test(ip))) return ip;
  return ctx.fail(`${what}: ${shown(raw)} is not an IP address`, line);
}

/** "80", "8080:80", "127.0.0.1:8080:80", "[::1]:80:80", "127.0.0.1::80", "53:53/udp". */
function splitShortPort(ctx: Context, text: string, what: string, line: number): PortParts {
  let rest = text.trim();
  let protocol = "tcp";
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    protocol = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  let hostIp = "";
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") {
      ctx.fail(`${what}: ${shown(text)} is not a valid port mapping`, line);
    }
    hostIp = rest.slice(0, close + 1);
    rest = rest.slice(close + 2);
    if (rest.split(":").length !== 2) {
      ctx.fail(`${what}: ${shown(text)} must look like [IP]:HOST:CONTAINER`, line);
    }
  }
  const parts = rest.split(":");
  const container = parts[parts.length - 1];
  let host = "";
  if (parts.length >= 2) host = parts[parts.length - 2];
  if (parts.length >= 3) hostIp = parts.slice(0, -2).join(":");
  if (container === "") {
    ctx.fail(`${what}: ${shown(text)} has no container port`, line);
  }
  return { hostIp, host, container, protocol };
}

function expandPorts(
  ctx: Context,
  parts: PortParts,
  what: string,
  line: number,
): PortMapping[] {
  const protocol = parts.protocol.toLowerCase();
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") {
    ctx.fail(`${what}: the protocol must be tcp, udp or sctp, got ${shown(parts.protocol)}`, line);
  }
  const hostIp = checkHostIp(ctx, parts.hostIp, what, line);
  const [cStart, cEnd] = parsePortRange(ctx, parts.container, what, "the container port", line);
  const count = cEnd - cStart + 1;
  let host: [number, number] | null = null;
  if (parts.host !== "") host = parsePortRange(ctx, parts.host, what, "the host port", line);
  if (host && host[1] - host[0] + 1 !== count && count !== 1) {
    ctx.fail(
      `${what}: the host range ${parts.host} and the container range ${parts.container} differ in size`,
      line,
    );
  }
  ctx.ports += count;
  if (ctx.ports > MAX_PORT_MAPPINGS) {
    ctx.fail(`The project maps more than ${MAX_PORT_MAPPINGS} ports`, line);
  }
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let published = "";
    if (host) {
      published = count === 1
        ? (host[0] === host[1] ? String(host[0]) : `${host[0]}-${host[1]}`)
        : String(host[0] + i);
    }
    out.push({ host_ip: hostIp, published, target: cStart + i, protocol });
  }
  return out;
}

export function ports(ctx: Context, node: YNode, service: string): PortMapping[] {
  const out: PortMapping[] = [];
  asSeq(ctx, node, `${prefix(service)}ports`).forEach((item, i) => {
    const what = item.kind === "scalar"
      ? `${prefix(service)}ports[${i}] ${shown(item.text)}`
      : `${prefix(service)}ports[${i}]`;
    if (
      item.kind === "scalar" && (typeof item.value === "number" || typeof item.value === "string")
    ) {
      const text = typeof item.value === "number" ? item.text : item.value;
      out.push(...expandPorts(ctx, splitShortPort(ctx, text, what, item.line), what, item.line));
      return;
    }
    if (item.kind !== "map") {
      ctx.fail(`${what} must be a string like "8080:80" or a map with target`, item.line);
    }
    checkKeys(
      ctx,
      item,
      [
        "target",
        "published",
        "host_ip",
        "protocol",
        "mode",
        "name",
        "app_protocol",
      ],
      service,
      `ports[${i}]`,
    );
    const get = (key: string) => item.entries.get(key)?.value;
    const target = get("target");
    if (isNull(target)) ctx.fail(`${what} needs a target port`, item.line);
    const published = get("published");
    const hostIp = get("host_ip");
    const protocol = get("protocol");
    out.push(...expandPorts(
      ctx,
      {
        container: asText(ctx, target!, `${what}.target`).trim(),
        host: isNull(published) ? "" : asText(ctx, published!, `${what}.published`).trim(),
        hostIp: isNull(hostIp) ? "" : asString(ctx, hostIp!, `${what}.host_ip`).trim(),
        protocol: isNull(protocol) ? "tcp" : asString(ctx, protocol!, `${what}.protocol`),
      },
      what,
      target!.line,
    ));
  });
  return out;
}

export function expose(ctx: Context, node: YNode, service: string): string[] {
  return stringList(ctx, node, `${prefix(service)}expose`).map(({ value, line }, i) => {
    const match = value.trim().match(/^(\d{1,5}(?:-\d{1,5})?)(?:\/(tcp|udp|sctp))?$/);
    const what = `${prefix(service)}expose[${i}] ${shown(value)}`;
    if (!match) {
      ctx.fail(`${what} must be a port or range, optionally with /tcp, /udp or /sctp`, line);
    }
    parsePortRange(ctx, match[1], what, "the port", line);
    return value.trim();
  });
}
