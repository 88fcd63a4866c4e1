/**
 * Parsing of `WWW-Authenticate` challenges (RFC 7235): a header may hold several challenges,
 * each a scheme followed by comma-separated `name=value` parameters whose values may be
 * quoted strings with backslash escapes, e.g.
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 */

export interface Challenge {
  /** Lowercased: "basic", "bearer", … */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** Every challenge in the header value, in order. Malformed tails are ignored. */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const challenges: Challenge[] = [];
  let rest = header.trim();
  let current: Challenge | undefined;
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, "");
    const name = rest.match(TOKEN)?.[0];
    if (!name) break;
    const after = rest.slice(name.length);
    const param = after.match(/^\s*=\s*/);
    if (param && current && !/^\s*=\s*(=|,|$)/.test(after)) {
      rest = after.slice(param[0].length);
      let value: string;
      if (rest.startsWith('"')) {
        let i = 1;
        value = "";
        while (i < rest.length && rest[i] !== '"') {
          if (rest[i] === "\\" && i + 1 < rest.length) i++;
          value += rest[i++];
        }
        rest = rest.slice(i + 1);
      } else {
        value = rest.match(/^[^,\s]*/)![0];
        rest = rest.slice(value.length);
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    // Otherwise a new challenge's scheme (a token68 after it is read as a scheme too, and
    // has no parameters: registries never send one).
    current = { scheme: name.toLowerCase(), params: Object.create(null) };
    challenges.push(current);
    rest = after.replace(/^=+/, "");
  }
  return challenges;
}
