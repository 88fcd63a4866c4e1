/**
 * A session-bound response says why it ended: the session, the panel shutting down, or the
 * environment it reads being removed or changed (not "the panel is shutting down").
 */
import assert from "node:assert/strict";
import type { Context } from "hono";
import type { AppEnv } from "../../routes/env.ts";
import { END_TEXT, type EndReason, endWithSession } from "../../routes/session_bound.ts";
import { createSessionStreams } from "../../lib/auth/streams.ts";
import { ENVIRONMENT_CLOSED } from "../../lib/environments/registry.ts";

function contextWithSession() {
  const session = { tokenHash: "hash", userId: 1 };
  return { get: (key: string) => key === "session" ? session : undefined } as unknown as Context<
    AppEnv
  >;
}

Deno.test("a stream ends with the reason its environment, the panel or its session gave", () => {
  const cases: [string, (panel: AbortController, env: AbortController) => void, EndReason][] = [
    ["environment removed", (_panel, env) => env.abort(ENVIRONMENT_CLOSED), "environment"],
    ["panel shutdown", (panel) => panel.abort(), "shutdown"],
  ];
  for (const [what, close, expected] of cases) {
    const panel = new AbortController();
    const env = new AbortController();
    const ended: EndReason[] = [];
    endWithSession(
      contextWithSession(),
      {
        streams: createSessionStreams(),
        shutdown: AbortSignal.any([panel.signal, env.signal]),
      },
      (reason) => ended.push(reason),
    );
    close(panel, env);
    assert.deepEqual(ended, [expected], what);
  }
  const streams = createSessionStreams();
  const ended: EndReason[] = [];
  endWithSession(
    contextWithSession(),
    { streams, shutdown: new AbortController().signal },
    (r) => ended.push(r),
  );
  streams.closeSession("hash");
  assert.deepEqual(ended, ["session"]);
  assert.equal(END_TEXT.environment, "the environment was removed or changed");
});
