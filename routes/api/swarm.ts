/**
 * /api/swarm: the swarm's state, nodes, services (with tasks and logs), secrets and configs
 * of the Engine these deps name. Reads go to the Engine (a worker or an Engine outside a
 * swarm answers 409 "This Engine is not a swarm manager"); every mutation is a dispatcher
 * verb, for admins. A secret's data travels to its handler outside the audited params.
 */
import { type Context, Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { onlyFields } from "../../lib/docker/validate.ts";
import { cancellableBody } from "../../lib/docker/streams.ts";
import { listNodes, nodeView, swarmInfo, swarmRef } from "../../lib/docker/swarm.ts";
import {
  inspectService,
  listServices,
  serviceDetail,
  serviceLogs,
  serviceView,
} from "../../lib/docker/swarm_services.ts";
import {
  swarmObjectDetail,
  type SwarmObjectKind,
  swarmObjectViews,
} from "../../lib/docker/swarm_secrets.ts";
import { sseResponse } from "../sse.ts";
import { acceptsNdjson, jsonUntilProgress } from "../ndjson.ts";
import { logLines, logOptions } from "./logs.ts";
import { optionalJsonObject, readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";

export function swarmApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher } = deps;

  /** A verb that follows a rolling update: NDJSON progress when the client asks for it. */
  const following = async (
    c: Context<AppEnv>,
    verb: string,
    target: string,
    params: Record<string, unknown>,
  ) => {
    if (acceptsNdjson(c)) {
      return await jsonUntilProgress(
        c,
        200,
        (progress) => dispatchAs<object>(c, dispatcher, verb, target, params, progress),
        deps.log,
        deps,
      );
    }
    return c.json(await dispatchAs(c, dispatcher, verb, target, params));
  };

  app.get("/", async (c) => c.json(await swarmInfo(docker)));

  app.get("/nodes", async (c) => {
    const nodes = (await listNodes(docker)).map(nodeView)
      .sort((a, b) =>
        Number(b.role === "manager") - Number(a.role === "manager") ||
        a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id)
      );
    return c.json({ nodes });
  });

  app.patch("/nodes/:id", async (c) => {
    const id = swarmRef(c.req.param("id"), "node id");
    const body = await readJsonObject(c);
    return c.json(await dispatchAs(c, dispatcher, "swarm.node.update", id, body));
  });

  app.delete("/nodes/:id", async (c) => {
    const id = swarmRef(c.req.param("id"), "node id");
    return c.json(await dispatchAs(c, dispatcher, "swarm.node.remove", id));
  });

  app.get("/services", async (c) => {
    const services = (await listServices(docker)).map(serviceView)
      .sort((a, b) => a.name.localeCompare(b.name));
    return c.json({ services });
  });

  app.post("/services", async (c) => {
    const body = await readJsonObject(c);
    const target = typeof body.name === "string" ? body.name.slice(0, 128) : "";
    return c.json(await dispatchAs(c, dispatcher, "swarm.service.create", target, body), 201);
  });

  app.get("/services/:id", async (c) => {
    return c.json(await serviceDetail(docker, swarmRef(c.req.param("id"), "service id")));
  });

  app.post("/services/:id/scale", async (c) => {
    const id = swarmRef(c.req.param("id"), "service id");
    const body = await readJsonObject(c);
    return c.json(await dispatchAs(c, dispatcher, "swarm.service.scale", id, body));
  });

  app.post("/services/:id/image", async (c) => {
    const id = swarmRef(c.req.param("id"), "service id");
    const body = await readJsonObject(c);
    return await following(c, "swarm.service.update", id, body);
  });

  app.post("/services/:id/rollback", async (c) => {
    const id = swarmRef(c.req.param("id"), "service id");
    const body = await optionalJsonObject(c);
    onlyFields(body, []);
    return await following(c, "swarm.service.rollback", id, {});
  });

  app.delete("/services/:id", async (c) => {
    const id = swarmRef(c.req.param("id"), "service id");
    return c.json(await dispatchAs(c, dispatcher, "swarm.service.remove", id));
  });

  app.get("/services/:id/logs", async (c) => {
    const id = swarmRef(c.req.param("id"), "service id");
    const options = logOptions(c);
    const service = await inspectService(docker, id);
    const tty = service.Spec.TaskTemplate.ContainerSpec.TTY === true;
    const controller = new AbortController();
    const response = await serviceLogs(docker, service.ID, options, controller.signal);
    const upstream = cancellableBody(response.body!);
    const release = () => {
      upstream.cancel();
      controller.abort();
    };
    const lines = logLines(upstream.stream, tty, options.timestamps);
    if (!options.follow) {
      const collected = [];
      try {
        for await (const line of lines) collected.push(line);
      } finally {
        release();
      }
      return c.json({ lines: collected });
    }
    return sseResponse(c, deps, (send, signal, end) => {
      (async () => {
        try {
          for await (const line of lines) {
            if (!await send("line", line)) return;
          }
          if (!signal.aborted) void send("end", { reason: "the service's log stream ended" });
        } catch (error) {
          if (signal.aborted) return;
          deps.log(
            `Log stream of service ${id} broke off: ${
              error instanceof Error ? error.message : error
            }`,
          );
          void send("end", { reason: "the log stream broke off" });
        } finally {
          release();
          end();
        }
      })();
      return release;
    });
  });

  for (const kind of ["secret", "config"] as SwarmObjectKind[]) {
    const path = `/${kind}s`;
    app.get(path, async (c) => c.json({ [`${kind}s`]: await swarmObjectViews(docker, kind) }));

    app.post(path, async (c) => {
      const body = await readJsonObject(c);
      onlyFields(body, ["name", "data", "labels"]);
      const { data, ...params } = body;
      const target = typeof body.name === "string" ? body.name.slice(0, 128) : "";
      // The data is the handler's attachment: never in the audit row's params.
      const result = await dispatcher.dispatch({
        verb: `swarm.${kind}.create`,
        target,
        params,
        actor: c.get("actor"),
        requestId: c.get("requestId"),
        attachment: { data },
      });
      return c.json(result, 201);
    });

    app.get(`${path}/:id`, async (c) => {
      const id = swarmRef(c.req.param("id"), `${kind} id`);
      return c.json({ [kind]: await swarmObjectDetail(docker, kind, id) });
    });

    app.delete(`${path}/:id`, async (c) => {
      const id = swarmRef(c.req.param("id"), `${kind} id`);
      return c.json(await dispatchAs(c, dispatcher, `swarm.${kind}.remove`, id));
    });
  }

  return app;
}
