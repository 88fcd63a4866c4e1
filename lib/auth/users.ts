/** The users table: plain functions taking `db`. Password hashes never leave this module's rows. */
import type { Db } from "../db/db.ts";
import { HttpError, ValidationError } from "../errors.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";

export type Role = "admin" | "viewer";
export const ROLES: readonly Role[] = ["admin", "viewer"];

export interface User {
  id: number;
  username: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

interface UserRow extends User {
  password_hash: string;
}

const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const PUBLIC_COLUMNS = "id, username, role, created_at, updated_at";

export function validateUsername(username: unknown): string {
  if (typeof username !== "string" || !USERNAME_RE.test(username)) {
    throw new ValidationError(
      "Username must be 1 to 64 letters, digits, or . _ @ - and start with a letter or digit",
      "username",
    );
  }
  return username;
}

export function validateRole(role: unknown): Role {
  if (!ROLES.includes(role as Role)) {
    throw new ValidationError(`Role must be "admin" or "viewer"`, "role");
  }
  return role as Role;
}

export function validateNewPassword(password: unknown, field = "password"): string {
  const problem = passwordProblem(password);
  if (problem) throw new ValidationError(problem, field);
  return password as string;
}

/** A user id from a URL: canonical decimal only (no `0x7`, `7.0`, `+7`, ` 7` or `07`). */
export function parseUserId(text: string): number {
  const id = /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new ValidationError(`Invalid user id "${text.slice(0, 32)}": use a decimal number`, "id");
  }
  return id;
}

export function countUsers(db: Db): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM users").get() as { n: number }).n;
}

export function listUsers(db: Db): User[] {
  return db.prepare(`SELECT ${PUBLIC_COLUMNS} FROM users ORDER BY username`)
    .all() as unknown as User[];
}

export function getUser(db: Db, id: number): User | undefined {
  return db.prepare(`SELECT ${PUBLIC_COLUMNS} FROM users WHERE id = ?`).get(id) as User | undefined;
}

/** The row with its hash, for login only. */
export function findUserForLogin(db: Db, username: string): UserRow | undefined {
  return db.prepare(`SELECT ${PUBLIC_COLUMNS}, password_hash FROM users WHERE username = ?`).get(
    username,
  ) as
    | UserRow
    | undefined;
}

export function getPasswordHash(db: Db, id: number): string | undefined {
  const row = db.prepare("SELECT password_hash FROM users WHERE id = ?").get(id) as {
    password_hash: string;
  } | undefined;
  return row?.password_hash;
}

export async function createUser(
  db: Db,
  input: { username: unknown; password: unknown; role: unknown },
): Promise<User> {
  const username = validateUsername(input.username);
  const role = validateRole(input.role);
  const password = validateNewPassword(input.password);
  if (findUserForLogin(db, username)) {
    throw new HttpError(409, `User "${username}" already exists`, "username");
  }
  const hash = await hashPassword(password);
  const now = new Date().toISOString();
  try {
    const result = db.prepare(
      "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    ).run(username, hash, role, now, now);
    return getUser(db, Number(result.lastInsertRowid))!;
  } catch (error) {
    if (/UNIQUE/.test(String(error))) {
      throw new HttpError(409, `User "${username}" already exists`, "username");
    }
    throw error;
  }
}

function countAdmins(db: Db): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'").get() as { n: number })
    .n;
}

/** Throws 409 when giving `user` this role would leave the panel without an admin. */
export function checkRoleChange(db: Db, user: User, role: Role) {
  if (user.role === "admin" && role !== "admin" && countAdmins(db) === 1) {
    throw new HttpError(409, "Cannot change the role of the last admin");
  }
}

export interface UserChange {
  role?: Role;
  /** Already hashed: hashing is slow and asynchronous, the transaction is neither. */
  passwordHash?: string;
  /** Ends the user's sessions except the one with this token hash ("" ends them all). */
  endSessionsExcept?: string;
}

/**
 * Applies a role and/or password change and ends sessions in one transaction: either all
 * of it happens or none. The last-admin rule is checked again inside it.
 */
export function changeUser(db: Db, id: number, change: UserChange): User {
  db.exec("BEGIN IMMEDIATE");
  try {
    const user = requireUser(db, id);
    const now = new Date().toISOString();
    if (change.role !== undefined) {
      checkRoleChange(db, user, change.role);
      db.prepare("UPDATE users SET role = ?, updated_at = ? WHERE id = ?").run(
        change.role,
        now,
        id,
      );
    }
    if (change.passwordHash !== undefined) {
      db.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?").run(
        change.passwordHash,
        now,
        id,
      );
    }
    if (change.endSessionsExcept !== undefined) {
      db.prepare("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?").run(
        id,
        change.endSessionsExcept,
      );
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return getUser(db, id)!;
}

/** Deletes a user (their sessions go with them). Refuses to delete the last admin. */
export function deleteUser(db: Db, id: number): User {
  const user = requireUser(db, id);
  if (user.role === "admin" && countAdmins(db) === 1) {
    throw new HttpError(409, "Cannot delete the last admin");
  }
  db.prepare("DELETE FROM users WHERE id = ?").run(id);
  return user;
}

function requireUser(db: Db, id: number): User {
  const user = getUser(db, id);
  if (!user) throw new HttpError(404, `No user with id ${id}`);
  return user;
}
