/**
 * createApp(deps): the whole Hono app. Order matters: request id and client address,
 * security headers, a well-formed URL, an allowed Host, same-origin check, the session
 * check that denies everything not on the public list, the body cap, then the routes.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { HttpError, RateLimitedError, statusOf } from "../lib/errors.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { requireSameOrigin } from "./middleware/origin.ts";
import { requireSession } from "./middleware/auth.ts";
import { requireAllowedHost } from "./middleware/host.ts";
import { requireWellFormedTarget } from "./middleware/request_target.ts";
import { appendAudit } from "../lib/sysctl/audit.ts";
import { staticAssets } from "./static.ts";
import { healthRoutes } from "./api/health.ts";
import { authApiRoutes, authFormRoutes } from "./api/auth.ts";
import { userApiRoutes } from "./api/users.ts";
import { auditApiRoutes } from "./api/audit.ts";
import { COMPOSE_BODY_LIMIT } from "./api/compose.ts";
import { pageRoutes } from "./pages/mod.tsx";
import { renderErrorPage } from "./_components/ErrorPage.tsx";
import { webhookApiRoutes } from "./api/webhooks.ts";
import { environmentApiRoutes } from "./api/environments.ts";
import {
  ENGINE_PAGES,
  environmentForwarder,
  LOCAL_PREFIXES,
  mountEngineRoutes,
} from "./engine_routes.ts";
import {
  createEnvironmentRegistry,
  type EnvironmentRegistry,
  type EnvironmentRegistryOptions,
} from "../lib/environments/registry.ts";
import { ENVIRONMENT_ID, LOCAL_ID } from "../lib/environments/address.ts";

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * A signed-in user's mutation that a route refused before it reached the dispatcher (a body
 * that is not JSON or nested too deep, an invalid id in the path, a body over the cap) is
 * audited here, so every refused attempt leaves a row whatever its input. Requests that
 * reached the dispatcher (which audits its own refusals), reads, and anonymous requests (a
 * 401 has no one to record) are not. Failing to write the row must not hide the refusal: it is logged.
 */
/** The environment a request's path acts on: `local` unless it is under an environment's prefix. */
function environmentOfPath(path: string): string {
  const id = path.match(/^\/(?:api\/|ws\/)?environments\/([^/]+)\//)?.[1];
  return id && ENVIRONMENT_ID.test(id) ? id : LOCAL_ID;
}

function auditRefusal(
  deps: AppDeps,
  environments: EnvironmentRegistry,
  c: Context<AppEnv>,
  status: number,
  message: string,
) {
  const actor = c.get("actor");
  const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (!actor || ((c.req.method === "GET" || c.req.method === "HEAD") && !upgrade)) return;
  const requestId = c.get("requestId");
  if (deps.dispatcher.hasAudited(requestId) || environments.hasAudited(requestId)) return;
  try {
    appendAudit(deps.db, {
      actor: actor.username,
      clientIp: actor.ip,
      action: "request.refused",
      target: `${c.req.method} ${c.req.path}`,
      params: {},
      exitCode: status,
      durationMs: 0,
      stderr: message,
      requestId,
      environment: environmentOfPath(c.req.path),
    });
  } catch (error) {
    deps.log(`Could not audit a refused request [${requestId}]: ${(error as Error).message}`);
  }
}

/**
 * The registry of other Engines for these deps, closed when the panel shuts down. Tests
 * pass shorter idle and monitor timers.
 */
export function createAppEnvironments(
  deps: AppDeps,
  timers: Pick<EnvironmentRegistryOptions, "idleMs" | "monitor"> = {},
): EnvironmentRegistry {
  const environments = createEnvironmentRegistry({
    ...timers,
    db: deps.db,
    secretKey: deps.secretKey,
    local: {
      id: LOCAL_ID,
      docker: deps.docker,
      events: deps.events,
      stats: deps.stats,
      dispatcher: deps.dispatcher,
      stacksDir: deps.config.stacksDir,
      closed: deps.shutdown,
    },
    localUrl: deps.docker.endpoint,
    stacksDir: deps.config.stacksDir,
    dispatcherDeps: {
      db: deps.db,
      streams: deps.streams,
      managedLabel: deps.config.managedLabel,
      secretKey: deps.secretKey,
      log: deps.log,
      dataDir: deps.config.dataDir,
      listen: deps.config.listen,
      updateCheckIntervalMs: deps.config.updateCheckIntervalMs,
    },
    log: deps.log,
  });
  if (deps.shutdown.aborted) environments.close();
  else deps.shutdown.addEventListener("abort", () => environments.close(), { once: true });
  return environments;
}

/** A browser navigating to a page (not the API, a WebSocket or an asset). */
function wantsPage(c: Context<AppEnv>): boolean {
  const path = c.req.path;
  return (c.req.method === "GET" || c.req.method === "HEAD") &&
    !/^\/(api|ws|static)\//.test(path) &&
    (c.req.header("accept") ?? "").includes("text/html");
}

function errorPage(c: Context<AppEnv>, status: number, message: string) {
  return c.html(renderErrorPage(status, message), status as 404);
}

export function createApp(appDeps: AppDeps): Hono<AppEnv> {
  const environments = appDeps.environments ?? createAppEnvironments(appDeps);
  const deps: AppDeps = { ...appDeps, environments };
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", crypto.randomUUID());
    const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
    c.set("clientIp", info?.remoteAddr?.hostname ?? "local");
    await next();
    c.header("X-Request-Id", c.get("requestId"));
  });
  app.use("*", securityHeaders());
  app.use("*", requireWellFormedTarget());
  app.use(
    "*",
    requireAllowedHost({
      listenHostname: deps.config.listen.hostname,
      allowedOrigins: deps.config.allowedOrigins,
    }),
  );
  app.use("*", requireSameOrigin({ allowedOrigins: deps.config.allowedOrigins }));
  app.use(
    "*",
    requireSession(deps.db, {
      idleMs: deps.config.sessionIdleMs,
      absoluteMs: deps.config.sessionAbsoluteMs,
    }),
  );
  // After the session check, so a signed-in user's oversized body is an audited refusal.
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
      /^\/api\/(environments\/[^/]+\/)?containers\/compose\//.test(c.req.path)
        ? composeLimit(c, next)
        : defaultLimit(c, next),
  );

  app.route("/static", staticAssets());
  app.route("/api/health", healthRoutes(deps));
  app.route("/api/auth", authApiRoutes(deps));
  app.route("/", authFormRoutes(deps)); // POST /login, POST /setup: the forms without scripts
  app.route("/api/users", userApiRoutes(deps));
  app.route("/api/audit", auditApiRoutes(deps));
  app.route("/api/webhooks", webhookApiRoutes(deps));
  // Every route that acts on one Engine: here on local, below on another environment.
  mountEngineRoutes(app, deps, LOCAL_PREFIXES);
  app.route("/api/environments", environmentApiRoutes(deps, environments));
  const forward = environmentForwarder(deps, environments);
  app.all("/api/environments/:env/*", forward);
  app.all("/ws/environments/:env/*", forward);
  app.get(`/environments/:env/:page{${ENGINE_PAGES.join("|")}}`, forward);
  app.route("/", pageRoutes(deps));

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404);
    }
    if (wantsPage(c)) return errorPage(c, 404, "This page does not exist.");
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
    if (status < 500) auditRefusal(deps, environments, c, status, error.message);
    if (error instanceof RateLimitedError) c.header("Retry-After", String(error.retryAfterSeconds));
    c.header("X-Request-Id", c.get("requestId"));
    const message = expected ? error.message : "Internal server error";
    if (wantsPage(c)) return errorPage(c, status, message);
    const field = expected ? error.field : undefined;
    // Compose parse errors know the YAML line they are about.
    const line = expected && typeof (error as { line?: unknown }).line === "number"
      ? (error as unknown as { line: number }).line
      : undefined;
    // A translated Engine error keeps the Engine's own text (lib/docker/error_text.ts).
    const details = expected && typeof (error as { details?: unknown }).details === "string"
      ? (error as unknown as { details: string }).details
      : undefined;
    return c.json(
      {
        error: message,
        ...(field ? { field } : {}),
        ...(line ? { line } : {}),
        ...(details ? { details } : {}),
      },
      status as 400,
    );
  });
  return app;
}
