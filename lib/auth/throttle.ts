/**
 * Login throttling. An attempt is reserved before the password is checked, so parallel
 * requests cannot all pass a check made before any of them failed. Each reservation counts
 * within a sliding window against:
 * - the (account, address) pair: guessing one account from one place;
 * - the address (an IPv6 /64 counts as one): spraying many accounts from one place;
 * - everyone (a global cap): guessing from many places at once.
 * There is no lockout by account alone, so nobody can lock the administrator out from
 * elsewhere. A pair that signed in successfully lately is trusted: it passes the address
 * and global caps (never its own), so failures from other places never block it.
 * A success or a check that never ran refunds its reservation.
 *
 * Kept in memory with a bounded number of keys (least recently used go first): a restart
 * or an eviction forgets, which only ever loosens throttling.
 */
export const LOGIN_LIMITS = {
  perPair: 10,
  perAddress: 30,
  global: 300,
  windowMs: 15 * 60_000,
  /** Per table (pairs, addresses, trusted pairs). */
  maxKeys: 10_000,
  trustMs: 7 * 24 * 60 * 60_000,
} as const;

export type LoginLimits = { [K in keyof typeof LOGIN_LIMITS]: number };

export type Reservation =
  | {
    allowed: true;
    /** The password was right: refunds this attempt, clears the pair and trusts it. */
    succeeded(): void;
    /** Nothing was verified (the hashing queue was full): refunds this attempt. */
    cancel(): void;
  }
  | { allowed: false; retryAfter: number };

export interface LoginThrottle {
  /** Reserves an attempt; a failed check needs nothing more (the reservation stays). */
  reserve(account: string, address: string, now?: number): Reservation;
}

export function createLoginThrottle(limits: Partial<LoginLimits> = {}): LoginThrottle {
  const { perPair, perAddress, global, windowMs, maxKeys, trustMs } = {
    ...LOGIN_LIMITS,
    ...limits,
  };
  const pairs = createWindows(perPair, windowMs, maxKeys);
  const addresses = createWindows(perAddress, windowMs, maxKeys);
  const everyone = createWindows(global, windowMs, 1);
  const trusted = new Map<string, number>();

  return {
    reserve(account, address, now = Date.now()) {
      const addr = addressKey(address);
      const pair = JSON.stringify([account.toLowerCase(), addr]);
      const isTrusted = (trusted.get(pair) ?? 0) > now;
      const waitMs = Math.max(
        pairs.wait(pair, now),
        isTrusted ? 0 : addresses.wait(addr, now),
        isTrusted ? 0 : everyone.wait("*", now),
      );
      if (waitMs > 0) return { allowed: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };
      pairs.add(pair, now);
      addresses.add(addr, now);
      everyone.add("*", now);
      let settled = false;
      const refund = () => {
        if (settled) return;
        settled = true;
        pairs.remove(pair, now);
        addresses.remove(addr, now);
        everyone.remove("*", now);
      };
      return {
        allowed: true,
        cancel: refund,
        succeeded() {
          refund();
          pairs.clear(pair);
          trusted.delete(pair);
          trusted.set(pair, now + trustMs);
          if (trusted.size > maxKeys) trusted.delete(trusted.keys().next().value!);
        },
      };
    },
  };
}

/** Sliding-window counters for many keys, at most `maxKeys` of them. */
function createWindows(limit: number, windowMs: number, maxKeys: number) {
  const times = new Map<string, number[]>();
  const recent = (key: string, now: number): number[] => {
    const list = (times.get(key) ?? []).filter((time) => now - time < windowMs);
    if (list.length === 0) times.delete(key);
    return list;
  };
  return {
    /** Milliseconds until `key` may have another attempt; 0 when it may now. */
    wait(key: string, now: number): number {
      const list = recent(key, now);
      return list.length >= limit ? list[list.length - limit] + windowMs - now : 0;
    },
    add(key: string, now: number) {
      const list = recent(key, now);
      list.push(now);
      // Re-inserted, so the Map's first key is the least recently used one.
      times.delete(key);
      times.set(key, list);
      if (times.size > maxKeys) times.delete(times.keys().next().value!);
    },
    remove(key: string, time: number) {
      const list = times.get(key);
      const index = list?.lastIndexOf(time) ?? -1;
      if (index < 0) return;
      list!.splice(index, 1);
      if (list!.length === 0) times.delete(key);
    },
    clear(key: string) {
      times.delete(key);
    },
  };
}

/**
 * The address an attempt counts against: IPv4 as it is (also when IPv4-mapped), IPv6 as
 * its /64, which one subscriber usually holds whole.
 */
export function addressKey(address: string): string {
  const mapped = address.match(/^(?:::ffff:)(\d{1,3}(?:\.\d{1,3}){3})$/i);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : address;
}

/** The eight groups of an IPv6 address, normalised, or undefined when it is not one. */
function ipv6Groups(address: string): string[] | undefined {
  const bare = address.replace(/^\[|\]$/g, "").split("%")[0];
  const halves = bare.split("::");
  if (halves.length > 2) return undefined;
  const split = (part: string) => {
    if (!part) return [];
    const groups = part.split(":");
    // A dotted IPv4 tail is the last 32 bits: two groups (their values do not matter here).
    if (groups.at(-1)!.includes(".")) groups.splice(-1, 1, "0", "0");
    return groups;
  };
  const head = split(halves[0]);
  const tail = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return groups.map((group) => parseInt(group, 16).toString(16));
}
