/**
 * Where to go after signing in: only a path on the panel's own origin. Used by the login
 * page (server) and the login form (browser), so neither can be talked into an open redirect.
 */
const BASE = "http://panel.invalid";
const MAX_NEXT_LENGTH = 2048;

/**
 * `next` when it is a same-origin path such as `/images?x=1`, otherwise undefined.
 * Refused: anything not starting with one `/` (`//host`, `/\host`, schemes), backslashes,
 * whitespace and control characters anywhere (browsers strip tabs and newlines, so
 * `/\t/host` would become `//host`), and the same in the percent-decoded form.
 */
export function safeNextPath(next: unknown): string | undefined {
  if (typeof next !== "string" || next.length > MAX_NEXT_LENGTH) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return undefined;
  }
  if (![next, decoded].every(isPlainPath)) return undefined;
  const url = new URL(next, BASE);
  if (url.origin !== BASE) return undefined;
  const path = url.pathname + url.search + url.hash;
  // The parsed form must be the text itself: nothing a browser would normalise differently.
  return path === next ? next : undefined;
}

function isPlainPath(text: string): boolean {
  return /^\/(?![/\\])/.test(text) && ![...text].some(isRefusedCharacter);
}

function isRefusedCharacter(char: string): boolean {
  const code = char.codePointAt(0)!;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || char === "\\" || /\s/.test(char);
}
