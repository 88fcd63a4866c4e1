import type { MiddlewareHandler } from "hono";
import { ValidationError } from "../../lib/errors.ts";

/**
 * Refuses a request whose path or query has malformed percent-encoding (`%E0%A4%A`, a lone
 * `%`) with a 400, before any route decodes it: one check here instead of a URIError (a 500
 * with a stack trace) wherever a handler happens to call decodeURIComponent.
 */
export function requireWellFormedTarget(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const target = start < 0 ? "" : url.slice(start);
    if (target.includes("%") && !decodes(target)) {
      throw new ValidationError("The request URL has malformed percent-encoding");
    }
    await next();
  };
}

function decodes(target: string): boolean {
  // Each part is decoded on its own, as routing and query parsing do.
  for (const part of target.split(/[/?&=#]/)) {
    try {
      decodeURIComponent(part);
    } catch {
      return false;
    }
  }
  return true;
}
