/**
 * Server-Sent Events with the panel's lifecycle rules: the stream belongs to the session
 * (logout closes it), closes on server shutdown, and sends a comment every 15 s so proxies
 * keep it open. `start` returns its own cleanup, run exactly once when the stream ends.
 *
 * The body is a bounded stream (bounded_stream.ts): `send` resolves when the client has
 * room for more, and a client that stops reading is dropped with a last `end` event whose
 * `reason` says so.
 */
import type { Context } from "hono";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { endWithSession } from "./session_bound.ts";
import { boundedStream } from "./bounded_stream.ts";

/**
 * Queues one event. Resolves `true` once the client can take more, `false` once the stream
 * has ended. A producer that follows one upstream awaits it; a hub's listener must not.
 */
export type SendEvent = (event: string, data: unknown) => Promise<boolean>;

const HEARTBEAT_MS = 15_000;

function eventText(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function sseResponse(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, "streams" | "shutdown" | "log">,
  start: (
    send: SendEvent,
    signal: AbortSignal,
    /** Ends the stream after what is queued (the producer has nothing more to say). */
    end: () => void,
  ) => (() => void) | void,
): Response {
  const stream = boundedStream({
    marker: (reason) => eventText("end", { reason: `Stream closed: ${reason}` }),
    onDrop: (reason) => deps.log(`SSE ${c.req.path} closed: ${reason}`),
  });
  const release = endWithSession(c, deps, () => stream.close());
  const heartbeat = setInterval(() => void stream.write(": keep-alive\n\n"), HEARTBEAT_MS);
  void stream.write("retry: 2000\n\n");
  const send: SendEvent = (event, data) => stream.write(eventText(event, data));
  const cleanup = start(send, stream.signal, () => stream.close());
  const finish = () => {
    clearInterval(heartbeat);
    release();
    cleanup?.();
  };
  // `start` may have ended the stream already; either way the cleanup runs once.
  if (stream.signal.aborted) finish();
  else stream.signal.addEventListener("abort", finish, { once: true });
  return new Response(stream.body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  });
}
