/**
 * One error type with an HTTP status. Handlers throw; routes/app.ts turns errors into
 * responses in one place (`errorResponse`).
 */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    /** The request field that was wrong, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Bad input from the caller: always a 400 naming what was wrong. */
export class ValidationError extends HttpError {
  override name = "ValidationError";
  constructor(message: string, field?: string) {
    super(400, message, field);
  }
}

/** Too many attempts: answered 429 with a Retry-After header. */
export class RateLimitedError extends HttpError {
  override name = "RateLimitedError";
  constructor(readonly retryAfterSeconds: number) {
    super(429, `Too many failed attempts. Try again in ${retryAfterSeconds} seconds.`);
  }
}

/** A command ran to its end and exited non-zero; the audit row records its exit code. */
export class ProcessExitError extends Error {
  override name = "ProcessExitError";
  constructor(readonly exitCode: number, command = "The command") {
    super(`${command} exited with code ${exitCode}`);
  }
}

/** Anything that carries an HTTP status (HttpError, DockerError) reports it here. */
export function statusOf(error: unknown): number {
  if (error && typeof error === "object" && "status" in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === "number" && status >= 400 && status <= 599) return status;
  }
  return 500;
}
