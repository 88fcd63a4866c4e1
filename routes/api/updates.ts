/**
 * /api/containers/updates: the last image update check per container (any signed-in user)
 * and POST /check to run one now (admins; docker.updates.check through the dispatcher,
 * answered when it is done); POST /stacks/{project} updates the services of a compose stack
 * whose images changed (compose.stack.update, pull progress as NDJSON).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { listUpdateResults } from "../../lib/updates/store.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import { jsonUntilProgress } from "../ndjson.ts";

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

  app.post("/stacks/:project", async (c) => {
    const project = c.req.param("project");
    return await jsonUntilProgress(
      c,
      200,
      (progress) =>
        dispatchAs<object>(c, dispatcher, "compose.stack.update", project, {}, progress),
      deps.log,
      deps,
    );
  });

  return app;
}
