/**
 * /api/webhooks (admins): the receivers of update notifications. A secret is never
 * returned (has_secret says whether one is set); adding and removing are dispatched
 * (webhook.add, webhook.remove) with the URL and secret as the unaudited attachment.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { HttpError } from "../../lib/errors.ts";
import { findWebhook, listWebhooks, webhookOrigin } from "../../lib/webhooks/store.ts";
import { readJsonObject } from "./body.ts";

export function webhookApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    if (c.get("actor").role !== "admin") throw new HttpError(403, "Only admins manage webhooks");
    await next();
  });

  app.get("/", (c) => c.json({ webhooks: listWebhooks(deps.db) }));

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    const added = await deps.dispatcher.dispatch<{ id: string }>({
      verb: "webhook.add",
      target: typeof body.url === "string" ? webhookOrigin(body.url) : "",
      params: {},
      actor: c.get("actor"),
      requestId: c.get("requestId"),
      attachment: { url: body.url, secret: body.secret },
    });
    return c.json(findWebhook(deps.db, added.id), 201);
  });

  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    const found = findWebhook(deps.db, id);
    return c.json(
      await deps.dispatcher.dispatch({
        verb: "webhook.remove",
        target: found ? webhookOrigin(found.url) : id.slice(0, 64),
        params: { id },
        actor: c.get("actor"),
        requestId: c.get("requestId"),
      }),
    );
  });

  return app;
}
