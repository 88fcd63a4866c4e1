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

/** Changes a role. Refuses to leave the panel without an admin. */
export function setRole(db: Db, id: number, role: Role): User {
  const user = requireUser(db, id);
  if (user.role === "admin" && role !== "admin" && countAdmins(db) === 1) {
    throw new HttpError(409, "Cannot change the role of the last admin");
  }
  db.prepare("UPDATE users SET role = ?, updated_at = ? WHERE id = ?").run(
    role,
    new Date().toISOString(),
    id,
  );
  return getUser(db, id)!;
}

export async function setPassword(db: Db, id: number, password: string): Promise<User> {
  requireUser(db, id);
  const hash = await hashPassword(validateNewPassword(password));
  db.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?").run(
    hash,
    new Date().toISOString(),
    id,
  );
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
