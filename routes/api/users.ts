/**
 * User management: admins create, delete, change roles and reset passwords; a viewer sees
 * only their own account. Ids in the path are checked by the handlers (decimal only).
 */
import { Hono } from "hono";
import { getUser, listUsers } from "../../lib/auth/users.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import { dispatchUserUpdate } from "./password_change.ts";

export function userApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => {
    const actor = c.get("actor");
    if (actor.role === "admin") return c.json({ users: listUsers(deps.db) });
    const self = actor.userId === undefined ? undefined : getUser(deps.db, actor.userId);
    return c.json({ users: self ? [self] : [] });
  });

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    const user = await dispatchAs(c, deps.dispatcher, "user.create", String(body.username ?? ""), {
      username: body.username,
      password: body.password,
      role: body.role ?? "viewer",
    });
    return c.json({ user }, 201);
  });

  app.patch("/:id", async (c) => {
    const body = await readJsonObject(c);
    const params: Record<string, unknown> = {};
    if (body.role !== undefined) params.role = body.role;
    if (body.password !== undefined) params.password = body.password;
    if (body.current_password !== undefined) params.current_password = body.current_password;
    const user = await dispatchUserUpdate(c, deps, c.req.param("id"), params);
    return c.json({ user });
  });

  app.delete("/:id", async (c) => {
    const result = await dispatchAs(c, deps.dispatcher, "user.delete", c.req.param("id"));
    return c.json(result);
  });

  return app;
}
