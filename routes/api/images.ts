/**
 * /api/containers/images and /api/containers/registries: the image inventory, pull with
 * live progress, delete, prune, an image's details (inspect and history), tag, untag and
 * push with progress; saved registry credentials (never returned) and, for admins, a
 * saved registry's repositories and tags.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { inspectImage, listImages } from "../../lib/docker/images.ts";
import type { ImageInspect } from "../../lib/docker/types.ts";
import { DockerError } from "../../lib/docker/errors.ts";
import { createRegistryClient } from "../../lib/registry/client.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import type { PushResult } from "../../lib/registry/image_handlers.ts";
import { credentialsFor } from "../../lib/registries.ts";
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

  /**
   * Inspect of one image (by id or reference); 404 when the Engine has no such image.
   * Environment values are masked for viewers, as a container's inspect is.
   */
  app.get("/:id{.+}/json", async (c) => {
    const id = imageRef(c.req.param("id"));
    const info = await inspectImage(docker, id).catch(notFound(id)) as ImageInspect & {
      ContainerConfig?: { Env?: string[] | null } | null;
    };
    if (c.get("actor").role === "admin") return c.json(info);
    return c.json({
      ...info,
      Config: info.Config && { ...info.Config, Env: maskEnv(info.Config.Env) },
      ...(info.ContainerConfig
        ? { ContainerConfig: { ...info.ContainerConfig, Env: maskEnv(info.ContainerConfig.Env) } }
        : {}),
    });
  });

  /** The image's layers as `docker history` shows them (newest first; ENV values masked for viewers). */
  app.get("/:id{.+}/history", async (c) => {
    const id = imageRef(c.req.param("id"));
    const history = await docker.json<{ CreatedBy?: string }[]>("GET", `/images/${id}/history`)
      .catch(notFound(id));
    if (c.get("actor").role === "admin") return c.json({ history });
    return c.json({
      history: history.map((layer) => ({
        ...layer,
        CreatedBy: maskEnvInCommand(layer.CreatedBy ?? ""),
      })),
    });
  });

  app.post("/:id{.+}/tag", async (c) => {
    const id = imageRef(c.req.param("id"));
    const body = await readJsonObject(c);
    return c.json(
      await dispatchAs(c, dispatcher, "docker.image.tag", id, { reference: body.reference }),
    );
  });

  app.post("/:id{.+}/untag", async (c) => {
    const id = imageRef(c.req.param("id"));
    const body = await readJsonObject(c);
    return c.json(
      await dispatchAs(c, dispatcher, "docker.image.untag", id, { reference: body.reference }),
    );
  });

  /** Push progress as NDJSON like a pull's, ending with {done, reference, digest}. */
  app.post("/:id{.+}/push", async (c) => {
    const id = imageRef(c.req.param("id"));
    const body = await readJsonObject(c);
    const reference = body.reference;
    return await streamFromFirstProgress(c, {
      run: (progress) =>
        dispatchAs<PushResult>(c, dispatcher, "docker.image.push", id, { reference }, progress),
      line: (line) => line,
      done: (result) => ({ done: true, ...result }),
      log: deps.log,
      owner: deps,
    });
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

function maskEnv(env: string[] | null | undefined): string[] {
  return (env ?? []).map((entry) => {
    const eq = entry.indexOf("=");
    return eq < 0 ? entry : `${entry.slice(0, eq)}=••••••`;
  });
}

/** A layer's command with the values of an ENV instruction masked (`ENV A=1 B=2`, `ENV A 1`). */
export function maskEnvInCommand(command: string): string {
  const match = command.match(/^(.*?\bENV\s+)(.*)$/s);
  if (!match) return command;
  const [, head, rest] = match;
  if (!rest.includes("=")) return `${head}${rest.replace(/^(\S+)\s+.*$/s, "$1 ••••••")}`;
  return head + rest.replace(/(^|\s)([^\s=]+)=(\S*)/g, "$1$2=••••••");
}

function notFound(id: string) {
  return (error: unknown): never => {
    if (error instanceof DockerError && error.daemonStatus === 404) {
      throw new HttpError(404, `No such image: ${id.slice(0, 80)}`);
    }
    throw error;
  };
}

/** A registry's refusal in words, with the status that fits it (never a credential). */
function registryFailure(error: unknown): never {
  if (error instanceof RegistryError) {
    const status = error.kind === "not_found"
      ? 404
      : error.kind === "refused"
      ? 400
      : error.kind === "rate_limited"
      ? 503
      : 502;
    throw new HttpError(status, error.message);
  }
  throw error;
}

export function registryApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const browser = createRegistryClient({
    credentials: async (address) => {
      const saved = await credentialsFor(deps.db, deps.secretKey, address);
      return saved && { username: saved.username, password: saved.password };
    },
    panel: deps.config.listen,
  });
  const savedRegistry = (c: { req: { param(name: string): string } }, actor: { role: string }) => {
    if (actor.role !== "admin") {
      throw new HttpError(403, "Only admins browse registries with the saved credentials");
    }
    const id = c.req.param("id");
    const saved = /^[1-9][0-9]{0,15}$/.test(id)
      ? listRegistries(deps.db).find((registry) => registry.id === Number(id))
      : undefined;
    if (!saved) throw new HttpError(404, "No such registry");
    return saved;
  };

  /** One page of repositories: ?n= (1..1000, default 100) and ?last= from the previous page. */
  app.get("/:id/catalog", async (c) => {
    const saved = savedRegistry(c, c.get("actor"));
    const n = c.req.query("n");
    const last = c.req.query("last");
    if (n !== undefined && !/^[1-9][0-9]{0,3}$/.test(n)) {
      throw new ValidationError("n must be a number from 1 to 1000", "n");
    }
    if (last !== undefined && (last.length > 255 || !/^[a-z0-9._\/-]*$/.test(last))) {
      throw new ValidationError("last must be a repository name", "last");
    }
    const page = await browser.catalog(saved.server_address, {
      n: n === undefined ? 100 : Number(n),
      last,
    }).catch(registryFailure);
    return c.json({ registry: saved.server_address, ...page });
  });

  /** Every tag of ?repository= on the saved registry. */
  app.get("/:id/tags", async (c) => {
    const saved = savedRegistry(c, c.get("actor"));
    const repository = c.req.query("repository") ?? "";
    let reference;
    try {
      reference = parseReference(`${saved.server_address}/${repository}`);
    } catch {
      throw new ValidationError("repository must be a repository name", "repository");
    }
    if (reference.tag || reference.digest || reference.domain !== saved.server_address) {
      throw new ValidationError("repository must be a repository name", "repository");
    }
    const tags = await browser.listTags(reference.repository).catch(registryFailure);
    return c.json({ registry: saved.server_address, repository: reference.path, tags });
  });

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
