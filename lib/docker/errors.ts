import { HttpError, ValidationError } from "../errors.ts";

/** The daemon answered with a non-2xx status. `message` is the daemon's own text. */
export class DockerError extends HttpError {
  override name = "DockerError";
  constructor(
    /** The status the daemon answered with. */
    readonly daemonStatus: number,
    message: string,
  ) {
    // A daemon 5xx is a bad gateway from the panel's point of view; 4xx pass through.
    super(daemonStatus >= 500 ? 502 : daemonStatus, message);
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
