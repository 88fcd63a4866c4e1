/**
 * /api/containers: list, inspect, lifecycle, run, logs, and the live events and stats
 * streams. Reads go straight to the Engine, but for the list (kept from the Engine's events and
 * checked against its events log, lib/docker/container_list.ts); every mutation goes through
 * the dispatcher.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { inspectContainer, listContainers, topContainer } from "../../lib/docker/containers.ts";
import { containerRef, onlyFields } from "../../lib/docker/validate.ts";
import { inspectView, rawInspectView } from "../../lib/docker/views.ts";
import type { ContainerInspect } from "../../lib/docker/types.ts";
import { containerListFor } from "../../lib/docker/container_list.ts";
import { cancellableBody } from "../../lib/docker/streams.ts";
import { HttpError, ValidationError } from "../../lib/errors.ts";
import type { ContainerEvent } from "../../lib/docker/events.ts";
import { sseResponse } from "../sse.ts";
import { acceptsNdjson, jsonUntilProgress } from "../ndjson.ts";
import { optionalJsonObject, readJsonObject } from "./body.ts";
import { describe, type LogLine, logLines, logOptions } from "./logs.ts";
import { parseStatsIds, subscribeRunningIds } from "./stats_ids.ts";
import { dispatchAs } from "./dispatch.ts";

/** Most containers one bulk request acts on. */
export const MAX_BULK = 200;
/** Bulk operations running at once (a stop may wait out its grace period). */
const BULK_CONCURRENCY = 8;
const BULK_VERBS = {
  start: "docker.start",
  stop: "docker.stop",
  restart: "docker.restart",
  pause: "docker.pause",
  resume: "docker.unpause",
  kill: "docker.kill",
  remove: "docker.rm",
} as const;

export function containerApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher, config } = deps;

  // Kept from the Engine's events: a list while nothing changed costs the Engine one look at
  // its events log instead of the list, and a row event reads its container once for every
  // viewer.
  const list = containerListFor(docker, deps.events, config.managedLabel);
  app.get("/", async (c) => c.json({ containers: await list.views() }));

  // The hubs fan out to every client: their listeners queue events without waiting, and a
  // client that does not keep up is dropped by the bounded stream (routes/sse.ts).
  app.get("/events", (c) =>
    sseResponse(c, deps, (send, signal) => {
      // Fetch views one at a time so a burst of events keeps its order.
      let queue = Promise.resolve();
      const onContainer = (event: ContainerEvent) => {
        // exec_create/exec_start/exec_die never change the table's view of a container.
        if (event.action.startsWith("exec_")) return;
        queue = queue.then(async () => {
          if (signal.aborted) return;
          let container = event.action === "destroy"
            ? null
            : await list.view(event.id).catch(() => null);
          // The view's state is the inspect's, which the Engine sets before it sends `die`
          // (`restarting` when its restart policy restarts it). Should it still read running,
          // the event is the truth, and the policy says which of the two follows.
          if (container && event.action === "die" && container.state === "running") {
            const code = event.exitCode ?? 0;
            const restarting = await willRestart(event.id, code);
            container = {
              ...container,
              state: restarting ? "restarting" : "exited",
              exit_code: code,
              status: `${restarting ? "Restarting" : "Exited"} (${code}) just now`,
            };
          }
          void send("container", { id: event.id, action: event.action, container });
        });
      };
      return deps.events.subscribe((event) => {
        if (event.kind === "engine") void send("engine", { connected: event.connected });
        else onContainer(event.event);
      });
    }));

  app.get("/stats/stream", (c) => {
    // `?ids=`: only these containers (the table's rendered rows), else every running one.
    const ids = parseStatsIds(c.req.query("ids"));
    return sseResponse(c, deps, (send, _signal, end) => {
      const emit = (sample: unknown) => void send("stats", sample);
      return ids
        ? subscribeRunningIds(deps.docker, deps.stats, ids, emit, end)
        : deps.stats.subscribeAll(emit);
    });
  });

  app.post("/run", async (c) => {
    const body = await readJsonObject(c);
    const target = typeof body.name === "string" && body.name
      ? body.name
      : String(body.image ?? "");
    // A pull of an absent image streams its progress to a client that takes NDJSON.
    if (acceptsNdjson(c)) {
      return await jsonUntilProgress(
        c,
        201,
        (progress) => dispatchAs<object>(c, dispatcher, "docker.run", target, body, progress),
        deps.log,
        deps,
      );
    }
    const result = await dispatchAs(c, dispatcher, "docker.run", target, body);
    return c.json(result, 201);
  });

  /** Whether a container that just died will be restarted by its policy. */
  async function willRestart(id: string, exitCode: number): Promise<boolean> {
    const info = await inspectContainer(docker, id).catch(() => null);
    if (!info) return false;
    if (info.State.Restarting) return true;
    const policy = info.HostConfig.RestartPolicy ?? { Name: "no", MaximumRetryCount: 0 };
    if (policy.Name === "always" || policy.Name === "unless-stopped") return true;
    return policy.Name === "on-failure" && exitCode !== 0 &&
      (policy.MaximumRetryCount === 0 || (info.RestartCount ?? 0) < policy.MaximumRetryCount);
  }

  // One dispatch (so one audit row) per container; the answer lists each one's outcome.
  app.post("/bulk", async (c) => {
    const body = await readJsonObject(c);
    onlyFields(body, ["action", "ids", "signal"]);
    const action = body.action;
    if (typeof action !== "string" || !Object.hasOwn(BULK_VERBS, action)) {
      throw new ValidationError(
        `action must be one of ${Object.keys(BULK_VERBS).join(", ")}`,
        "action",
      );
    }
    if (!Array.isArray(body.ids) || body.ids.length === 0) {
      throw new ValidationError("ids must be a list of container ids or names", "ids");
    }
    if (body.ids.length > MAX_BULK) {
      throw new ValidationError(`ids: at most ${MAX_BULK} containers at once`, "ids");
    }
    const ids = body.ids.map((id, i) => {
      try {
        return containerRef(id);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`ids[${i}]: ${error.message}`, `ids[${i}]`);
        }
        throw error;
      }
    });
    if (new Set(ids).size !== ids.length) {
      throw new ValidationError("ids lists a container more than once", "ids");
    }
    if (body.signal !== undefined && action !== "kill") {
      throw new ValidationError("signal is only for kill", "signal");
    }
    const verb = BULK_VERBS[action as keyof typeof BULK_VERBS];
    const params = action === "kill"
      ? { signal: body.signal ?? "SIGKILL" }
      : action === "remove"
      ? { volumes: false }
      : {};
    // A role that may not act at all is refused once (one audited refusal), not per container.
    if (c.get("actor").role !== "admin") {
      await dispatchAs(c, dispatcher, verb, ids[0], params);
    }
    const results: {
      id: string;
      ok: boolean;
      name?: string;
      state?: string;
      error?: string;
      status?: number;
    }[] = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const index = next++;
        const id = ids[index];
        try {
          const result = await dispatcher.dispatch<{ name?: string; state?: string }>({
            verb,
            target: id,
            params,
            actor: c.get("actor"),
          });
          results[index] = { id, ok: true, name: result?.name, state: result?.state };
        } catch (error) {
          results[index] = {
            id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
            status: error instanceof HttpError ? error.status : 500,
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, worker));
    return c.json({ action, results, failed: results.filter((result) => !result.ok).length });
  });

  app.get("/:id", async (c) => {
    const info = await inspectContainer(docker, c.req.param("id"));
    return c.json({
      container: inspectView(info, {
        showEnvValues: c.get("actor").role === "admin",
        managedLabel: config.managedLabel,
      }),
    });
  });

  /** The Engine's inspect as it is (environment values masked for viewers). */
  app.get("/:id/raw", async (c) => {
    const info = await inspectContainer(docker, c.req.param("id"));
    return c.json({
      inspect: rawInspectView(info, { showEnvValues: c.get("actor").role === "admin" }),
    });
  });

  app.get("/:id/top", async (c) => {
    const id = containerRef(c.req.param("id"));
    const info = await inspectContainer(docker, id);
    if (!info.State.Running) {
      throw new HttpError(409, `Container "${nameOf(info)}" is not running`, "id");
    }
    const top = await topContainer(docker, info.Id);
    return c.json({ titles: top.Titles, processes: top.Processes ?? [] });
  });

  for (const action of ["start", "stop", "restart", "pause", "unpause"] as const) {
    app.post(`/:id/${action}`, async (c) => {
      const id = containerRef(c.req.param("id"));
      return c.json(await dispatchAs(c, dispatcher, `docker.${action}`, id));
    });
  }

  app.post("/:id/kill", async (c) => {
    const id = containerRef(c.req.param("id"));
    const body = await optionalJsonObject(c);
    onlyFields(body, ["signal"]);
    return c.json(await dispatchAs(c, dispatcher, "docker.kill", id, body));
  });

  app.post("/:id/rename", async (c) => {
    const id = containerRef(c.req.param("id"));
    const body = await readJsonObject(c);
    onlyFields(body, ["name"]);
    if (body.name === undefined) throw new ValidationError("name is required", "name");
    return c.json(await dispatchAs(c, dispatcher, "docker.rename", id, body));
  });

  // `docker update`: restart policy and limits (POST /:id/update is the image update).
  app.patch("/:id", async (c) => {
    const id = containerRef(c.req.param("id"));
    const body = await readJsonObject(c);
    return c.json(await dispatchAs(c, dispatcher, "docker.container.update", id, body));
  });

  // Image update (lib/updates/apply.ts): the pull's progress as NDJSON, then the outcome.
  app.post("/:id/update", async (c) => {
    const id = containerRef(c.req.param("id"));
    const body = await optionalJsonObject(c);
    return await jsonUntilProgress(
      c,
      200,
      (progress) => dispatchAs<object>(c, dispatcher, "docker.update", id, body, progress),
      deps.log,
      deps,
    );
  });

  app.post("/:id/recreate", async (c) => {
    const id = containerRef(c.req.param("id"));
    const body = await optionalJsonObject(c);
    if (acceptsNdjson(c)) {
      return await jsonUntilProgress(
        c,
        200,
        (progress) => dispatchAs<object>(c, dispatcher, "docker.recreate", id, body, progress),
        deps.log,
        deps,
      );
    }
    return c.json(await dispatchAs(c, dispatcher, "docker.recreate", id, body));
  });

  app.delete("/:id", async (c) => {
    const id = containerRef(c.req.param("id"));
    const volumes = c.req.query("volumes");
    if (volumes !== undefined && volumes !== "0" && volumes !== "1") {
      throw new ValidationError("volumes must be 0 or 1", "volumes");
    }
    return c.json(await dispatchAs(c, dispatcher, "docker.rm", id, { volumes: volumes === "1" }));
  });

  app.get("/:id/logs", async (c) => {
    const id = containerRef(c.req.param("id"));
    const { tail, follow, timestamps, since } = logOptions(c);
    const info = await inspectContainer(docker, id);
    const query = {
      stdout: 1,
      stderr: 1,
      tail,
      since,
      timestamps: timestamps ? 1 : 0,
      follow: follow ? 1 : 0,
    };
    const controller = new AbortController();
    const response = await docker.request("GET", `/containers/${id}/logs`, {
      query,
      stream: true,
      signal: controller.signal,
    });
    const upstream = cancellableBody(response.body!);
    const release = () => {
      upstream.cancel();
      controller.abort();
    };
    const lines = logLines(upstream.stream, info.Config.Tty, timestamps);
    if (!follow) {
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
          // The next line is read only once the client has taken this one.
          for await (const line of lines) {
            if (!await send("line", line)) return;
          }
          if (!signal.aborted) void send("end", { reason: "the container stopped" });
        } catch (error) {
          if (signal.aborted) return;
          deps.log(`Log stream of container ${id} broke off: ${describe(error)}`);
          void send("end", { reason: "the log stream broke off" });
        } finally {
          release();
          end();
        }
      })();
      // The client went away while the loop waits for the Engine: end the wait now.
      return release;
    });
  });

  // A compose stack's logs, merged: every line carries its service (and container) name.
  app.get("/stack/:project/logs", async (c) => {
    const project = c.req.param("project");
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(project)) {
      throw new ValidationError(`Invalid project name "${project.slice(0, 64)}"`, "project");
    }
    const { tail, follow, since } = logOptions(c);
    const containers = await listContainers(docker, {
      all: true,
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    if (containers.length === 0) {
      throw new HttpError(404, `No containers of compose project "${project}"`, "project");
    }
    const sources = await Promise.all(containers.map(async (summary) => {
      const info = await inspectContainer(docker, summary.Id);
      const controller = new AbortController();
      const response = await docker.request("GET", `/containers/${summary.Id}/logs`, {
        query: { stdout: 1, stderr: 1, tail, since, timestamps: 1, follow: follow ? 1 : 0 },
        stream: true,
        signal: controller.signal,
      });
      const upstream = cancellableBody(response.body!);
      return {
        service: summary.Labels?.["com.docker.compose.service"] ?? "",
        container: nameOf(info),
        lines: logLines(upstream.stream, info.Config.Tty, true),
        release: () => {
          upstream.cancel();
          controller.abort();
        },
      };
    }));
    const releaseAll = () => sources.forEach((source) => source.release());
    if (!follow) {
      const collected: (LogLine & { service: string; container: string })[] = [];
      try {
        await Promise.all(sources.map(async (source) => {
          for await (const line of source.lines) {
            collected.push({ ...line, service: source.service, container: source.container });
          }
        }));
      } finally {
        releaseAll();
      }
      // RFC 3339 timestamps of one clock sort as text.
      collected.sort((a, b) => (a.ts ?? "").localeCompare(b.ts ?? ""));
      return c.json({ lines: collected.slice(-Math.max(tail, 1) * sources.length) });
    }
    return sseResponse(c, deps, (send, signal, end) => {
      let open = sources.length;
      for (const source of sources) {
        (async () => {
          try {
            for await (const line of source.lines) {
              const sent = await send("line", {
                ...line,
                service: source.service,
                container: source.container,
              });
              if (!sent) return;
            }
          } catch (error) {
            if (!signal.aborted) {
              deps.log(`Log stream of ${source.container} broke off: ${describe(error)}`);
            }
          } finally {
            source.release();
            if (--open === 0 && !signal.aborted) {
              void send("end", { reason: "every container of the stack stopped" });
              end();
            }
          }
        })();
      }
      return releaseAll;
    });
  });

  return app;
}

/** GET /api/docker/containers/{id}/stats/stream: one container's stats over SSE. */
export function containerStatsRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/:id/stats/stream", async (c) => {
    const info = await inspectContainer(deps.docker, c.req.param("id"));
    return sseResponse(c, deps, (send) => {
      // What the hub kept of the last 15 minutes, then the live samples.
      void send("history", deps.stats.history(info.Id));
      return deps.stats.subscribe(info.Id, (sample) => void send("stats", sample));
    });
  });
  return app;
}

function nameOf(info: Pick<ContainerInspect, "Name">): string {
  return info.Name.replace(/^\//, "");
}
