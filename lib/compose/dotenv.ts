/**
 * `.env` files as Compose reads them (compose-go's dotenv format):
 *
 *   # a comment line; blank lines are skipped
 *   KEY=value            unquoted: runs to the end of the line, " #" starts a comment,
 *                        trailing spaces are dropped, ${VAR} is interpolated
 *   export KEY=value     `export ` is ignored
 *   KEY: value           the YAML-style separator is accepted too
 *   KEY='literal $x'     single quotes: taken literally (\' is a quote), may span lines
 *   KEY="a\nb ${X}"      double quotes: \n \t \r \\ \" \$ escapes, then interpolation
 *   KEY                  no value: taken from `lookup` when it knows KEY, else left out
 *
 * Variables in values resolve against the keys defined earlier in the same file, then
 * `lookup`. Nothing here reads the process environment.
 */
import { interpolate, InterpolationError, type Lookup } from "./interpolate.ts";

export class DotenvError extends Error {
  override name = "DotenvError";
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

export interface DotenvOptions {
  /** Variables not defined earlier in the file (and values for bare `KEY` lines). */
  lookup?: Lookup;
  /** A value referred to a variable nobody defines; `line` is the file's line. */
  onUnset?: (name: string, line: number) => void;
}

const KEY_CHAR_RE = /[\p{L}\p{N}_.\-[\]]/u;
const ESCAPE_RE = /\\(?:[abfnrtv$"\\]|0[0-7]{0,3})/g;
const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  '"': '"',
  "\\": "\\",
  // `\$` is a literal dollar: `$$` survives the interpolation that follows.
  $: "$$",
};

export function parseDotenv(text: string, options: DotenvOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const external = options.lookup ?? (() => undefined);
  const lookup: Lookup = (name) => out.get(name) ?? external(name);
  const n = text.length;
  let i = 0;
  let line = 1;
  const isBlank = (ch: string | undefined) =>
    ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v" || ch === "\uFEFF";
  const skipBlanks = () => {
    while (i < n && isBlank(text[i])) i++;
  };
  const expand = (value: string, at: number) => {
    try {
      return interpolate(value, lookup, (name) => options.onUnset?.(name, at));
    } catch (error) {
      if (error instanceof InterpolationError) throw new DotenvError(error.message, at);
      throw error;
    }
  };

  while (true) {
    // Whitespace, blank lines and comment lines.
    while (i < n) {
      const ch = text[i];
      if (ch === "\n") {
        line++;
        i++;
      } else if (isBlank(ch)) {
        i++;
      } else if (ch === "#") {
        const end = text.indexOf("\n", i);
        i = end < 0 ? n : end;
      } else break;
    }
    if (i >= n) break;
    const start = line;
    if (text.startsWith("export", i) && (text[i + 6] === " " || text[i + 6] === "\t")) {
      i += 6;
      skipBlanks();
    }
    const keyStart = i;
    while (i < n && KEY_CHAR_RE.test(text[i])) i++;
    const key = text.slice(keyStart, i);
    skipBlanks();
    const separator = text[i];
    if (
      key === "" || (separator !== undefined && separator !== "\n" && separator !== "=" &&
        separator !== ":")
    ) {
      const bad = key === "" ? text[i] : separator;
      throw new DotenvError(
        `unexpected character ${JSON.stringify(bad)} in a variable name (use KEY=VALUE)`,
        start,
      );
    }
    if (separator === undefined || separator === "\n") {
      // A bare KEY inherits its value from the environment (here: `lookup` only).
      const value = external(key);
      if (value !== undefined) out.set(key, value);
      continue;
    }
    i++;
    skipBlanks();
    const quote = text[i];
    if (quote === "'" || quote === '"') {
      let raw = "";
      let escaped = false;
      let j = i + 1;
      for (; j < n; j++) {
        const ch = text[j];
        if (ch === "\n") line++;
        if (escaped) {
          raw += ch === quote ? ch : `\\${ch}`;
          escaped = false;
        } else if (ch === "\\") {
          escaped = true;
        } else if (ch === quote) {
          break;
        } else {
          raw += ch;
        }
      }
      if (j >= n) throw new DotenvError(`the quoted value of ${key} is not terminated`, start);
      i = j + 1;
      skipBlanks();
      if (i < n && text[i] !== "\n" && text[i] !== "#") {
        throw new DotenvError(`unexpected text after the quoted value of ${key}`, line);
      }
      out.set(key, quote === '"' ? expand(unescape(raw), start) : raw);
    } else {
      let end = text.indexOf("\n", i);
      if (end < 0) end = n;
      let raw = text.slice(i, end);
      i = end;
      const comment = raw.indexOf(" #");
      if (comment >= 0) raw = raw.slice(0, comment);
      out.set(key, expand(raw.trimEnd(), start));
    }
  }
  return out;
}

function unescape(raw: string): string {
  return raw.replace(ESCAPE_RE, (match) => {
    const ch = match[1];
    if (ch === "0") return String.fromCharCode(parseInt(match.slice(1) || "0", 8));
    return ESCAPES[ch] ?? match;
  });
}
