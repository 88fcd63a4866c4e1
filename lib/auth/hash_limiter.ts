/**
 * A bound on concurrent password derivations. Each scrypt derivation takes 128 MiB for
 * about half a second, so unbounded parallel logins exhaust memory: at most `concurrency`
 * run at once, at most `queue` wait, and anything beyond is refused before it hashes.
 */
import { RateLimitedError } from "../errors.ts";

/** Refused because the hashing queue is full; answered 429 with Retry-After. */
export class HashingBusyError extends RateLimitedError {
  override name = "HashingBusyError";
  constructor(retryAfterSeconds = 1) {
    super(retryAfterSeconds);
    this.message =
      `The panel is busy checking other passwords. Try again in ${retryAfterSeconds} seconds.`;
  }
}

export interface HashLimiter {
  /** Runs `work` when a slot is free; throws HashingBusyError at once when the queue is full. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Derivations running and waiting, for tests and diagnostics. */
  load(): { running: number; waiting: number };
}

export function createHashLimiter(
  options: { concurrency?: number; queue?: number } = {},
): HashLimiter {
  const concurrency = options.concurrency ?? 2;
  const queue = options.queue ?? 8;
  let running = 0;
  const waiting: (() => void)[] = [];

  const acquire = (): Promise<void> | undefined => {
    if (running < concurrency) {
      running++;
      return undefined;
    }
    if (waiting.length >= queue) throw new HashingBusyError();
    return new Promise((resolve) => waiting.push(resolve));
  };
  // A freed slot passes straight to the next waiter, so `running` never dips and refills.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    async run(work) {
      const wait = acquire(); // throws before anything is queued or hashed
      if (wait) await wait;
      try {
        return await work();
      } finally {
        release();
      }
    },
    load: () => ({ running, waiting: waiting.length }),
  };
}
