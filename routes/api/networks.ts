/**
 * /api/containers/networks: the network list with the containers attached and their
 * addresses, inspect, create, remove, connect, disconnect and prune (mutations through the
 * dispatcher).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { networkDetail, networkViews } from "../../lib/docker/networks.ts";
import { networkRef } from "../../lib/docker/validate.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";

export function networkApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher } = deps;

  app.get("/", async (c) => c.json({ networks: await networkViews(docker) }));

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    const target = typeof body.name === "string" ? body.name.slice(0, 128) : "";
    return c.json(await dispatchAs(c, dispatcher, "docker.network.create", target, body), 201);
  });

  app.post("/prune", async (c) => {
    const body = c.req.header("content-length") === "0" || !c.req.header("content-type")
      ? {}
      : await readJsonObject(c);
    return c.json(await dispatchAs(c, dispatcher, "docker.network.prune", "unused", body));
  });

  app.get("/:id", async (c) => {
    return c.json({ network: await networkDetail(docker, networkRef(c.req.param("id"))) });
  });

  app.delete("/:id", async (c) => {
    const id = networkRef(c.req.param("id"));
    return c.json(await dispatchAs(c, dispatcher, "docker.network.rm", id));
  });

  for (const action of ["connect", "disconnect"] as const) {
    app.post(`/:id/${action}`, async (c) => {
      const id = networkRef(c.req.param("id"));
      const body = await readJsonObject(c);
      return c.json(await dispatchAs(c, dispatcher, `docker.network.${action}`, id, body));
    });
  }

  return app;
}
