import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { findSession, type SessionTimeouts } from "../../lib/auth/sessions.ts";
import type { Db } from "../../lib/db/db.ts";
import { HttpError } from "../../lib/errors.ts";
import type { AppEnv } from "../env.ts";

export const SESSION_COOKIE = "cm_session";
/** The cookie's name when served over TLS: the __Host- prefix pins it to this origin. */
export const SECURE_SESSION_COOKIE = "__Host-cm_session";

/**
 * The short, named list of routes that answer without a session. Everything else, pages,
 * API, SSE and WebSocket alike, requires one (tests/routes/auth_enumeration_test.ts walks
 * every registered route to prove it).
 */
export const PUBLIC_ROUTES: readonly { method: "GET" | "POST"; path: string; prefix?: true }[] = [
  { method: "GET", path: "/login" },
  { method: "GET", path: "/setup" },
  // The sign-in and setup forms posted without scripts (routes/api/auth.ts authFormRoutes).
  { method: "POST", path: "/login" },
  { method: "POST", path: "/setup" },
  { method: "POST", path: "/api/auth/login" },
  { method: "POST", path: "/api/auth/setup" },
  { method: "GET", path: "/api/health" },
  { method: "GET", path: "/static/", prefix: true },
];

export function isPublicRoute(method: string, path: string): boolean {
  const m = method === "HEAD" ? "GET" : method;
  return PUBLIC_ROUTES.some((route) =>
    route.method === m && (route.prefix ? path.startsWith(route.path) : path === route.path)
  );
}

export function isSecureRequest(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}

export function sessionCookieName(c: Context): string {
  return isSecureRequest(c) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** Only the cookie counts: no ?token= and no Authorization header. */
export function requireSession(db: Db, timeouts: SessionTimeouts): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = getCookie(c, sessionCookieName(c));
    const session = token ? findSession(db, token, timeouts) : undefined;
    if (session) {
      c.set("session", session);
      c.set("actor", {
        username: session.username,
        role: session.role,
        ip: c.get("clientIp"),
        userId: session.userId,
        sessionHash: session.tokenHash,
      });
    }
    if (session || isPublicRoute(c.req.method, c.req.path)) return await next();
    // A refused WebSocket upgrade is a 403, like a foreign Origin: the browser shows no
    // status for a failed handshake anyway, and the exec endpoint's contract names 403.
    if (isUpgrade(c)) throw new HttpError(403, "Sign in first: no WebSocket without a session");
    if (wantsHtml(c)) {
      const next = c.req.path + (new URL(c.req.url).search || "");
      return c.redirect(`/login?${new URLSearchParams({ next })}`, 302);
    }
    throw new HttpError(401, "Sign in first");
  };
}

function isUpgrade(c: Context): boolean {
  return c.req.path.startsWith("/ws/") || c.req.header("upgrade")?.toLowerCase() === "websocket";
}

/** Page navigations get a redirect; API and SSE requests get a 401. */
function wantsHtml(c: Context): boolean {
  if (c.req.path.startsWith("/api/")) return false;
  if (c.req.method !== "GET" && c.req.method !== "HEAD") return false;
  const accept = c.req.header("accept") ?? "";
  return !accept.includes("text/event-stream");
}

/** Throws 403 unless the signed-in user is an admin. */
export function requireAdmin(c: Context<AppEnv>) {
  const actor = c.get("actor");
  if (actor.role !== "admin") throw new HttpError(403, "Only an admin may do this");
}
