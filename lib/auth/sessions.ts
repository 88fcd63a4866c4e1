/**
 * Sessions: a random 256-bit token in the cookie, only its SHA-256 in the database.
 * Idle and absolute timeouts are enforced on every lookup.
 */
import { createHash } from "node:crypto";
import type { Db } from "../db/db.ts";
import type { Role } from "./users.ts";

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

export interface Session {
  tokenHash: string;
  userId: number;
  username: string;
  role: Role;
  createdAt: number;
  lastSeenAt: number;
}

/** last_seen_at is written at most this often, not on every request. */
const TOUCH_INTERVAL_MS = 30_000;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function createSession(db: Db, userId: number, clientIp: string, now = Date.now()) {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
  const tokenHash = hashToken(token);
  db.prepare(
    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, client_ip) VALUES (?, ?, ?, ?, ?)",
  ).run(tokenHash, userId, now, now, clientIp);
  return { token, tokenHash };
}

/** The live session for a cookie token, or undefined. Expired sessions are deleted. */
export function findSession(
  db: Db,
  token: string,
  timeouts: SessionTimeouts,
  now = Date.now(),
): Session | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const tokenHash = hashToken(token);
  const row = db.prepare(
    `SELECT s.token_hash AS tokenHash, s.user_id AS userId, u.username, u.role,
            s.created_at AS createdAt, s.last_seen_at AS lastSeenAt
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ?`,
  ).get(tokenHash) as Session | undefined;
  if (!row) return undefined;
  if (now - row.lastSeenAt > timeouts.idleMs || now - row.createdAt > timeouts.absoluteMs) {
    deleteSession(db, tokenHash);
    return undefined;
  }
  if (now - row.lastSeenAt > TOUCH_INTERVAL_MS) {
    db.prepare("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?").run(now, tokenHash);
    row.lastSeenAt = now;
  }
  return { ...row };
}

/** Whether this session still exists and has timed out neither way; touches nothing. */
export function sessionIsLive(
  db: Db,
  tokenHash: string,
  timeouts: SessionTimeouts,
  now = Date.now(),
): boolean {
  const row = db.prepare(
    "SELECT created_at AS createdAt, last_seen_at AS lastSeenAt FROM sessions WHERE token_hash = ?",
  ).get(tokenHash) as { createdAt: number; lastSeenAt: number } | undefined;
  return row !== undefined && now - row.lastSeenAt <= timeouts.idleMs &&
    now - row.createdAt <= timeouts.absoluteMs;
}

/**
 * Marks a live session as used now, for activity that is not a request (typing in an exec
 * terminal). A session that has already timed out stays ended.
 */
export function touchSession(
  db: Db,
  tokenHash: string,
  timeouts: SessionTimeouts,
  now = Date.now(),
) {
  db.prepare(
    `UPDATE sessions SET last_seen_at = ?
      WHERE token_hash = ? AND last_seen_at >= ? AND created_at >= ?`,
  ).run(now, tokenHash, now - timeouts.idleMs, now - timeouts.absoluteMs);
}

export function deleteSession(db: Db, tokenHash: string) {
  db.prepare("DELETE FROM sessions WHERE token_hash = ?").run(tokenHash);
}

export function deleteUserSessions(db: Db, userId: number, exceptTokenHash = "") {
  db.prepare("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?").run(
    userId,
    exceptTokenHash,
  );
}

/** Removes every expired session; run now and then so the table does not grow. */
export function purgeExpiredSessions(db: Db, timeouts: SessionTimeouts, now = Date.now()) {
  db.prepare("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?").run(
    now - timeouts.idleMs,
    now - timeouts.absoluteMs,
  );
}
