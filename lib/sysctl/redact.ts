/**
 * Audit rows never hold a secret: values under secret-looking keys are replaced, and
 * environment values are dropped while their keys stay (`API_KEY=[redacted]`). Anything
 * nested deeper than MAX_DEPTH becomes TOO_DEEP, so hostile input cannot exhaust the stack.
 */
export const REDACTED = "[redacted]";
export const TOO_DEEP = "[nested too deep]";
/** Levels of objects and arrays kept; real parameters and results are far shallower. */
export const MAX_DEPTH = 32;
const SECRET_KEY_RE =
  /pass(word|wd)?|secret|token|cookie|credential|authorization|^auth$|private.?key|api.?key/i;

export function redact(value: unknown, key = ""): unknown {
  return redactAt(value, key, 0);
}

function redactAt(value: unknown, key: string, depth: number): unknown {
  if (key && SECRET_KEY_RE.test(key)) {
    return value === undefined || value === null ? value : REDACTED;
  }
  if (key.toLowerCase() === "env" || key.toLowerCase() === "environment") return redactEnv(value);
  if (value && typeof value === "object") {
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    if (Array.isArray(value)) return value.map((item) => redactAt(item, "", depth + 1));
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactAt(v, k, depth + 1)]),
    );
  }
  return value;
}

function redactEnv(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item !== "string") return REDACTED;
      const eq = item.indexOf("=");
      return eq < 0 ? item : `${item.slice(0, eq)}=${REDACTED}`;
    });
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  }
  return value === undefined || value === null ? value : REDACTED;
}
