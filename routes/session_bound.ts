/**
 * Long-lived responses (SSE, the exec WebSocket, following a pull) belong to the session
 * that opened them: logging out, the session's expiry, deleting the user or changing their
 * role or password ends them, and so does the server shutting down.
 */
import type { Context } from "hono";
import type { AppDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { ENVIRONMENT_CLOSED } from "../lib/environments/registry.ts";

/**
 * Why a session-bound response ends: its session ended, the panel is shutting down, or the
 * environment it reads was removed or changed (its deps' shutdown signal says which).
 */
export type EndReason = "session" | "shutdown" | "environment";

/** Words for each reason, for stream markers and close frames. */
export const END_TEXT: Record<EndReason, string> = {
  session: "your session ended",
  shutdown: "the panel is shutting down",
  environment: "the environment was removed or changed",
};

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
    () => {
      const reason = controller.signal.reason;
      end(reason === "shutdown" || reason === "environment" ? reason : "session");
    },
    { once: true },
  );
  const unregister = deps.streams.register(session.tokenHash, session.userId, controller);
  const abort = () =>
    controller.abort(deps.shutdown.reason === ENVIRONMENT_CLOSED ? "environment" : "shutdown");
  deps.shutdown.addEventListener("abort", abort, { once: true });
  return () => {
    unregister();
    deps.shutdown.removeEventListener("abort", abort);
  };
}
