/**
 * /api/containers/compose: preview and deploy compose files, and the stacks on the host.
 * Bodies may be up to COMPOSE_BODY_LIMIT (the compose file itself is capped at 1 MiB).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import {
  createParsePool,
  type ParsePool,
  type ParseTurn,
  PreviewBusyError,
} from "../../lib/compose/parse_pool.ts";
import { deployOrder } from "../../lib/compose/order.ts";
import { engineWarnings, previewProject } from "../../lib/compose/plan.ts";
import { readPlanFacts } from "../../lib/compose/facts.ts";
import {
  hostWarnings,
  projectNameBeforeParse,
  referencedStackFiles,
} from "../../lib/compose/stack_dir.ts";
import { composeFilesRoutes } from "./compose_files.ts";
import {
  checkProjectName,
  isProjectName,
  listStacks,
  readStackFiles,
  stackDirOf,
} from "../../lib/compose/stacks.ts";
import { composeInputOf, type DeployAttachment } from "../../lib/sysctl/handlers/compose.ts";
import type { ComposeInput, ComposeProject } from "../../lib/compose/types.ts";
import { HttpError } from "../../lib/errors.ts";
import { readJsonObject } from "./body.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { dispatchAs } from "./dispatch.ts";
import { failureLine, ndjsonResponse } from "../ndjson.ts";

export const COMPOSE_BODY_LIMIT = 4 * 1024 * 1024;
const STACK_ACTIONS = ["start", "stop", "restart", "down"] as const;

export function composeApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker } = deps;

  // Previews are open to viewers: a turn is taken before the body is read, and the file is
  // parsed off the main thread.
  const parsePool = createParsePool({ signal: deps.shutdown });
  // Only admins' parses read the stack directory: viewers never see a stack file's content.
  const stackFilesOf = (role: string) =>
    role === "admin"
      ? (project: string, input: ComposeInput) =>
        referencedStackFiles(deps.config.stacksDir, project, input.yaml, input.files)
      : undefined;

  app.post("/preview", async (c) => {
    const actor = c.get("actor");
    const turn = parsePool.reserve(String(actor.userId ?? actor.username));
    let project;
    let removeOrphans = false;
    try {
      project = await parseWithStackFiles(turn, async () => {
        const body = await readJsonObject(c);
        removeOrphans = body.remove_orphans === true;
        return composeInputOf(body);
      }, stackFilesOf(actor.role));
    } finally {
      turn.release();
    }
    const order = deployOrder(project);
    // The facts and the plan deploy computes (for the same file and Engine state, the same).
    const [facts, apiVersion] = await Promise.all([
      readPlanFacts(docker, project),
      docker.apiVersion(),
    ]);
    const warnings = [
      ...engineWarnings(project, apiVersion),
      ...await hostWarnings(project, stackDirOf(deps.config.stacksDir, project.name)),
    ];
    const withEngine = { ...project, warnings: [...project.warnings, ...warnings] };
    return c.json(previewProject(withEngine, order, facts, { removeOrphans }));
  });

  /**
   * Validates (400 before anything is created), then streams NDJSON progress: {status:
   * "started"}, per-service events, and a last line {done: true, result} or {done: false,
   * error}. The deploy continues if the client goes away, and is audited either way.
   */
  app.post("/deploy", async (c) => {
    const actor = c.get("actor");
    // Only admins deploy: anyone else is refused (and audited) by the dispatcher before
    // the body is even read, so a viewer cannot make the panel parse files here.
    if (actor.role !== "admin") {
      return c.json(await dispatchAs(c, deps.dispatcher, "compose.deploy", ""));
    }
    // Parsed once, in the preview worker (never on the panel's event loop), with a turn of
    // its own so two deploys of one project reach the project lock (409) rather than the
    // per-user preview limit. The audit row's target is the project's name, also when it
    // comes from `name:` in the file. A file that does not parse is refused by the handler
    // (audited).
    const turn = reserveForDeploy(parsePool, c.get("requestId"));
    let body: Record<string, unknown> = {};
    let input: ComposeInput | undefined;
    let attachment: DeployAttachment;
    try {
      const project = await parseWithStackFiles(turn, async () => {
        body = await readJsonObject(c);
        input = composeInputOf(body);
        return input;
      }, stackFilesOf(actor.role));
      attachment = { input: input!, project };
    } catch (error) {
      if (!input) throw error; // an unreadable body or a bad field: a plain 400 as before
      attachment = { input, error };
    } finally {
      turn.release();
    }
    const params = {
      project: attachment.input.project ?? null,
      acknowledge_risks: body.acknowledge_risks === true,
      remove_orphans: body.remove_orphans === true,
    };
    const target = "project" in attachment
      ? attachment.project.name
      : attachment.input.project ?? "";
    const events: unknown[] = [];
    let push: ((event: unknown) => void) | undefined;
    let started!: () => void;
    const startedSignal = new Promise<void>((resolve) => started = resolve);
    const progress = (event: unknown) => {
      if ((event as { status?: string }).status === "started") started();
      if (push) push(event);
      else events.push(event);
    };
    const deploy = deps.dispatcher.dispatch({
      verb: "compose.deploy",
      target,
      params,
      actor: c.get("actor"),
      requestId: c.get("requestId"),
      progress,
      attachment,
    });
    // Errors before "started" (bad input, risks not acknowledged) are plain 4xx answers.
    const first = await Promise.race([
      startedSignal.then(() => "started" as const),
      deploy.then(() => "done" as const),
    ]);
    if (first === "done") await deploy; // resolved without progress: cannot happen, but stay honest
    return ndjsonResponse(
      c,
      (write) => {
        for (const event of events) write(event);
        push = write;
        return deploy
          .then((result) => write({ done: true, result }))
          .catch((error) => write(failureLine(c, error, deps.log)));
      },
      deps.log,
      deps,
    );
  });

  app.route("/stacks/:name/files", composeFilesRoutes(deps));

  app.get(
    "/stacks",
    async (c) => c.json({ stacks: await listStacks(docker, deps.config.stacksDir) }),
  );

  // Admins only: the stored .env (and the file's environment values) may hold secrets.
  app.get("/stacks/:name", async (c) => {
    requireAdmin(c);
    const name = checkProjectName(c.req.param("name"));
    const files = await readStackFiles(deps.config.stacksDir, name);
    if (!files) throw new HttpError(404, `The panel holds no compose file for "${name}"`);
    return c.json({
      project: name,
      yaml: files.yaml,
      env: files.env,
      env_files: files.envFiles,
      profiles: files.profiles,
    });
  });

  app.delete(
    "/stacks/:name",
    async (c) =>
      c.json(await dispatchAs(c, deps.dispatcher, "compose.stack.forget", c.req.param("name"))),
  );

  for (const action of STACK_ACTIONS) {
    app.post(`/stacks/:name/${action}`, async (c) => {
      const params: Record<string, unknown> = {};
      if (action === "down" && c.req.header("content-type")?.startsWith("application/json")) {
        const body = await readJsonObject(c);
        params.volumes = body.volumes === true;
      }
      return c.json(
        await dispatchAs(
          c,
          deps.dispatcher,
          `compose.stack.${action}`,
          c.req.param("name"),
          params,
        ),
      );
    });
  }

  return app;
}

/**
 * Parses the request in the turn's worker with the stack directory's files that `include:`
 * and `extends: {file:}` name (`readFiles`; none when undefined). The directory is that of
 * the project named before the parse; when the parse names another one (a `name:` with
 * variables), it runs again with that project's files, if it has any.
 */
async function parseWithStackFiles(
  turn: ParseTurn,
  read: () => Promise<ComposeInput>,
  readFiles?: (project: string, input: ComposeInput) => Promise<Record<string, string>>,
): Promise<ComposeProject> {
  let input!: ComposeInput;
  let readFor: string | undefined;
  const project = await turn.parse(async () => {
    input = await read();
    readFor = projectNameBeforeParse(input);
    if (!readFiles || !readFor || !isProjectName(readFor)) return input;
    return { ...input, files: await readFiles(readFor, input) };
  });
  if (!readFiles || project.name === readFor) return project;
  const files = await readFiles(project.name, input);
  if (Object.keys(files).length === Object.keys(input.files ?? {}).length) return project;
  return await turn.parse(() => Promise.resolve({ ...input, files }));
}

/** A parse turn for a deploy; when every place is taken, a 429 that speaks of the deploy. */
function reserveForDeploy(pool: ParsePool, requestId: string): ParseTurn {
  try {
    return pool.reserve(`deploy:${requestId}`);
  } catch (error) {
    if (!(error instanceof PreviewBusyError)) throw error;
    throw new PreviewBusyError(
      error.retryAfterSeconds,
      "The panel is busy checking other compose files; deploy again in a moment (nothing was deployed)",
    );
  }
}
