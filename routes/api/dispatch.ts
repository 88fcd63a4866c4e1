import type { Context } from "hono";
import type { Dispatcher } from "../../lib/sysctl/dispatch.ts";
import type { AppEnv } from "../env.ts";

/** Dispatches a verb as the signed-in user of this request. */
export function dispatchAs<T = unknown>(
  c: Context<AppEnv>,
  dispatcher: Dispatcher,
  verb: string,
  target: string,
  params: Record<string, unknown> = {},
  progress?: (event: unknown) => void,
): Promise<T> {
  return dispatcher.dispatch<T>({
    verb,
    target,
    params,
    actor: c.get("actor"),
    requestId: c.get("requestId"),
    progress,
  });
}
