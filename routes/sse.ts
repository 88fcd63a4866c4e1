/**
 * Server-Sent Events with the panel's lifecycle rules: the stream belongs to the session
 * (logout closes it), closes on server shutdown, and sends a comment every 15 s so proxies
 * keep it open. `start` returns its own cleanup, run exactly once when the stream ends.
 */
import type { Context } from "hono";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { endWithSession } from "./session_bound.ts";

export type SendEvent = (event: string, data: unknown) => void;

const HEARTBEAT_MS = 15_000;

export function sseResponse(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, "streams" | "shutdown">,
  start: (send: SendEvent, signal: AbortSignal) => (() => void) | void,
): Response {
  const controller = new AbortController();
  const encoder = new TextEncoder();
  let cleanup: (() => void) | void;
  let release = () => {};
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const finish = () => {
    if (heartbeat === undefined) return;
    clearInterval(heartbeat);
    heartbeat = undefined;
    release();
    cleanup?.();
  };

  const body = new ReadableStream<Uint8Array>({
    start(stream) {
      const write = (text: string) => {
        if (controller.signal.aborted) return;
        try {
          stream.enqueue(encoder.encode(text));
        } catch {
          controller.abort();
        }
      };
      const send: SendEvent = (event, data) =>
        write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      controller.signal.addEventListener("abort", () => {
        finish();
        try {
          stream.close();
        } catch {
          // already closed by the client
        }
      }, { once: true });
      release = endWithSession(c, deps, () => controller.abort());
      heartbeat = setInterval(() => write(": keep-alive\n\n"), HEARTBEAT_MS);
      write("retry: 2000\n\n");
      cleanup = start(send, controller.signal);
    },
    cancel() {
      controller.abort();
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    },
  });
}
