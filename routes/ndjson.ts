/**
 * Streamed NDJSON responses (pull, deploy and run progress) on a bounded stream
 * (bounded_stream.ts): a client that stops reading is dropped with a last line
 * `{"stream_closed": reason}`, while the operation itself carries on and is audited.
 *
 * Refusals and bad input must be plain 4xx answers, so streaming starts only once an
 * operation has reported progress (`streamFromFirstProgress`); what went wrong after that
 * is a final `{done: false, status, error}` line that never carries internal text.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HttpError, statusOf } from "../lib/errors.ts";
import { type BoundedStream, boundedStream } from "./bounded_stream.ts";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { END_TEXT, endWithSession } from "./session_bound.ts";

/**
 * What a progress stream belongs to: logging out, the session's expiry, a password or role
 * change and the panel's shutdown end it (with a last line saying so). The operation it
 * reports on goes on and is audited either way.
 */
export type StreamOwner = Pick<AppDeps, "streams" | "shutdown">;

export interface NdjsonStream {
  /** Queues one line; resolves like BoundedStream.write. */
  write(value: unknown): Promise<boolean>;
  close(): void;
  /** Ends the stream now with a last `{stream_closed: reason}` line. */
  drop(reason: string): void;
  /** Aborts when the stream ends: closed, dropped, or the client went away. */
  readonly signal: AbortSignal;
  readonly body: ReadableStream<Uint8Array>;
}

export function ndjsonStream(log?: (message: string) => void): NdjsonStream {
  const stream: BoundedStream = boundedStream({
    marker: (reason) => JSON.stringify({ stream_closed: reason }) + "\n",
    onDrop: (reason) => log?.(`NDJSON stream closed: ${reason}`),
  });
  return {
    write: (value) => stream.write(JSON.stringify(value) + "\n"),
    close: () => stream.close(),
    drop: (reason) => stream.drop(reason),
    signal: stream.signal,
    body: stream.body,
  };
}

/** Ends `stream` with its request's session (see StreamOwner); released when it ends. */
export function endStreamWithSession(c: Context, owner: StreamOwner, stream: NdjsonStream) {
  const release = endWithSession(
    c as Context<AppEnv>,
    owner,
    (reason) => stream.drop(END_TEXT[reason]),
  );
  if (stream.signal.aborted) release();
  else stream.signal.addEventListener("abort", release, { once: true });
}

export function ndjsonBody(c: Context, stream: NdjsonStream): Response {
  return c.body(stream.body, 200, {
    "Content-Type": "application/x-ndjson",
    "Cache-Control": "no-store",
  });
}

/**
 * A streamed NDJSON response. `run` writes lines and resolves when the stream should end;
 * once the client has gone, writes resolve `false` and are dropped, while `run` itself
 * carries on.
 */
export function ndjsonResponse(
  c: Context,
  run: (write: (value: unknown) => Promise<boolean>, signal: AbortSignal) => Promise<unknown>,
  log?: (message: string) => void,
  owner?: StreamOwner,
): Response {
  const stream = ndjsonStream(log);
  if (owner) endStreamWithSession(c, owner, stream);
  run(stream.write, stream.signal).catch((error) => {
    log?.(`error ${c.req.method} ${c.req.path}: ${error?.stack ?? error}`);
  }).finally(() => stream.close());
  return ndjsonBody(c, stream);
}

/** Whether the client asked for progress as NDJSON (it also takes JSON). */
export function acceptsNdjson(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("application/x-ndjson");
}

/**
 * The last line of a stream whose operation failed: an HttpError's own message, or
 * "Internal server error" for anything unexpected (logged here, since app.onError no
 * longer sees a failure that happens after the first byte).
 */
export function failureLine(
  c: Context,
  error: unknown,
  log: (message: string) => void,
): { done: false; status: number; error: string; field?: string } {
  const expected = error instanceof HttpError;
  if (!expected) {
    log(`error ${c.req.method} ${c.req.path}: ${(error as Error)?.stack ?? error}`);
  }
  return {
    done: false,
    status: statusOf(error),
    error: expected ? error.message : "Internal server error",
    ...(expected && error.field ? { field: error.field } : {}),
  };
}

export interface FirstProgressOptions<T> {
  /** Starts the operation; it reports progress through the callback. */
  run: (progress: (event: unknown) => void) => Promise<T>;
  /** The line a progress event becomes. */
  line: (event: unknown) => unknown;
  /** The last line after success. */
  done: (result: T) => Record<string, unknown>;
  /**
   * The answer for an operation that succeeded before any progress. Default: a stream
   * holding only the `done` line.
   */
  plain?: (result: T) => Response;
  /** Gets the last line (success or failure), whether or not the client is still there. */
  onFinal?: (line: Record<string, unknown>) => void;
  log: (message: string) => void;
  /** The stream ends with this request's session (the operation goes on). */
  owner?: StreamOwner;
}

/**
 * Starts an operation and answers once it has reported progress or ended. A failure before
 * any progress is thrown, so app.onError answers it with its status (a viewer's 403, a
 * 400) before any byte of a stream. Otherwise the answer is an NDJSON stream of the
 * progress lines and a last `done` or failure line; the operation runs on if the client
 * goes away.
 */
export function streamFromFirstProgress<T>(
  c: Context,
  options: FirstProgressOptions<T>,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    let stream: NdjsonStream | undefined;
    const begin = () => {
      stream = ndjsonStream(options.log);
      if (options.owner) endStreamWithSession(c, options.owner, stream);
      resolve(ndjsonBody(c, stream));
      return stream;
    };
    const progress = (event: unknown) => void (stream ?? begin()).write(options.line(event));
    const end = (line: Record<string, unknown>) => {
      options.onFinal?.(line);
      const out = stream ?? begin();
      void out.write(line);
      out.close();
    };
    options.run(progress).then(
      (result) => {
        if (!stream && options.plain) {
          options.onFinal?.(options.done(result));
          return resolve(options.plain(result));
        }
        end(options.done(result));
      },
      (error) => {
        if (!stream) return reject(error);
        end(failureLine(c, error, options.log));
      },
    );
  });
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
  owner?: StreamOwner,
): Promise<Response> {
  return streamFromFirstProgress(c, {
    run,
    line: (event) => ({ progress: event }),
    done: (result) => ({ ...result, done: true, status }),
    plain: (result) => c.json(result, status),
    log,
    owner,
  });
}
