/**
 * Every id, name and reference is checked here before it goes into an Engine URL.
 * Invalid ones throw InvalidReferenceError and no request is made.
 */
import { InvalidReferenceError } from "./errors.ts";
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
