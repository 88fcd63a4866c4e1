/**
 * The routes that act on one Docker Engine, mounted once for `local` at their own paths and,
 * for every other environment, in a sub-app of that environment's deps under
 * `/api/environments/{env}`, `/ws/environments/{env}` and `/environments/{env}` (pages).
 * The main app's middleware (auth, Origin, Host, body caps) has run before a request is
 * handed to an environment's sub-app; its errors go back to the main app's onError.
 */
import { type Context, Hono } from "hono";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { HttpError } from "../lib/errors.ts";
import { containerApiRoutes, containerStatsRoutes } from "./api/containers.ts";
import { imageApiRoutes, registryApiRoutes } from "./api/images.ts";
import { execWsRoutes } from "./ws/exec.ts";
import { composeApiRoutes } from "./api/compose.ts";
import { volumeApiRoutes } from "./api/volumes.ts";
import { networkApiRoutes } from "./api/networks.ts";
import { updateApiRoutes } from "./api/updates.ts";
import { liveApiRoutes } from "./api/live.ts";
import { pageRoutes } from "./pages/mod.tsx";
import { swarmStackApiRoutes } from "./api/swarm_stacks.ts";
import { swarmApiRoutes } from "./api/swarm.ts";
import type { EnvironmentRegistry, RunningEnvironment } from "../lib/environments/registry.ts";
import { ENVIRONMENT_ID, LOCAL_ID } from "../lib/environments/address.ts";

export interface EnginePrefixes {
  /** Where `/api/...` engine routes go: "/api" for local. */
  api: string;
  /** Where `/ws/...` goes: "/ws" for local. */
  ws: string;
}

export const LOCAL_PREFIXES: EnginePrefixes = { api: "/api", ws: "/ws" };

export function environmentPrefixes(id: string): EnginePrefixes & { pages: string } {
  return {
    api: `/api/environments/${id}`,
    ws: `/ws/environments/${id}`,
    pages: `/environments/${id}`,
  };
}

/** Engine-scoped pages; the others (audit, users, environments) are the panel's own. */
export const ENGINE_PAGES = ["containers", "images", "compose", "volumes", "networks", "swarm"];

/** Every engine-scoped API and WebSocket route, on `deps`' Engine, under `prefixes`. */
export function mountEngineRoutes(app: Hono<AppEnv>, deps: AppDeps, prefixes: EnginePrefixes) {
  const { api, ws } = prefixes;
  app.route(`${api}/live`, liveApiRoutes(deps));
  // Before any /api/swarm route that would take "stacks" for an id.
  app.route(`${api}/swarm/stacks`, swarmStackApiRoutes(deps));
  app.route(`${api}/swarm`, swarmApiRoutes(deps));
  // Before /api/containers/:id, which would otherwise take "images" for a container id.
  app.route(`${api}/containers/images`, imageApiRoutes(deps));
  app.route(`${api}/containers/registries`, registryApiRoutes(deps));
  app.route(`${api}/containers/compose`, composeApiRoutes(deps));
  app.route(`${api}/containers/volumes`, volumeApiRoutes(deps));
  app.route(`${api}/containers/networks`, networkApiRoutes(deps));
  app.route(`${api}/containers/updates`, updateApiRoutes(deps));
  app.route(`${api}/containers`, containerApiRoutes(deps));
  app.route(`${api}/docker/containers`, containerStatsRoutes(deps));
  app.route(`${ws}/containers`, execWsRoutes(deps));
}

/** An environment's AppDeps: the panel's, with that environment's Engine, hubs and stacks. */
export function environmentDeps(
  deps: AppDeps,
  env: RunningEnvironment,
  environments: EnvironmentRegistry,
): AppDeps {
  return {
    ...deps,
    config: Object.freeze({ ...deps.config, stacksDir: env.stacksDir }),
    docker: env.docker,
    events: env.events,
    stats: env.stats,
    dispatcher: env.dispatcher,
    environments,
    // Its streams end when the panel shuts down or the environment closes (removed, say).
    shutdown: AbortSignal.any([deps.shutdown, env.closed]),
  };
}

/** The main app's variables an environment's sub-app needs (set by its middleware). */
const PARENT = Symbol("parent");
type ParentEnv = Record<string | symbol, unknown> & {
  [PARENT]?: Pick<AppEnv["Variables"], "requestId" | "clientIp" | "session" | "actor">;
};

function subApp(deps: AppDeps, environments: EnvironmentRegistry, env: RunningEnvironment) {
  const sub = new Hono<AppEnv>();
  sub.use("*", async (c, next) => {
    const parent = (c.env as ParentEnv | undefined)?.[PARENT];
    if (!parent) throw new HttpError(500, "An environment route was called without the panel");
    c.set("requestId", parent.requestId);
    c.set("clientIp", parent.clientIp);
    c.set("session", parent.session);
    c.set("actor", parent.actor);
    await next();
  });
  const envDeps = environmentDeps(deps, env, environments);
  const prefixes = environmentPrefixes(env.id);
  mountEngineRoutes(sub, envDeps, prefixes);
  // The name is read per page, so a rename shows without reopening the environment.
  const named = {
    id: env.id,
    get name() {
      return environments.view(env.id)?.name ?? env.id;
    },
  };
  sub.route(prefixes.pages, pageRoutes(envDeps, named));
  sub.notFound((c) => c.json({ error: `No such endpoint: ${c.req.method} ${c.req.path}` }, 404));
  // The main app's onError answers (and audits) every error, as for local routes.
  sub.onError((error) => {
    throw error;
  });
  return sub;
}

/**
 * Hands `/api/environments/{env}/...`, `/ws/environments/{env}/...` and the engine pages
 * under `/environments/{env}/` to that environment's sub-app (built once per opening of its
 * deps). The environment stays open while the response streams.
 */
export function environmentForwarder(deps: AppDeps, environments: EnvironmentRegistry) {
  const apps = new WeakMap<RunningEnvironment, Hono<AppEnv>>();
  return async (c: Context<AppEnv>): Promise<Response> => {
    const id = c.req.param("env") ?? "";
    if (id === LOCAL_ID || !ENVIRONMENT_ID.test(id) || !environments.exists(id)) {
      throw new HttpError(404, `No environment ${id.slice(0, 64)}`);
    }
    const lease = await environments.acquire(id);
    let app = apps.get(lease.env);
    if (!app) {
      app = subApp(deps, environments, lease.env);
      apps.set(lease.env, app);
    }
    const parent: ParentEnv = {
      ...(c.env as Record<string, unknown> | undefined),
      [PARENT]: {
        requestId: c.get("requestId"),
        clientIp: c.get("clientIp"),
        session: c.get("session"),
        actor: c.get("actor"),
      },
    };
    let response: Response;
    try {
      response = await app.fetch(c.req.raw, parent);
    } catch (error) {
      lease.release();
      throw error;
    }
    return releasedWhenDone(response, lease.release);
  };
}

/** The same response, whose body (a stream, say) calls `release` when it ends or is cancelled. */
function releasedWhenDone(response: Response, release: () => void): Response {
  if (!response.body || response.status === 101) {
    release();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
