/**
 * Changing one's own password checks the current one, which makes it a way to guess that
 * password from a stolen session. The check is throttled like a login of that account from
 * this address (lib/auth/throttle.ts): reserved before anything is hashed, a wrong current
 * password keeps its reservation, a right one clears the pair.
 */
import type { Context } from "hono";
import { RateLimitedError, ValidationError } from "../../lib/errors.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { dispatchAs } from "./dispatch.ts";

/** Dispatches user.update for `target`, throttled when it is the actor's own password. */
export async function dispatchUserUpdate<T>(
  c: Context<AppEnv>,
  deps: Pick<AppDeps, "dispatcher" | "throttle">,
  target: string,
  params: Record<string, unknown>,
): Promise<T> {
  const actor = c.get("actor");
  const ownPassword = target === String(actor.userId) && params.password !== undefined;
  if (!ownPassword) return await dispatchAs<T>(c, deps.dispatcher, "user.update", target, params);
  const attempt = deps.throttle.reserve(actor.username, c.get("clientIp"));
  if (!attempt.allowed) throw new RateLimitedError(attempt.retryAfter);
  try {
    const user = await dispatchAs<T>(c, deps.dispatcher, "user.update", target, params);
    attempt.succeeded();
    return user;
  } catch (error) {
    const wrongPassword = error instanceof ValidationError && error.field === "current_password";
    if (!wrongPassword) attempt.cancel(); // nothing about the password was learned
    throw error;
  }
}
