/**
 * /api/containers/updates: the last image update check per container (any signed-in user)
 * and POST /check to run one now (admins; docker.updates.check through the dispatcher,
 * answered when it is done).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { listUpdateResults } from "../../lib/updates/store.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";

export function updateApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher, db } = deps;

  app.get("/", async (c) => {
    const results = listUpdateResults(db);
    // Containers removed since the last check are left out (kept when the Engine is down).
    const present = await listContainers(docker, { all: true }).then(
      (containers) => new Set(containers.map((container) => container.Id)),
      () => undefined,
    );
    return c.json({
      updates: present ? results.filter((result) => present.has(result.id)) : results,
    });
  });

  app.post("/check", async (c) => {
    const body = c.req.header("content-length") === "0" || !c.req.header("content-type")
      ? {}
      : await readJsonObject(c);
    const containers = body.containers;
    const target = Array.isArray(containers)
      ? containers.filter((id) => typeof id === "string").join(",").slice(0, 200)
      : "all";
    return c.json(
      await dispatchAs(c, dispatcher, "docker.updates.check", target, { containers }),
    );
  });

  return app;
}
