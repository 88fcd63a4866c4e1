/**
 * compose.file.put and compose.file.rm: the files of a stack directory (lib/compose/
 * stack_dir.ts). The target is `<project>/<path>`; the content travels as the attachment,
 * so it never reaches the audit row (params keep its size and whether it is secret).
 */
import { ValidationError } from "../../errors.ts";
import { putStackFile, removeStackFile } from "../../compose/stack_dir.ts";
import { checkProjectName } from "../../compose/stacks.ts";
import type { Handlers } from "../dispatch.ts";

export function composeFileHandlers(stacksDir: string): Handlers {
  return {
    "compose.file.put": async ({ params, attachment }) => {
      const project = checkProjectName(String(params.project ?? ""));
      const content = (attachment as { content?: unknown } | undefined)?.content;
      if (content === undefined) throw new ValidationError("content is required", "content");
      const result = await putStackFile(stacksDir, project, params.path, content, {
        secret: params.secret === true,
      });
      return { project, ...result };
    },
    "compose.file.rm": async ({ params }) => {
      const project = checkProjectName(String(params.project ?? ""));
      return { project, ...(await removeStackFile(stacksDir, project, params.path)) };
    },
  };
}
