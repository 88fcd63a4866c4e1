/**
 * Login throttling: at most `max` failures per key (account, client IP) within a sliding
 * window. Kept in memory: a restart forgets, which only ever loosens a lockout.
 */
export interface LoginThrottle {
  /** Seconds until a login may be tried for these keys again; 0 when allowed. */
  retryAfter(keys: string[], now?: number): number;
  fail(keys: string[], now?: number): void;
  reset(key: string): void;
}

export function createLoginThrottle(
  options: { max?: number; windowMs?: number } = {},
): LoginThrottle {
  const max = options.max ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number) => {
    const times = (failures.get(key) ?? []).filter((time) => now - time < windowMs);
    if (times.length) failures.set(key, times);
    else failures.delete(key);
    return times;
  };

  return {
    retryAfter(keys, now = Date.now()) {
      let wait = 0;
      for (const key of keys) {
        const times = recent(key, now);
        if (times.length >= max) {
          const freedAt = times[times.length - max] + windowMs;
          wait = Math.max(wait, Math.ceil((freedAt - now) / 1000));
        }
      }
      return wait;
    },
    fail(keys, now = Date.now()) {
      for (const key of keys) {
        const times = recent(key, now);
        times.push(now);
        failures.set(key, times);
      }
    },
    reset(key) {
      failures.delete(key);
    },
  };
}
