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
import { listRegistries, registryTarget } from "../../lib/registries.ts";
import { HttpError, ValidationError } from "../../lib/errors.ts";
import { createPullTracker, type PullStreamLine, type TrackedPull } from "../../lib/pulls.ts";
import type { PullResult } from "../../lib/sysctl/handlers/images.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import {
  endStreamWithSession,
  ndjsonBody,
  ndjsonStream,
  streamFromFirstProgress,
} from "../ndjson.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function imageApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher } = deps;
  const pulls = createPullTracker();

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
   * Streams the Engine's progress as NDJSON and ends with {done, …}. A refusal (a viewer's
   * 403) or bad input is a plain JSON answer: the stream starts with the first progress.
   * The pull itself runs detached from this response: a client that goes away does not
   * stop it, and it is audited when it ends either way. While it runs, GET /pulls lists it
   * and GET /pulls/{id} replays and follows it (a reloaded Images tab picks it up again).
   */
  app.post("/pull", async (c) => {
    const body = await readJsonObject(c);
    if (typeof body.reference !== "string") {
      throw new ValidationError("reference is required", "reference");
    }
    const reference = body.reference;
    parseReference(reference);
    const actor = c.get("actor").username;
    let tracked: TrackedPull | undefined;
    return await streamFromFirstProgress(c, {
      run: (progress) =>
        dispatchAs<PullResult>(c, dispatcher, "docker.pull", reference, { reference }, (line) => {
          tracked ??= pulls.start(reference, actor);
          tracked.record(line as PullStreamLine);
          progress(line);
        }),
      line: (line) => line,
      done: (result) => ({ done: true, ...result }),
      onFinal: (line) => tracked?.finish(line),
      log: deps.log,
      owner: deps,
    });
  });

  app.get("/pulls", (c) => c.json({ pulls: pulls.running() }));

  app.get("/pulls/:id", (c) => {
    const id = c.req.param("id");
    if (!UUID.test(id)) throw new ValidationError("Not a pull id", "id");
    const stream = ndjsonStream(deps.log);
    // Released when the pull ends, the client goes away (the stream's signal) or the
    // session ends; the pull itself goes on.
    const following = pulls.follow(
      id,
      (line) => void stream.write(line),
      () => stream.close(),
      stream.signal,
    );
    if (!following) {
      stream.close();
      throw new HttpError(404, "No such pull is running; it may have finished");
    }
    endStreamWithSession(c, deps, stream);
    return ndjsonBody(c, stream);
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

  // The audit row names the registry by its address, not by the row id.
  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    const target = registryTarget(deps.db, id);
    return c.json(await dispatchAs(c, deps.dispatcher, "registry.delete", target, { id }));
  });

  return app;
}
