/**
 * dispatch({ verb, target, params, actor }): the only way anything mutates Docker or the
 * panel's own security state. It checks the verb against the whitelist and the actor's
 * role, runs the verb's handler, and writes exactly one audit row in a `finally`,
 * whether the action succeeded, failed or was refused.
 */
import type { Db } from "../db/db.ts";
import { HttpError, ProcessExitError, statusOf } from "../errors.ts";
import { DockerError } from "../docker/errors.ts";
import type { Role } from "../auth/users.ts";
import { appendAudit } from "./audit.ts";
import { redact } from "./redact.ts";

/** Who may call a verb: anyone (login), any signed-in user, or admins only. */
export type Access = "public" | "user" | "admin";

export const VERBS = {
  "docker.start": "admin",
  "docker.stop": "admin",
  "docker.restart": "admin",
  "docker.rm": "admin",
  "docker.run": "admin",
  "docker.pull": "admin",
  "docker.image.rm": "admin",
  "docker.image.prune": "admin",
  "docker.exec": "admin",
  "docker.create": "admin",
  "compose.deploy": "admin",
  "compose.stack.start": "admin",
  "compose.stack.stop": "admin",
  "compose.stack.restart": "admin",
  "compose.stack.down": "admin",
  "compose.stack.forget": "admin",
  "registry.upsert": "admin",
  "registry.delete": "admin",
  "user.create": "admin",
  "user.delete": "admin",
  // Admins change anything; every user may change their own password (the handler checks).
  "user.update": "user",
  "auth.login": "public",
  "auth.login_failed": "public",
  "auth.logout": "user",
} as const satisfies Record<string, Access>;

export type Verb = keyof typeof VERBS;

export function isVerb(value: string): value is Verb {
  return Object.hasOwn(VERBS, value);
}

export interface Actor {
  /** The signed-in user, the name tried at login, or "system"/"setup". */
  username: string;
  /** "system" is the panel itself (startup, setup with a valid token). */
  role: Role | "anonymous" | "system";
  ip: string;
  userId?: number;
  sessionHash?: string;
}

export interface DispatchRequest {
  verb: string;
  target: string;
  params?: Record<string, unknown>;
  actor: Actor;
  requestId?: string;
  /** Long operations (pulls) report progress here while they run; never audited. */
  progress?: (event: unknown) => void;
  /** A live object the handler works with (the exec session's WebSocket); never audited. */
  attachment?: unknown;
}

export interface HandlerContext {
  target: string;
  params: Record<string, unknown>;
  actor: Actor;
  requestId: string;
  progress: (event: unknown) => void;
  attachment?: unknown;
}

export type Handler = (context: HandlerContext) => Promise<unknown>;
export type Handlers = Partial<Record<Verb, Handler>>;

export interface Dispatcher {
  dispatch<T = unknown>(request: DispatchRequest): Promise<T>;
  /** Resolves once no dispatch is running (shutdown waits for it before closing the database). */
  idle(): Promise<void>;
  /**
   * Writes the audit row of every dispatch still running, as failed with `reason` (exit
   * code 503), and returns how many. For a shutdown that cannot wait any longer: those
   * operations then have their one row although their handlers never return.
   */
  abandon(reason: string): number;
}

export function createDispatcher(db: Db, handlers: Handlers): Dispatcher {
  let running = 0;
  let wakeIdle: (() => void)[] = [];
  /** Each running dispatch's way to write its audit row now, once. */
  const unaudited = new Set<(exitCode: number, stderr: string) => void>();

  async function run<T>(request: DispatchRequest): Promise<T> {
    const started = performance.now();
    const requestId = request.requestId ?? crypto.randomUUID();
    let exitCode = 0;
    let stdout = "";
    let stderr = "";
    const audit = (code: number, errorText: string) => {
      unaudited.delete(audit);
      appendAudit(db, {
        actor: request.actor.username,
        clientIp: request.actor.ip,
        action: request.verb,
        target: request.target,
        params: redact(request.params ?? {}),
        exitCode: code,
        durationMs: performance.now() - started,
        stdout,
        stderr: errorText,
        requestId,
      });
    };
    unaudited.add(audit);
    try {
      const handler = authorise(request, handlers);
      const result = await handler({
        target: request.target,
        params: request.params ?? {},
        actor: request.actor,
        requestId,
        progress: request.progress ?? (() => {}),
        attachment: request.attachment,
      });
      stdout = result === undefined ? "" : JSON.stringify(redact(result));
      return result as T;
    } catch (error) {
      exitCode = exitCodeOf(error);
      stderr = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      if (unaudited.has(audit)) audit(exitCode, stderr);
    }
  }

  return {
    abandon(reason) {
      const pending = [...unaudited];
      for (const audit of pending) audit(503, reason);
      return pending.length;
    },
    idle() {
      return running === 0 ? Promise.resolve() : new Promise((resolve) => wakeIdle.push(resolve));
    },
    async dispatch<T>(request: DispatchRequest): Promise<T> {
      running++;
      try {
        return await run<T>(request);
      } finally {
        if (--running === 0) {
          for (const wake of wakeIdle) wake();
          wakeIdle = [];
        }
      }
    },
  };
}

function authorise(request: DispatchRequest, handlers: Handlers): Handler {
  const { verb, actor } = request;
  if (!isVerb(verb)) throw new HttpError(400, `Unknown action "${verb.slice(0, 64)}"`);
  const access = VERBS[verb];
  if (actor.role !== "system") {
    if (access !== "public" && (actor.role === "anonymous" || !actor.userId)) {
      throw new HttpError(401, "Sign in first");
    }
    if (access === "admin" && actor.role !== "admin") {
      throw new HttpError(403, `Your role (${actor.role}) may not perform ${verb}`);
    }
  }
  const handler = handlers[verb];
  if (!handler) throw new HttpError(501, `${verb} is not available in this build`);
  return handler;
}

/**
 * 0 is success; otherwise the HTTP status, the daemon's own status for Engine errors, or
 * a command's exit code.
 */
function exitCodeOf(error: unknown): number {
  if (error instanceof ProcessExitError) return error.exitCode;
  if (error instanceof DockerError) return error.daemonStatus;
  return statusOf(error);
}
