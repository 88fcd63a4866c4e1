/**
 * Every id, name and reference is checked here before it goes into an Engine URL.
 * Invalid ones throw InvalidReferenceError and no request is made.
 */
import { InvalidReferenceError } from "./errors.ts";
import { ValidationError } from "../errors.ts";
import { parseReference } from "./reference.ts";

// Docker's own name rule ([a-zA-Z0-9][a-zA-Z0-9_.-]+), which also admits hex ids and id
// prefixes. Nothing in it can change the URL's meaning: no / ? # % and no leading dot.
const OBJECT_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const EXEC_ID_RE = /^[a-f0-9]{64}$/;
const IMAGE_ID_RE = /^(?:sha256:)?[a-f0-9]{12,64}$/;

function check(value: unknown, pattern: RegExp, what: string, field: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    const shown = typeof value === "string"
      ? (value.length > 60
        ? `"${value.slice(0, 57)}..." (${value.length} characters)`
        : `"${value}"`)
      : String(value);
    throw new InvalidReferenceError(`Invalid ${what} ${shown}`, field);
  }
  return value;
}

/** A container id, id prefix or name. */
export function containerRef(value: unknown): string {
  return check(value, OBJECT_NAME_RE, "container id or name", "id");
}

/** A container name as given to create (same rule as a reference, at least two characters). */
export function containerName(value: unknown): string {
  return check(value, /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,127}$/, "container name", "name");
}

export function execId(value: unknown): string {
  return check(value, EXEC_ID_RE, "exec id", "id");
}

export function networkRef(value: unknown): string {
  return check(value, OBJECT_NAME_RE, "network id or name", "network");
}

export function volumeName(value: unknown): string {
  return check(value, OBJECT_NAME_RE, "volume name", "volume");
}

/** An image id (`sha256:…` or a hex prefix) or a valid image reference. */
export function imageRef(value: unknown): string {
  if (typeof value === "string" && IMAGE_ID_RE.test(value)) return value;
  if (typeof value !== "string") {
    throw new InvalidReferenceError(`Invalid image reference ${String(value)}`, "image");
  }
  parseReference(value);
  return value;
}

/**
 * A path inside a volume, as the browser names it: "/" or "/a/b", normalised (no empty,
 * "." or ".." segments, no control characters), so joined to a mount point it can never
 * leave the volume. It travels in a query string, never in the URL's path.
 */
export function volumePath(value: unknown): string {
  if (value === undefined || value === null || value === "") return "/";
  if (typeof value !== "string" || value.length > 4096 || hasControl(value)) {
    throw new InvalidReferenceError("Invalid path in the volume", "path");
  }
  const segments = value.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) {
    throw new InvalidReferenceError('A path in the volume may not contain ".."', "path");
  }
  return `/${segments.join("/")}`;
}

/** A file name for an upload: one path segment, no control characters, at most 255 bytes. */
export function uploadFileName(value: unknown): string {
  if (
    typeof value !== "string" || value === "" || value === "." || value === ".." ||
    value.includes("/") || hasControl(value) ||
    new TextEncoder().encode(value).length > 255
  ) {
    throw new InvalidReferenceError(
      "Invalid file name (one name, no slashes, at most 255 bytes)",
      "filename",
    );
  }
  return value;
}

/** C0 control characters and DEL. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,254}$/;

/**
 * A map of labels or driver options from a request: an object of string values, keys like
 * the Engine's (`com.example.key`), at most 64 entries. Absent is an empty map.
 */
export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(`${field} must be an object of strings`, field);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 64) throw new ValidationError(`${field} has more than 64 entries`, field);
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!LABEL_KEY_RE.test(key)) {
      throw new ValidationError(`${field} has an invalid key "${key.slice(0, 64)}"`, field);
    }
    if (typeof item !== "string" || item.length > 4096 || item.includes("\u0000")) {
      throw new ValidationError(
        `${field}.${key} must be a string of at most 4096 characters`,
        field,
      );
    }
    out[key] = item;
  }
  return out;
}

/** Prune filters by label: "key" or "key=value", at most 16. */
export function labelFilters(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 16) {
    throw new ValidationError(
      "labels must be a list of at most 16 key or key=value strings",
      "labels",
    );
  }
  return value.map((item) => {
    const key = typeof item === "string" ? item.split("=")[0] : "";
    if (typeof item !== "string" || !LABEL_KEY_RE.test(key) || item.length > 1024) {
      throw new ValidationError(`Invalid label filter ${JSON.stringify(item)}`, "labels");
    }
    return item;
  });
}

/** A volume driver or plugin name, e.g. `local` or `vieux/sshfs:latest`. */
export function driverName(value: unknown, field = "driver"): string {
  return check(value, /^[a-zA-Z0-9][a-zA-Z0-9_.:\/-]{0,127}$/, "driver name", field);
}

/** Refuses any field of a request body not in `allowed`, naming it. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(
        `Unknown field "${key.slice(0, 64)}" (allowed: ${allowed.join(", ")})`,
        key.slice(0, 64),
      );
    }
  }
}

/** A new volume's or network's name, as a request's `name` field. */
export function newObjectName(value: unknown, what: "volume" | "network"): string {
  return check(value, OBJECT_NAME_RE, `${what} name`, "name");
}

/** A container named in a request body's `container` field. */
export function containerField(value: unknown): string {
  return check(value, OBJECT_NAME_RE, "container id or name", "container");
}

/**
 * Caps on what a container's process is given. The Engine hands the command and environment
 * to runc in one message, and a large one (a 100 KB command) left a container that could
 * be neither inspected nor removed; labels are kept in every list answer. Nothing here is
 * near what a real container needs.
 */
export const PROCESS_LIMITS = {
  /** Command and entrypoint together, in UTF-8 bytes. */
  commandBytes: 32 * 1024,
  commandWords: 1_000,
  envCount: 1_000,
  envBytes: 32 * 1024,
  labelCount: 1_000,
  labelBytes: 64 * 1024,
  healthcheckBytes: 16 * 1024,
} as const;

export interface ProcessSettings {
  command?: readonly string[];
  entrypoint?: readonly string[];
  /** KEY=VALUE entries. */
  env?: readonly string[];
  labels?: Readonly<Record<string, string>>;
  healthcheck?: readonly string[];
}

/** The request fields to name in errors (the run API's or compose's). */
export interface ProcessFields {
  command: string;
  env: string;
  labels: string;
  healthcheck: string;
}

const RUN_FIELDS: ProcessFields = {
  command: "cmd",
  env: "env",
  labels: "labels",
  healthcheck: "healthcheck",
};

const utf8 = new TextEncoder();
const bytesOf = (texts: Iterable<string>) => {
  let total = 0;
  for (const text of texts) total += utf8.encode(text).length;
  return total;
};

/**
 * Refuses a process whose command, environment, labels or healthcheck are larger than
 * PROCESS_LIMITS, or hold a NUL character (which the Engine refuses only at start, with a
 * 500). Throws a ValidationError naming the field.
 */
export function checkProcessSettings(
  settings: ProcessSettings,
  fields: ProcessFields = RUN_FIELDS,
): void {
  const fail = (field: string, message: string): never => {
    throw new ValidationError(message, field);
  };
  const words = [...(settings.entrypoint ?? []), ...(settings.command ?? [])];
  if (words.length > PROCESS_LIMITS.commandWords) {
    fail(
      fields.command,
      `${fields.command} has too many words (${words.length}; at most ${PROCESS_LIMITS.commandWords})`,
    );
  }
  const commandBytes = bytesOf(words);
  if (commandBytes > PROCESS_LIMITS.commandBytes) {
    fail(
      fields.command,
      `${fields.command} is too long (${commandBytes} bytes; at most ${PROCESS_LIMITS.commandBytes} for the command and entrypoint together)`,
    );
  }
  if (words.some((word) => word.includes("\0"))) {
    fail(fields.command, `${fields.command}: an argument contains a NUL character`);
  }

  const env = settings.env ?? [];
  if (env.length > PROCESS_LIMITS.envCount) {
    fail(
      fields.env,
      `${fields.env} has too many variables (${env.length}; at most ${PROCESS_LIMITS.envCount})`,
    );
  }
  const envBytes = bytesOf(env);
  if (envBytes > PROCESS_LIMITS.envBytes) {
    fail(
      fields.env,
      `${fields.env} is too large (${envBytes} bytes; at most ${PROCESS_LIMITS.envBytes} in all)`,
    );
  }
  const withNul = env.find((entry) => entry.includes("\0"));
  if (withNul !== undefined) {
    const key = withNul.slice(0, Math.max(0, withNul.indexOf("="))).replaceAll("\0", "");
    fail(`${fields.env}.${key}`, `${fields.env}.${key}: the value contains a NUL character`);
  }

  const labels = Object.entries(settings.labels ?? {});
  if (labels.length > PROCESS_LIMITS.labelCount) {
    fail(
      fields.labels,
      `${fields.labels}: too many labels (${labels.length}; at most ${PROCESS_LIMITS.labelCount})`,
    );
  }
  const labelBytes = bytesOf(labels.flat());
  if (labelBytes > PROCESS_LIMITS.labelBytes) {
    fail(
      fields.labels,
      `${fields.labels} are too large (${labelBytes} bytes; at most ${PROCESS_LIMITS.labelBytes} in all)`,
    );
  }
  if (labels.some(([key, value]) => key.includes("\0") || value.includes("\0"))) {
    fail(fields.labels, `${fields.labels}: a label contains a NUL character`);
  }

  const check = settings.healthcheck ?? [];
  const checkBytes = bytesOf(check);
  if (checkBytes > PROCESS_LIMITS.healthcheckBytes) {
    fail(
      fields.healthcheck,
      `${fields.healthcheck} test is too long (${checkBytes} bytes; at most ${PROCESS_LIMITS.healthcheckBytes})`,
    );
  }
  if (check.some((word) => word.includes("\0"))) {
    fail(fields.healthcheck, `${fields.healthcheck} test contains a NUL character`);
  }
}
