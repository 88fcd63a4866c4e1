/** Text for the containers table: states, durations, ports. Pure functions, no DOM. */
import type { ContainerView, PortView } from "./types.ts";

export { formatBytes } from "../../routes/_components/format.ts";

/** Milliseconds since the epoch, or null for a missing or zero ("0001-01-01…") timestamp. */
export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** "45s", "5m", "3h", "2d": one unit, like the Engine's own "Up 5 minutes". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const UNIT_SECONDS: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  week: 7 * 86400,
  month: 30 * 86400,
  year: 365 * 86400,
};

/** The Engine's human durations ("5 minutes", "About an hour") back into seconds. */
export function humanSeconds(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === "less than a second") return 0;
  if (t === "about a minute") return 60;
  if (t === "about an hour") return 3600;
  const match = /^(\d+) (second|minute|hour|day|week|month|year)s?$/.exec(t);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]] : null;
}

/**
 * How long ago the container started (running) or finished (exited), in seconds at
 * `nowMs`: from started_at/finished_at when the view has them, otherwise from the
 * Engine's status text ("Up 5 minutes", "Exited (0) 3 hours ago") as of `receivedMs`.
 */
export function sinceSeconds(c: ContainerView, nowMs: number, receivedMs: number): number | null {
  const stamp = parseTime(
    c.state === "running" || c.state === "paused" ? c.started_at : c.finished_at,
  );
  if (stamp !== null) return (nowMs - stamp) / 1000;
  const match = /^(?:Up|Exited \(-?\d+\)|Restarting \(-?\d+\)) (.+?)(?: ago)?(?: \(.*\))?$/.exec(
    c.status,
  );
  const base = match ? humanSeconds(match[1]) : null;
  return base === null ? null : base + Math.max(0, nowMs - receivedMs) / 1000;
}

/** "3h ago" for a time in the past. */
export function ago(ms: number, nowMs: number): string {
  return `${formatDuration((nowMs - ms) / 1000)} ago`;
}

export function formatDateTime(iso: string | null | undefined): string {
  const ms = parseTime(iso);
  if (ms === null) return "–";
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function formatPercent(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value >= 100 ? `${Math.round(value)}%` : `${value.toFixed(1)}%`;
}

/**
 * The pill's text: "exited (137)" for an exited container, the health as text beside the
 * state ("running · unhealthy"), otherwise the state.
 */
export function stateLabel(c: ContainerView): string {
  if ((c.state === "exited" || c.state === "dead") && c.exit_code !== null) {
    return `${c.state} (${c.exit_code})`;
  }
  const health = c.state === "running" ? c.health ?? healthOf(c.status) : null;
  return health ? `${c.state} · ${health}` : c.state;
}

/** The pill's classes: a clean exit is neutral, not an error; an unhealthy one stands out. */
export function pillClass(c: ContainerView): string {
  const health = c.state === "running" ? c.health ?? healthOf(c.status) : null;
  return [
    "pill",
    `state-${c.state}`,
    c.state === "exited" && c.exit_code === 0 ? "exit-ok" : "",
    health ? `health-${health}` : "",
  ].filter(Boolean).join(" ");
}

/** "healthy" / "unhealthy" / "starting" from the Engine's status text, if it has a check. */
export function healthOf(status: string): "healthy" | "unhealthy" | "starting" | null {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!match) return null;
  return match[1] === "health: starting" ? "starting" : match[1] as "healthy" | "unhealthy";
}

/** The uptime column: "up 5m", "exited 3h ago". */
export function lifetime(c: ContainerView, nowMs: number, receivedMs: number): string {
  const since = sinceSeconds(c, nowMs, receivedMs);
  switch (c.state) {
    case "running":
      return since !== null ? `up ${formatDuration(since)}` : c.status.toLowerCase();
    case "paused":
      return since !== null ? `paused, up ${formatDuration(since)}` : "paused";
    case "exited":
    case "dead":
      return since !== null ? `${c.state} ${formatDuration(since)} ago` : c.state;
    case "created":
      return "never started";
    case "restarting":
      return "restarting";
    default:
      return c.status.toLowerCase() || c.state;
  }
}

export interface PortLink {
  label: string;
  href: string | null;
  title: string;
}

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * Ports as "host:container/proto", one entry per binding. The Engine lists a port bound on
 * every address twice (0.0.0.0 and ::); those collapse into one. TCP ports published on
 * the host link to http://<the panel's hostname>:<port>/.
 */
export function portLinks(ports: PortView[], hostname: string | null): PortLink[] {
  const seen = new Set<string>();
  const links: PortLink[] = [];
  const sorted = [...ports].sort((a, b) =>
    (a.host_port ?? 1e6) - (b.host_port ?? 1e6) || a.container_port - b.container_port
  );
  for (const port of sorted) {
    const ip = port.host_ip && !WILDCARDS.has(port.host_ip) ? port.host_ip : "";
    const hostPart = port.host_port
      ? `${ip ? `${ip.includes(":") ? `[${ip}]` : ip}:` : ""}${port.host_port}:`
      : "";
    const label = `${hostPart}${port.container_port}/${port.proto}`;
    if (seen.has(label)) continue;
    seen.add(label);
    const published = port.host_port !== null && port.host_port > 0;
    links.push({
      label,
      href: published && port.proto === "tcp" && hostname
        ? `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port.host_port}/`
        : null,
      title: published
        ? `Container port ${port.container_port}/${port.proto} published on ${
          ip || "every address"
        }, port ${port.host_port}`
        : `Container port ${port.container_port}/${port.proto}, not published on the host`,
    });
  }
  return links;
}

/** Splits a command line on whitespace; "double" and 'single' quotes group, \ escapes. */
export function splitCommand(line: string): { args: string[]; error: string | null } {
  const args: string[] = [];
  let current = "";
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && (line[i + 1] === '"' || line[i + 1] === "\\")) {
        current += line[++i];
      } else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      current += line[++i];
      inArg = true;
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current);
      current = "";
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (quote) return { args: [], error: `Unclosed ${quote === '"' ? "double" : "single"} quote` };
  if (inArg) args.push(current);
  return { args, error: null };
}
