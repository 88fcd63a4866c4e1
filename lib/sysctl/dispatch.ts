/**
 * dispatch({ verb, target, params, actor }): the only way anything mutates Docker or the
 * panel's own security state. It checks the verb against the whitelist and the actor's
 * role, makes sure the audit trail can record the operation before anything happens, runs
 * the verb's handler, and writes its final audit row when it ends, whether the action
 * succeeded, failed or was refused.
 *
 * Audit before acting: a long operation (LONG_VERBS) writes a "started" row first, which
 * its final row refers to (started_seq), so a crash leaves evidence the next start turns
 * into an "interrupted" row; a short one first proves the database takes a write. If that
 * fails (SQLITE_BUSY past busy_timeout, say), the handler never runs and the caller gets a
 * 503. A final row that cannot be written is retried briefly and then logged: its started
 * row stays, and the startup sweep records it.
 */
import type { Db } from "../db/db.ts";
import { HttpError, ProcessExitError, statusOf } from "../errors.ts";
import { DockerError } from "../docker/errors.ts";
import type { Role } from "../auth/users.ts";
import { appendAudit, assertAuditWritable, type AuditEntry } from "./audit.ts";
import { redact } from "./redact.ts";

/** Who may call a verb: anyone (login), any signed-in user, or admins only. */
export type Access = "public" | "user" | "admin";

export const VERBS = {
  "docker.start": "admin",
  "docker.stop": "admin",
  "docker.restart": "admin",
  "docker.rm": "admin",
  "docker.pause": "admin",
  "docker.unpause": "admin",
  "docker.kill": "admin",
  "docker.rename": "admin",
  "docker.container.update": "admin",
  "docker.recreate": "admin",
  "docker.run": "admin",
  "docker.pull": "admin",
  "docker.image.rm": "admin",
  "docker.image.prune": "admin",
  "docker.exec": "admin",
  "docker.create": "admin",
  "docker.build": "admin",
  "docker.volume.create": "admin",
  "docker.volume.rm": "admin",
  "docker.volume.prune": "admin",
  "docker.volume.browse": "admin",
  "docker.volume.download": "admin",
  "docker.volume.upload": "admin",
  "docker.network.create": "admin",
  "docker.network.rm": "admin",
  "docker.network.prune": "admin",
  "docker.network.connect": "admin",
  "docker.network.disconnect": "admin",
  "compose.deploy": "admin",
  "compose.stack.start": "admin",
  "compose.stack.stop": "admin",
  "compose.stack.restart": "admin",
  "compose.stack.down": "admin",
  "compose.stack.forget": "admin",
  "compose.file.put": "admin",
  "compose.file.rm": "admin",
  "registry.upsert": "admin",
  "registry.delete": "admin",
  "docker.updates.check": "admin",
  "docker.update": "admin",
  "compose.stack.update": "admin",
  "docker.image.tag": "admin",
  "docker.image.untag": "admin",
  "docker.image.push": "admin",
  "webhook.add": "admin",
  "webhook.remove": "admin",
  "environment.add": "admin",
  "environment.update": "admin",
  "environment.remove": "admin",
  "swarm.stack.deploy": "admin",
  "swarm.stack.remove": "admin",
  "swarm.node.update": "admin",
  "swarm.node.remove": "admin",
  "swarm.service.create": "admin",
  "swarm.service.scale": "admin",
  "swarm.service.update": "admin",
  "swarm.service.rollback": "admin",
  "swarm.service.remove": "admin",
  "swarm.secret.create": "admin",
  "swarm.secret.remove": "admin",
  "swarm.config.create": "admin",
  "swarm.config.remove": "admin",
  "user.create": "admin",
  "user.delete": "admin",
  // Admins change anything; every user may change their own password (the handler checks).
  "user.update": "user",
  "auth.login": "public",
  "auth.login_failed": "public",
  "auth.logout": "user",
} as const satisfies Record<string, Access>;

export type Verb = keyof typeof VERBS;

/**
 * Verbs that can take more than a second (the Engine pulls, stops with a grace period,
 * prunes, checks a registry login; an exec session lasts as long as its terminal): they
 * write a started row before they begin.
 */
export const LONG_VERBS: ReadonlySet<Verb> = new Set<Verb>([
  "docker.pull",
  "docker.run",
  "docker.build",
  "docker.stop",
  "docker.restart",
  "docker.recreate",
  "docker.image.prune",
  "docker.exec",
  "docker.volume.prune",
  "docker.volume.download",
  "docker.network.prune",
  "compose.deploy",
  "compose.stack.start",
  "compose.stack.stop",
  "compose.stack.restart",
  "compose.stack.down",
  "registry.upsert",
  "docker.updates.check",
  "docker.update",
  "compose.stack.update",
  // Both test the connection first (up to a few seconds for an Engine that does not answer).
  "environment.add",
  "environment.update",
  // A rolling image update or a rollback is followed until the swarm reports it done.
  "swarm.service.update",
  "swarm.service.rollback",
  "docker.image.push",
  "swarm.stack.deploy",
  "swarm.stack.remove",
]);

/** How many request ids hasAudited remembers. */
export const AUDITED_MEMORY = 10_000;
/** Waits between attempts at a final row that failed (each attempt also waits busy_timeout). */
const FINAL_RETRY_MS = [50, 250, 1000];

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
   * Writes the final audit row of every dispatch still running, as failed with `reason`
   * (exit code 503; referring to its started row), and returns how many. For a shutdown that
   * cannot wait any longer: those operations then have their final row although their
   * handlers never return.
   */
  abandon(reason: string): number;
  /**
   * Whether a row was written for this request id (among the last AUDITED_MEMORY ids), so a
   * refusal outside the dispatcher can be audited without a second row.
   */
  hasAudited(requestId: string): boolean;
  /** How many dispatches are running now (an environment with none may be closed when idle). */
  running(): number;
}

export interface DispatcherOptions {
  /** Where failed audit writes are reported; defaults to stderr. */
  log?: (message: string) => void;
  /** The environment every row of this dispatcher names ("local" or an environment id). */
  environment?: string;
}

export function createDispatcher(
  db: Db,
  handlers: Handlers,
  options: DispatcherOptions = {},
): Dispatcher {
  const log = options.log ?? ((message: string) => console.error(message));
  let running = 0;
  let wakeIdle: (() => void)[] = [];
  /** Each running dispatch's way to write its final row now, once (abandon). */
  const unaudited = new Set<(reason: string) => void>();
  const audited = new Set<string>();

  const append = (entry: AuditEntry) => {
    const row = appendAudit(db, entry);
    if (entry.requestId) {
      audited.delete(entry.requestId);
      audited.add(entry.requestId);
      if (audited.size > AUDITED_MEMORY) audited.delete(audited.values().next().value!);
    }
    return row;
  };

  /** The 503 for an operation that did not happen because its audit row could not be written. */
  const unavailable = (verb: string, error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    log(`Audit write failed, ${verb.slice(0, 64)} not performed: ${message}`);
    return new HttpError(
      503,
      `The audit trail cannot be written right now (${
        /locked|busy/i.test(message) ? "the database is busy" : "the database refused the write"
      }), so nothing was done. Try again shortly.`,
    );
  };

  async function run<T>(request: DispatchRequest): Promise<T> {
    const started = performance.now();
    const requestId = request.requestId ?? crypto.randomUUID();
    const params = redact(request.params ?? {});
    const base = {
      actor: request.actor.username,
      clientIp: request.actor.ip,
      action: request.verb,
      target: request.target,
      params,
      requestId,
      environment: options.environment,
    };

    let handler: Handler;
    try {
      handler = authorise(request, handlers);
    } catch (refusal) {
      try {
        append({
          ...base,
          exitCode: exitCodeOf(refusal),
          durationMs: performance.now() - started,
          stderr: messageOf(refusal),
        });
      } catch (error) {
        throw unavailable(request.verb, error);
      }
      throw refusal;
    }

    let startedSeq: number | undefined;
    try {
      if (LONG_VERBS.has(request.verb as Verb)) {
        startedSeq = append({ ...base, phase: "started", exitCode: 0, durationMs: 0 }).seq;
      } else {
        assertAuditWritable(db);
      }
    } catch (error) {
      throw unavailable(request.verb, error);
    }

    // From here on the operation acts, and owes its final row.
    let outcome: { exitCode: number; stdout: string; stderr: string } | undefined;
    let written = false;
    const finalEntry = (exitCode: number, stdout: string, stderr: string): AuditEntry => ({
      ...base,
      exitCode,
      durationMs: performance.now() - started,
      stdout,
      stderr,
      startedSeq,
    });
    const abandon = (reason: string) => {
      unaudited.delete(abandon);
      written = true;
      // A handler that already returned keeps its own outcome.
      append(
        outcome
          ? finalEntry(outcome.exitCode, outcome.stdout, outcome.stderr)
          : finalEntry(503, "", reason),
      );
    };
    unaudited.add(abandon);
    try {
      const result = await handler({
        target: request.target,
        params: request.params ?? {},
        actor: request.actor,
        requestId,
        progress: request.progress ?? (() => {}),
        attachment: request.attachment,
      });
      outcome = {
        exitCode: 0,
        stdout: result === undefined ? "" : safeJson(redact(result)),
        stderr: "",
      };
      return result as T;
    } catch (error) {
      outcome = { exitCode: exitCodeOf(error), stdout: "", stderr: messageOf(error) };
      throw error;
    } finally {
      await writeFinal();
    }

    /** The final row, retried briefly; the caller gets the handler's own answer either way. */
    async function writeFinal() {
      for (let attempt = 0; !written; attempt++) {
        try {
          append(finalEntry(outcome!.exitCode, outcome!.stdout, outcome!.stderr));
          written = true;
          unaudited.delete(abandon);
        } catch (error) {
          if (attempt >= FINAL_RETRY_MS.length) {
            unaudited.delete(abandon);
            log(
              `Could not write the audit row of ${request.verb.slice(0, 64)} (request ` +
                `${requestId}): ${messageOf(error)}` +
                (startedSeq === undefined
                  ? ""
                  : `; its started row ${startedSeq} stays and the next start records it as interrupted`),
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, FINAL_RETRY_MS[attempt]));
        }
      }
    }
  }

  return {
    abandon(reason) {
      const pending = [...unaudited];
      let count = 0;
      for (const abandon of pending) {
        try {
          abandon(reason);
          count++;
        } catch (error) {
          log(`Could not write the audit row of an abandoned operation: ${messageOf(error)}`);
        }
      }
      return count;
    },
    idle() {
      return running === 0 ? Promise.resolve() : new Promise((resolve) => wakeIdle.push(resolve));
    },
    hasAudited(requestId) {
      return audited.has(requestId);
    },
    running() {
      return running;
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** JSON of an already-redacted (so depth-bounded) value; never throws. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return JSON.stringify("[result could not be serialised]");
  }
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
