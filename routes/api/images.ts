/**
 * /api/containers/images and /api/containers/registries: the image inventory, pull with
 * live progress, delete, prune, and saved registry credentials (never returned).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { listImages } from "../../lib/docker/images.ts";
import { parseReference } from "../../lib/docker/reference.ts";
import { imageRef } from "../../lib/docker/validate.ts";
import { imageViews } from "../../lib/docker/views.ts";
import { listRegistries } from "../../lib/registries.ts";
import { ValidationError } from "../../lib/errors.ts";
import type { PullResult } from "../../lib/sysctl/handlers/images.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import { ndjsonResponse } from "../ndjson.ts";

export function imageApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher } = deps;

  app.get("/", async (c) => {
    const [images, containers] = await Promise.all([
      listImages(docker),
      listContainers(docker, { all: true }),
    ]);
    return c.json({ images: imageViews(images, containers) });
  });

  app.post(
    "/prune",
    async (c) => c.json(await dispatchAs(c, dispatcher, "docker.image.prune", "dangling")),
  );

  /**
   * Streams the Engine's progress as NDJSON and ends with {done, …}. The pull itself runs
   * detached from this response: a client that goes away does not stop it, and it is
   * audited when it ends either way.
   */
  app.post("/pull", async (c) => {
    const body = await readJsonObject(c);
    if (typeof body.reference !== "string") {
      throw new ValidationError("reference is required", "reference");
    }
    parseReference(body.reference);
    return ndjsonResponse(
      c,
      (write) =>
        dispatchAs<PullResult>(c, dispatcher, "docker.pull", body.reference as string, {
          reference: body.reference,
        }, write)
          .then((result) => write({ done: true, ...result }))
          .catch((error) =>
            write({ done: false, error: error instanceof Error ? error.message : String(error) })
          ),
    );
  });

  app.delete("/:id{.+}", async (c) => {
    const id = imageRef(c.req.param("id"));
    const force = c.req.query("force");
    if (force !== undefined && force !== "0" && force !== "1") {
      throw new ValidationError("force must be 0 or 1", "force");
    }
    return c.json(await dispatchAs(c, dispatcher, "docker.image.rm", id, { force: force === "1" }));
  });

  return app;
}

export function registryApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json({ registries: listRegistries(deps.db) }));

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    const params = {
      server_address: body.server_address,
      username: body.username,
      password: body.password,
    };
    const target = typeof body.server_address === "string" ? body.server_address.slice(0, 200) : "";
    return c.json(await dispatchAs(c, deps.dispatcher, "registry.upsert", target, params));
  });

  app.delete(
    "/:id",
    async (c) => c.json(await dispatchAs(c, deps.dispatcher, "registry.delete", c.req.param("id"))),
  );

  return app;
}
