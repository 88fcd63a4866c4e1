/** createApp(deps): the whole Hono app. Pages, /api and static assets are mounted here. */
import { Hono } from "hono";
import type { AppDeps } from "./deps.ts";
import { HttpError, statusOf } from "../lib/errors.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { staticAssets } from "./static.ts";
import { healthRoutes } from "./api/health.ts";
import { pageRoutes } from "./pages/mod.tsx";

export type AppEnv = { Variables: { requestId: string } };

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", crypto.randomUUID());
    await next();
  });
  app.use("*", securityHeaders());
  app.route("/static", staticAssets());
  app.route("/api/health", healthRoutes(deps));
  app.route("/", pageRoutes(deps));

  app.notFound((c) => {
    if (c.req.path.startsWith("/api/")) {
      return c.json({ error: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404);
    }
    return c.text("Not found", 404);
  });
  app.onError((error, c) => {
    const status = statusOf(error);
    if (status >= 500 && !(error instanceof HttpError)) {
      deps.log(
        `error ${c.req.method} ${c.req.path} [${c.get("requestId")}]: ${error.stack ?? error}`,
      );
    }
    const message = status >= 500 && !(error instanceof HttpError)
      ? "Internal server error"
      : error.message;
    const field = error instanceof HttpError ? error.field : undefined;
    return c.json(
      { error: message, ...(field ? { field } : {}), requestId: c.get("requestId") },
      status as 400,
    );
  });
  return app;
}
