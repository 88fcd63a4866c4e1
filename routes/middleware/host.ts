import type { MiddlewareHandler } from "hono";
import { HttpError } from "../../lib/errors.ts";

export interface HostAllowListOptions {
  /** The hostname the panel listens on (`--listen`). */
  listenHostname: string;
  /** Extra origins (`--allowed-origins`): their hostnames are allowed too. */
  allowedOrigins: readonly string[];
}

/**
 * DNS rebinding: a page on `evil.example` that re-resolves its name to the panel's address
 * is "same-origin" with itself, so the Origin check cannot see it; only the Host header
 * does. Allowed: IP literals (rebinding needs a name), the listen hostname, `localhost`
 * (and `*.localhost`) when the panel listens on loopback or on every address, and the
 * hostnames of `--allowed-origins`. Anything else gets a 403 before any route runs, public
 * ones included. The options are normalised once, not per request.
 */
export function requireAllowedHost(options: HostAllowListOptions): MiddlewareHandler {
  const names = new Set<string>();
  const listen = options.listenHostname.toLowerCase();
  if (!isIpLiteral(listen)) names.add(listen);
  for (const origin of options.allowedOrigins) names.add(new URL(origin).hostname.toLowerCase());
  const localNames = isLoopback(listen) || isUnspecified(listen) || listen === "localhost";
  return async (c, next) => {
    const hostname = new URL(c.req.url).hostname.toLowerCase();
    const allowed = isIpLiteral(hostname) || names.has(hostname) ||
      (localNames && (hostname === "localhost" || hostname.endsWith(".localhost")));
    if (!allowed) {
      throw new HttpError(
        403,
        `Host "${hostname.slice(0, 100)}" is not one this panel answers to. ` +
          `Behind a reverse proxy, add its origin to --allowed-origins.`,
      );
    }
    await next();
  };
}

function isIpLiteral(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || /^\[?[0-9a-f:.]+\]?$/i.test(hostname) &&
      hostname.includes(":");
}

function isLoopback(hostname: string): boolean {
  return hostname.startsWith("127.") || hostname === "::1" || hostname === "[::1]";
}

function isUnspecified(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]";
}
