/**
 * Worker entry for parse_pool.ts: parses compose inputs one message at a time and posts
 * back each project, or its error as plain data (status, message, field). Runs off the
 * main thread so that a costly file never blocks the panel's event loop.
 */
import { parseCompose } from "./parse.ts";
import type { ComposeInput, ComposeProject } from "./types.ts";
import { statusOf } from "../errors.ts";

export interface WorkerRequest {
  id: number;
  input: ComposeInput;
}

export type WorkerAnswer =
  & { id: number }
  & (
    | { ok: true; project: ComposeProject }
    | { ok: false; status: number; message: string; field?: string }
  );

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(answer: WorkerAnswer): void;
};

scope.onmessage = ({ data: { id, input } }) => {
  let answer: WorkerAnswer;
  try {
    answer = { id, ok: true, project: parseCompose(input) };
  } catch (error) {
    const status = statusOf(error);
    // Only the panel's own errors carry a message meant for the caller.
    answer = status >= 500
      ? { id, ok: false, status: 500, message: "The compose file could not be checked" }
      : {
        id,
        ok: false,
        status,
        message: (error as Error).message,
        field: (error as { field?: string }).field,
      };
  }
  scope.postMessage(answer);
};
