/**
 * Audit rows never hold a secret: values under secret-looking keys are replaced, and
 * environment values are dropped while their keys stay (`API_KEY=[redacted]`).
 */
export const REDACTED = "[redacted]";
const SECRET_KEY_RE =
  /pass(word|wd)?|secret|token|cookie|credential|authorization|^auth$|private.?key|api.?key/i;

export function redact(value: unknown, key = ""): unknown {
  if (key && SECRET_KEY_RE.test(key)) {
    return value === undefined || value === null ? value : REDACTED;
  }
  if (key.toLowerCase() === "env" || key.toLowerCase() === "environment") return redactEnv(value);
  if (Array.isArray(value)) return value.map((item) => redact(item));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
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
