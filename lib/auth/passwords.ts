/**
 * Password hashing with scrypt (N=2^17, r=8, p=1) through node:crypto's async API, so the
 * event loop never blocks. The stored form carries its parameters:
 * `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`.
 *
 * Every derivation in the process (login, setup, user create, password change, the dummy
 * hash) goes through one HashLimiter: a full queue throws HashingBusyError before hashing.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { createHashLimiter } from "./hash_limiter.ts";

const LOG_N = 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

/** Two derivations (256 MiB) at most, eight more waiting; the rest are refused. */
export const passwordHashing = createHashLimiter({ concurrency: 2, queue: 8 });

function derive(
  password: string,
  salt: Uint8Array,
  logN: number,
  r: number,
  p: number,
): Promise<Uint8Array> {
  const N = 2 ** logN;
  return passwordHashing.run(() =>
    new Promise((resolve, reject) => {
      // scrypt needs 128 * N * r bytes; allow twice that.
      scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r }, (error, key) => {
        if (error) reject(error);
        else resolve(new Uint8Array(key));
      });
    })
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = new Uint8Array(randomBytes(SALT_LENGTH));
  const key = await derive(password, salt, LOG_N, R, P);
  return ["scrypt", LOG_N, R, P, toBase64(salt), toBase64(key)].join("$");
}

/** Constant-time comparison; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number);
  if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 20) return false;
  const salt = fromBase64(parts[4]);
  const expected = fromBase64(parts[5]);
  const actual = await derive(password, salt, logN, r, p);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A real hash of a random password, computed once. Checking a login for an unknown user
 * against it costs the same time as a wrong password for a known one. A failed attempt is
 * forgotten, so the next call tries again.
 */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID()).catch((error) => {
    dummy = undefined;
    throw error;
  });
  return dummy;
}

/**
 * Starts computing the dummy hash now, in the background (scrypt runs off the event loop),
 * so the first unknown-user login does not pay for it and stand out by taking longer.
 */
export function prepareDummyHash(): void {
  dummyHash().catch(() => {}); // a failure is retried by the first login that needs it
}

/** Returns a message saying what is wrong with a new password, or undefined if it is fine. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "Password is required";
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Password must be at least ${MIN_PASSWORD_LENGTH} characters long`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `Password must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  }
  return undefined;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}
