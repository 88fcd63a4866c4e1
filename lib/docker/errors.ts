import { HttpError, ValidationError } from "../errors.ts";

/**
 * The Engine statuses that mean the same to the panel's caller: bad parameters, no such
 * object, a conflict. Anything else (a 401 or 403 from an authorization plugin or a proxy in
 * front of the Engine, a 5xx) is the panel's upstream failing: a 502. An Engine 401 passed
 * on as is would sign the browser out.
 */
const PASSED_ON = new Set([400, 404, 409]);

/** The panel's status for an Engine status: the one place that maps them. */
export function panelStatusOf(daemonStatus: number): number {
  return PASSED_ON.has(daemonStatus) ? daemonStatus : 502;
}

/** The daemon answered with a non-2xx status. `message` is the daemon's own text. */
export class DockerError extends HttpError {
  override name = "DockerError";
  constructor(
    /** The status the daemon answered with. */
    readonly daemonStatus: number,
    message: string,
  ) {
    super(
      panelStatusOf(daemonStatus),
      PASSED_ON.has(daemonStatus) || daemonStatus >= 500
        ? message
        : `The Docker Engine refused the request (${daemonStatus}): ${message}`,
    );
  }
}

/** The daemon's socket did not answer (dockerd down, wrong path, refused). */
export class DockerUnreachableError extends HttpError {
  override name = "DockerUnreachableError";
  constructor(readonly endpoint: string, cause?: unknown) {
    super(503, `Docker Engine unreachable at ${endpoint}`);
    if (cause !== undefined) this.cause = cause;
  }
}

/** A non-streaming call took longer than its timeout. */
export class DockerTimeoutError extends HttpError {
  override name = "DockerTimeoutError";
  constructor(readonly operation: string, readonly timeoutMs: number) {
    super(504, `Docker Engine did not answer ${operation} within ${timeoutMs} ms`);
  }
}

/** An id, name or reference that may not go into an Engine URL. No request was made. */
export class InvalidReferenceError extends ValidationError {
  override name = "InvalidReferenceError";
}
