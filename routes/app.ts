/**
 * createApp(deps): the whole Hono app. Order matters: request id and client address,
 * security headers, body cap, same-origin check, then the session check that denies
 * everything not on the public list, then the routes.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { HttpError, RateLimitedError, statusOf } from "../lib/errors.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { requireSameOrigin } from "./middleware/origin.ts";
import { requireSession } from "./middleware/auth.ts";
import { staticAssets } from "./static.ts";
import { healthRoutes } from "./api/health.ts";
import { authApiRoutes } from "./api/auth.ts";
import { userApiRoutes } from "./api/users.ts";
import { auditApiRoutes } from "./api/audit.ts";
import { containerApiRoutes, containerStatsRoutes } from "./api/containers.ts";
import { imageApiRoutes, registryApiRoutes } from "./api/images.ts";
import { execWsRoutes } from "./ws/exec.ts";
import { COMPOSE_BODY_LIMIT, composeApiRoutes } from "./api/compose.ts";
import { pageRoutes } from "./pages/mod.tsx";

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", crypto.randomUUID());
    const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
    c.set("clientIp", info?.remoteAddr?.hostname ?? "local");
    await next();
    c.header("X-Request-Id", c.get("requestId"));
  });
  app.use("*", securityHeaders());
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new HttpError(413, `The request body is larger than ${maxSize} bytes`);
      },
    });
  const defaultLimit = limit(DEFAULT_BODY_LIMIT);
  const composeLimit = limit(COMPOSE_BODY_LIMIT);
  // Compose uploads only get the larger cap.
  app.use(
    "*",
    (c, next) =>
      c.req.path.startsWith("/api/containers/compose/")
        ? composeLimit(c, next)
        : defaultLimit(c, next),
  );
  app.use("*", requireSameOrigin({ allowedOrigins: deps.config.allowedOrigins }));
  app.use(
    "*",
    requireSession(deps.db, {
      idleMs: deps.config.sessionIdleMs,
      absoluteMs: deps.config.sessionAbsoluteMs,
    }),
  );

  app.route("/static", staticAssets());
  app.route("/api/health", healthRoutes(deps));
  app.route("/api/auth", authApiRoutes(deps));
  app.route("/api/users", userApiRoutes(deps));
  app.route("/api/audit", auditApiRoutes(deps));
  // Before /api/containers/:id, which would otherwise take "images" for a container id.
  app.route("/api/containers/images", imageApiRoutes(deps));
  app.route("/api/containers/registries", registryApiRoutes(deps));
  app.route("/api/containers/compose", composeApiRoutes(deps));
  app.route("/api/containers", containerApiRoutes(deps));
  app.route("/api/docker/containers", containerStatsRoutes(deps));
  app.route("/ws/containers", execWsRoutes(deps));
  app.route("/", pageRoutes(deps));

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404);
    }
    return c.text("Not found", 404);
  });
  app.onError((error, c) => {
    const status = statusOf(error);
    const expected = error instanceof HttpError;
    if (!expected) {
      deps.log(
        `error ${c.req.method} ${c.req.path} [${c.get("requestId")}]: ${error.stack ?? error}`,
      );
    }
    if (error instanceof RateLimitedError) c.header("Retry-After", String(error.retryAfterSeconds));
    c.header("X-Request-Id", c.get("requestId"));
    const message = expected ? error.message : "Internal server error";
    const field = expected ? error.field : undefined;
    // Compose parse errors know the YAML line they are about.
    const line = expected && typeof (error as { line?: unknown }).line === "number"
      ? (error as unknown as { line: number }).line
      : undefined;
    return c.json(
      { error: message, ...(field ? { field } : {}), ...(line ? { line } : {}) },
      status as 400,
    );
  });
  return app;
}
