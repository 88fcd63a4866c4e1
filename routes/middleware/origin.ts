import type { MiddlewareHandler } from "hono";
import { HttpError } from "../../lib/errors.ts";

/**
 * CSRF and cross-site WebSocket hijacking: every non-GET request and every WebSocket
 * upgrade must carry an Origin that exactly matches the panel's own origin (scheme, host
 * and port of the request) or one of the configured origins. Otherwise 403, before any
 * handler runs.
 */
export function requireSameOrigin(
  options: { allowedOrigins: readonly string[] },
): MiddlewareHandler {
  const allowed = new Set(options.allowedOrigins);
  return async (c, next) => {
    const method = c.req.method;
    const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if ((method === "GET" || method === "HEAD") && !isUpgrade) return await next();
    const origin = c.req.header("origin");
    const own = new URL(c.req.url).origin;
    if (!origin || origin === "null" || (origin !== own && !allowed.has(origin))) {
      throw new HttpError(
        403,
        "Cross-origin request refused: the Origin header must match this panel",
      );
    }
    await next();
  };
}
