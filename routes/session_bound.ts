/**
 * Long-lived responses (SSE, the exec WebSocket, following a pull) belong to the session
 * that opened them: logging out, the session's expiry, deleting the user or changing their
 * role or password ends them, and so does the server shutting down.
 */
import type { Context } from "hono";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";

/** Why a session-bound response ends: its session ended, or the panel is shutting down. */
export type EndReason = "session" | "shutdown";

/**
 * Calls `end` (once) when this request's session ends or the server shuts down. Returns
 * the release to call when the response ends by itself.
 */
export function endWithSession(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, "streams" | "shutdown">,
  end: (reason: EndReason) => void,
): () => void {
  const session = c.get("session");
  const controller = new AbortController();
  controller.signal.addEventListener(
    "abort",
    () => end(controller.signal.reason === "shutdown" ? "shutdown" : "session"),
    { once: true },
  );
  const unregister = deps.streams.register(session.tokenHash, session.userId, controller);
  const abort = () => controller.abort("shutdown");
  deps.shutdown.addEventListener("abort", abort, { once: true });
  return () => {
    unregister();
    deps.shutdown.removeEventListener("abort", abort);
  };
}
