/**
 * Compose variable interpolation (compose-go's template syntax):
 *
 *   $$            a literal "$"
 *   $VAR ${VAR}   the value; unset → "" and `onUnset(name)` (the caller warns)
 *   ${VAR:-d}     d when VAR is unset or empty      ${VAR-d}  d when VAR is unset
 *   ${VAR:?msg}   error when VAR is unset or empty  ${VAR?msg} error when VAR is unset
 *   ${VAR:+alt}   alt when VAR is set and not empty ${VAR+alt} alt when VAR is set
 *
 * Defaults, alternatives and messages may themselves hold `${…}` (nested up to
 * MAX_NESTING levels); they are only evaluated when used. A `$` followed by anything else
 * stays as is; `${` without its `}` or with a malformed inside is an error. Values come only
 * from `lookup`: the panel's own environment is never consulted.
 */

export const MAX_NESTING = 16;

export class InterpolationError extends Error {
  override name = "InterpolationError";
  constructor(message: string, readonly required = false) {
    super(message);
  }
}

export type Lookup = (name: string) => string | undefined;

const NAME_RE = /[_A-Za-z][_A-Za-z0-9]*/y;
const BRACED_RE = /^([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-?+])([\s\S]*))?$/;

export function interpolate(
  template: string,
  lookup: Lookup,
  onUnset: (name: string) => void = () => {},
): string {
  if (!template.includes("$")) return template;
  return substitute(template, lookup, onUnset, 0);
}

function substitute(
  template: string,
  lookup: Lookup,
  onUnset: (name: string) => void,
  level: number,
): string {
  if (level > MAX_NESTING) {
    throw new InterpolationError(`Variables are nested more than ${MAX_NESTING} levels deep`);
  }
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const next = template[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
      continue;
    }
    if (next === "{") {
      const close = closingBrace(template, dollar + 1);
      if (close < 0) {
        throw new InterpolationError(
          `Invalid interpolation: "\${" without a closing "}" in ${quoted(template)}`,
        );
      }
      out += braced(template.slice(dollar + 2, close), template, lookup, onUnset, level);
      i = close + 1;
      continue;
    }
    NAME_RE.lastIndex = dollar + 1;
    const match = NAME_RE.exec(template);
    if (match) {
      const value = lookup(match[0]);
      if (value === undefined) onUnset(match[0]);
      out += value ?? "";
      i = dollar + 1 + match[0].length;
      continue;
    }
    out += "$";
    i = dollar + 1;
  }
  return out;
}

/** Index of the `}` matching the `{` at `open`, or -1. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i;
  }
  return -1;
}

function braced(
  inner: string,
  template: string,
  lookup: Lookup,
  onUnset: (name: string) => void,
  level: number,
): string {
  const match = inner.match(BRACED_RE);
  if (!match) {
    throw new InterpolationError(
      `Invalid interpolation "\${${clip(inner)}}" in ${quoted(template)}`,
    );
  }
  const [, name, operator, operand = ""] = match;
  const value = lookup(name);
  const nested = () => substitute(operand, lookup, onUnset, level + 1);
  switch (operator) {
    case undefined:
      if (value === undefined) onUnset(name);
      return value ?? "";
    case ":-":
      return value === undefined || value === "" ? nested() : value;
    case "-":
      return value === undefined ? nested() : value;
    case ":+":
      return value !== undefined && value !== "" ? nested() : "";
    case "+":
      return value !== undefined ? nested() : "";
    case ":?":
    case "?": {
      if (value !== undefined && (operator === "?" || value !== "")) return value;
      const message = nested();
      throw new InterpolationError(
        `Required variable ${name} is missing a value${message ? `: ${message}` : ""}`,
        true,
      );
    }
  }
  throw new InterpolationError(`Invalid interpolation "\${${clip(inner)}}"`);
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function quoted(text: string): string {
  return JSON.stringify(clip(text));
}
