/**
 * /api/swarm/stacks: compose files deployed as swarm stacks, as `docker stack` does.
 * Reads need a swarm manager (409 otherwise); previews are open to viewers, deploy and
 * remove are admin verbs (swarm.stack.deploy|remove).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { HttpError, RateLimitedError, ValidationError } from "../../lib/errors.ts";
import { isProjectName } from "../../lib/compose/stacks.ts";
import { MAX_COMPOSE_BYTES } from "../../lib/compose/parse.ts";
import { convertStack, type StackPlan, stackRelative } from "../../lib/swarm_stacks/convert.ts";
import { parseSwarmStack } from "../../lib/swarm_stacks/parse.ts";
import { listStacks, stackDetail } from "../../lib/swarm_stacks/deploy.ts";
import { assertManager } from "../../lib/swarm_stacks/engine.ts";
import {
  checkSentFiles,
  checkStackName,
  hasSwarmStackFile,
  readSwarmStackFiles,
  stackFileTexts,
  swarmStackDir,
} from "../../lib/swarm_stacks/store.ts";
import type { SwarmDeployAttachment } from "../../lib/sysctl/handlers/swarm_stacks.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";
import { streamFromFirstProgress } from "../ndjson.ts";

/** Files parsed at once on the panel's event loop (each at most 1 MiB of YAML). */
const MAX_PARSING = 2;

export function swarmStackApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker } = deps;
  const stacksDir = deps.config.stacksDir;
  const parsing = new Set<string>();

  /** One parse per user, MAX_PARSING in all; the body is read only once a place is held. */
  const withParseTurn = async <T>(c: Context<AppEnv>, run: () => Promise<T>): Promise<T> => {
    const actor = c.get("actor");
    const key = String(actor.userId ?? actor.username);
    if (parsing.has(key)) {
      throw new BusyError(
        1,
        "A swarm stack of yours is still being checked; try again in a moment",
      );
    }
    if (parsing.size >= MAX_PARSING) {
      throw new BusyError(2, "The panel is busy checking other stacks; try again soon");
    }
    parsing.add(key);
    try {
      return await run();
    } finally {
      parsing.delete(key);
    }
  };

  /** The request's stack, parsed and converted (a 400 names what is wrong). */
  const planOf = async (c: Context<AppEnv>, withStoredFiles: boolean) => {
    const body = await readJsonObject(c);
    const name = body.name;
    if (typeof name !== "string" || !isProjectName(name)) {
      throw new ValidationError(
        `Invalid stack name ${
          JSON.stringify(String(name ?? "").slice(0, 80))
        }: use up to 64 lowercase letters, digits, "_" and "-", starting with a letter or digit`,
        "name",
      );
    }
    const yaml = body.compose;
    if (typeof yaml !== "string" || yaml.trim() === "") {
      throw new ValidationError("compose is required: the text of a compose file", "compose");
    }
    if (yaml.length > MAX_COMPOSE_BYTES) {
      throw new HttpError(413, "The compose file is larger than 1 MiB", "compose");
    }
    if (body.env !== undefined && body.env !== null && typeof body.env !== "string") {
      throw new ValidationError("env must be the text of a .env file", "env");
    }
    const env = typeof body.env === "string" ? body.env : undefined;
    const sent = checkSentFiles(body.files);
    const { project, extras } = parseSwarmStack({ name, yaml, env });
    const paths: string[] = [];
    for (const kind of ["secrets", "configs"] as const) {
      for (const [key, spec] of Object.entries(extras[kind])) {
        if (spec.file !== undefined) paths.push(stackRelative(spec.file, `${kind}.${key}.file`));
      }
    }
    // Viewers' previews never read the stack folder (it may hold secret files).
    const files = withStoredFiles ? await stackFileTexts(stacksDir, name, paths, sent) : sent;
    const plan = convertStack(project, extras, {
      files: withStoredFiles ? files : placeholders(paths, files),
      stackDir: swarmStackDir(stacksDir, name),
    });
    return { name, yaml, env, sent, plan, acknowledge: body.acknowledge_risks === true };
  };

  app.get("/", async (c) => {
    await assertManager(docker);
    return c.json({
      stacks: await listStacks(docker, (name) => hasSwarmStackFile(stacksDir, name)),
    });
  });

  app.post("/preview", async (c) => {
    const admin = c.get("actor").role === "admin";
    const { plan } = await withParseTurn(c, () => planOf(c, admin));
    return c.json(previewOf(plan));
  });

  app.post("/deploy", async (c) => {
    // Viewers are refused (and audited) before the body is read.
    if (c.get("actor").role !== "admin") {
      return c.json(await dispatchAs(c, deps.dispatcher, "swarm.stack.deploy", ""));
    }
    const parsed = await withParseTurn(c, () => planOf(c, true));
    const attachment: SwarmDeployAttachment = {
      plan: parsed.plan,
      yaml: parsed.yaml,
      env: parsed.env,
      files: parsed.sent,
    };
    return await streamFromFirstProgress(c, {
      run: (progress) =>
        deps.dispatcher.dispatch({
          verb: "swarm.stack.deploy",
          target: parsed.name,
          params: {
            acknowledge_risks: parsed.acknowledge,
            services: parsed.plan.services.map((s) => s.name),
            files: Object.keys(parsed.sent),
          },
          actor: c.get("actor"),
          requestId: c.get("requestId"),
          progress,
          attachment,
        }),
      line: (event) => ({ progress: event }),
      done: (result) => ({ done: true, result }),
      log: deps.log,
      owner: deps,
    });
  });

  app.get("/:name", async (c) => {
    const name = checkStackName(c.req.param("name"));
    await assertManager(docker);
    const detail = await stackDetail(docker, name);
    const panel = await hasSwarmStackFile(stacksDir, name);
    const out: Record<string, unknown> = { ...detail, created_by: panel ? "panel" : "cli" };
    // The stored .env may hold secrets: admins only.
    if (panel && c.get("actor").role === "admin") {
      const files = await readSwarmStackFiles(stacksDir, name);
      if (files) out.compose = files.yaml, out.env = files.env;
    }
    return c.json(out);
  });

  app.delete("/:name", async (c) => {
    const name = checkStackName(c.req.param("name"));
    return await streamFromFirstProgress(c, {
      run: (progress) =>
        deps.dispatcher.dispatch({
          verb: "swarm.stack.remove",
          target: name,
          actor: c.get("actor"),
          requestId: c.get("requestId"),
          progress,
        }),
      line: (event) => ({ progress: event }),
      done: (result) => ({ done: true, result }),
      plain: (result) => c.json(result),
      log: deps.log,
      owner: deps,
    });
  });

  return app;
}

class BusyError extends RateLimitedError {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds);
    this.message = message;
  }
}

/** A viewer's preview: files it did not send stand in as empty (their content is not shown). */
function placeholders(paths: string[], sent: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const path of paths) out[path] = Object.hasOwn(sent, path) ? sent[path] : "";
  return out;
}

/** What the preview shows: no secret or config contents, ever. */
function previewOf(plan: StackPlan) {
  return {
    name: plan.name,
    services: plan.services.map(({ key, name, spec }) => {
      const task = spec.TaskTemplate as Record<string, unknown>;
      const container = task.ContainerSpec as Record<string, unknown>;
      const mode = spec.Mode as Record<string, { Replicas?: number }>;
      const endpoint = spec.EndpointSpec as { Ports?: Record<string, unknown>[] };
      return {
        service: key,
        name,
        image: container.Image,
        mode: Object.keys(mode)[0] === "Global"
          ? "global"
          : Object.keys(mode)[0] === "Replicated"
          ? "replicated"
          : Object.keys(mode)[0] === "ReplicatedJob"
          ? "replicated-job"
          : "global-job",
        replicas: mode.Replicated?.Replicas ?? null,
        ports: (endpoint.Ports ?? []).map((p) => ({
          published: p.PublishedPort,
          target: p.TargetPort,
          protocol: p.Protocol,
          mode: p.PublishMode,
        })),
        networks: ((task.Networks ?? []) as { Target: string }[]).map((n) => n.Target),
        secrets: ((container.Secrets ?? []) as { SecretName: string }[]).map((s) => s.SecretName),
        configs: ((container.Configs ?? []) as { ConfigName: string }[]).map((s) => s.ConfigName),
        constraints: ((task.Placement as { Constraints?: string[] }).Constraints) ?? [],
        spec: redactedSpec(spec),
      };
    }),
    networks: plan.networks.map(({ name, external }) => ({ name, external })),
    secrets: plan.secrets.map(({ name, external }) => ({ name, external })),
    configs: plan.configs.map(({ name, external }) => ({ name, external })),
    ignored: plan.ignored,
    warnings: plan.warnings,
  };
}

/** The service spec without environment values (they may be secret): keys only. */
function redactedSpec(spec: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(spec);
  const container = (copy.TaskTemplate as Record<string, unknown>).ContainerSpec as Record<
    string,
    unknown
  >;
  if (Array.isArray(container.Env)) {
    container.Env = (container.Env as string[]).map((entry) => entry.split("=")[0]);
  }
  return copy;
}
