/** Formatting for the Images tab: the docker CLI's units and wording. */

/** Bytes in SI units (1000-based), three significant digits, like `docker images`: "4.26 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${Number(value.toFixed(digits))} ${units[unit]}`;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3 days ago", following go-units' HumanDuration as the docker CLI prints it. */
export function formatAge(epochSeconds: number, nowMs = Date.now()): string {
  const seconds = Math.max(0, Math.floor(nowMs / 1000 - epochSeconds));
  return `${humanDuration(seconds)} ago`;
}

export function humanDuration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (seconds < 1) return "Less than a second";
  if (seconds < MINUTE) return plural(seconds, "second");
  const minutes = Math.floor(seconds / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.round(seconds / HOUR);
  if (hours === 1) return "About an hour";
  if (hours < 48) return plural(hours, "hour");
  const days = Math.floor(seconds / DAY);
  if (days < 14) return plural(days, "day");
  if (days < 60) return plural(Math.floor(days / 7), "week");
  if (days < 365 * 2) return plural(Math.floor(days / 30), "month");
  return plural(Math.floor(days / 365), "year");
}

/** "5 minutes ago" for an ISO timestamp (SQLite's "YYYY-MM-DD HH:MM:SS" is read as UTC). */
export function formatSince(iso: string | null, nowMs = Date.now()): string {
  if (!iso) return "never";
  const ms = parseTimestamp(iso);
  if (Number.isNaN(ms)) return iso;
  return formatAge(ms / 1000, nowMs).replace(/^Less than a second ago$/, "just now");
}

export function parseTimestamp(iso: string): number {
  const normalised = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(iso)
    ? `${iso.replace(" ", "T")}Z`
    : iso;
  return Date.parse(normalised);
}

/** The full date for a tooltip. */
export function formatDate(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return "";
  return new Date(epochMs).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** `sha256:abc…` → `abc…` (12 characters), as the CLI shows ids. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** The registry a reference pulls from (docker.io when it names none), or null when unparsable. */
export function registryOf(reference: string): string | null {
  const ref = reference.trim();
  if (!ref || /\s/.test(ref)) return null;
  const slash = ref.indexOf("/");
  if (slash === -1) return "docker.io";
  const first = ref.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") {
    const host = first.toLowerCase();
    return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
  }
  return "docker.io";
}
