/** auth.* verbs: sessions are part of the panel's security state, so they are audited too. */
import type { Db } from "../../db/db.ts";
import { HttpError, RateLimitedError } from "../../errors.ts";
import { createSession, deleteSession } from "../../auth/sessions.ts";
import { HashingBusyError } from "../../auth/hash_limiter.ts";
import type { SessionStreams } from "../../auth/streams.ts";
import type { Handlers } from "../dispatch.ts";

export const INVALID_CREDENTIALS = "Invalid username or password";

export function authHandlers(db: Db, streams: SessionStreams): Handlers {
  return {
    // The route has already checked the password; this creates the (new) session.
    "auth.login": ({ actor }) => {
      if (!actor.userId) throw new HttpError(400, "auth.login needs a verified user");
      const session = createSession(db, actor.userId, actor.ip);
      return Promise.resolve({ user: actor.username, role: actor.role, token: session.token });
    },
    // Records the failure; the caller gets the same answer for an unknown user and a wrong
    // password, or a 429 when the route found the attempt throttled (or, with `busy`, the
    // password hashing queue full).
    "auth.login_failed": ({ params }) =>
      Promise.reject(
        typeof params.retry_after !== "number"
          ? new HttpError(401, INVALID_CREDENTIALS)
          : params.busy === true
          ? new HashingBusyError(params.retry_after)
          : new RateLimitedError(params.retry_after),
      ),
    "auth.logout": ({ actor }) => {
      if (actor.sessionHash) {
        deleteSession(db, actor.sessionHash);
        streams.closeSession(actor.sessionHash);
      }
      return Promise.resolve({ user: actor.username });
    },
  };
}
