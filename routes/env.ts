import type { Session } from "../lib/auth/sessions.ts";
import type { Actor } from "../lib/sysctl/dispatch.ts";

/** Hono's typed context variables, set by the middleware in routes/middleware/. */
export type AppEnv = {
  Variables: {
    requestId: string;
    clientIp: string;
    /** Set by the auth middleware for every non-public route. */
    session: Session;
    actor: Actor;
  };
};
