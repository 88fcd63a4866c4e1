/**
 * /api/containers/compose/stacks/{name}/files: the small text files of a stack directory
 * (config files, Dockerfiles, secret files). Anyone signed in sees the names and sizes;
 * only admins read contents (never those of a secret file) and change files, through the
 * dispatcher (compose.file.put / compose.file.rm, audited without the content).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { checkProjectName } from "../../lib/compose/stacks.ts";
import {
  listStackFiles,
  MAX_STACK_FILE_BYTES,
  MAX_STACK_FILES,
  readStackFile,
} from "../../lib/compose/stack_dir.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { readJsonObject } from "./body.ts";

export function composeFilesRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { stacksDir } = deps.config;
  const projectOf = (name: string | undefined) => checkProjectName(name ?? "");
  const targetOf = (project: string, path: unknown) =>
    `${project}/${typeof path === "string" ? path.slice(0, 300) : ""}`;

  app.get("/", async (c) => {
    const project = projectOf(c.req.param("name"));
    return c.json({
      project,
      files: await listStackFiles(stacksDir, project),
      max_bytes: MAX_STACK_FILE_BYTES,
      max_files: MAX_STACK_FILES,
    });
  });

  app.get("/content", async (c) => {
    requireAdmin(c);
    const project = projectOf(c.req.param("name"));
    const path = c.req.query("path");
    return c.json({ project, path, content: await readStackFile(stacksDir, project, path) });
  });

  app.put("/", async (c) => {
    const project = projectOf(c.req.param("name"));
    const body = await readJsonObject(c);
    const size = typeof body.content === "string"
      ? new TextEncoder().encode(body.content).length
      : null;
    return c.json(
      await deps.dispatcher.dispatch({
        verb: "compose.file.put",
        target: targetOf(project, body.path),
        params: { project, path: body.path, size, secret: body.secret === true },
        actor: c.get("actor"),
        requestId: c.get("requestId"),
        attachment: { content: body.content },
      }),
    );
  });

  app.delete("/", async (c) => {
    const project = projectOf(c.req.param("name"));
    const path = c.req.query("path");
    return c.json(
      await deps.dispatcher.dispatch({
        verb: "compose.file.rm",
        target: targetOf(project, path),
        params: { project, path },
        actor: c.get("actor"),
        requestId: c.get("requestId"),
      }),
    );
  });

  return app;
}
