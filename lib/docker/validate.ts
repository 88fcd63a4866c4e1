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
