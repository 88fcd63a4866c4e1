import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HttpError, statusOf } from "../lib/errors.ts";

/**
 * A streamed NDJSON response (pull and deploy progress). `run` writes lines and resolves
 * when the stream should end; once the client has gone, writes are dropped, while `run`
 * itself carries on.
 */
export function ndjsonResponse(
  c: Context,
  run: (write: (value: unknown) => void) => Promise<unknown>,
): Response {
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (value: unknown) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(value) + "\n"));
        } catch {
          open = false;
        }
      };
      run(write).finally(() => {
        if (open) {
          open = false;
          controller.close();
        }
      });
    },
    cancel() {
      open = false;
    },
  });
  return c.body(body, 200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
}

/** Whether the client asked for progress as NDJSON (it also takes JSON). */
export function acceptsNdjson(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("application/x-ndjson");
}

/**
 * Answers like a plain JSON route while the operation reports no progress, so bad input is
 * still a 4xx with its message; at the first progress event it switches to NDJSON:
 * `{progress}` lines, then `{done: true, status, …result}` or `{done: false, status, error}`.
 */
export function jsonUntilProgress<T extends object>(
  c: Context,
  status: ContentfulStatusCode,
  run: (progress: (event: unknown) => void) => Promise<T>,
  log: (message: string) => void,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    let write: ((value: unknown) => void) | undefined;
    let end: (() => void) | undefined;
    const progress = (event: unknown) => {
      if (!write) {
        resolve(ndjsonResponse(c, (w) => {
          write = w;
          return new Promise<void>((done) => end = done);
        }));
      }
      write!({ progress: event });
    };
    run(progress).then(
      (result) => {
        if (!write) return resolve(c.json(result, status));
        write({ ...result, done: true, status });
        end!();
      },
      (error) => {
        if (!write) return reject(error);
        const expected = error instanceof HttpError;
        // Past the first line, app.onError no longer sees the failure: log it here instead.
        if (!expected) log(`error ${c.req.method} ${c.req.path}: ${error?.stack ?? error}`);
        write({
          done: false,
          status: statusOf(error),
          error: expected ? error.message : "Internal server error",
          ...(expected && error.field ? { field: error.field } : {}),
        });
        end!();
      },
    );
  });
}
