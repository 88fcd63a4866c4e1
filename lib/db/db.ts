/** Opens the panel's SQLite database with the pragmas every connection needs. */
import { DatabaseSync } from "node:sqlite";
import { migrate, type Migration, MIGRATIONS } from "./migrations.ts";

export type Db = DatabaseSync;

/** The database file is unreadable or damaged. The panel refuses to start; it never recreates it. */
export class DatabaseCorruptError extends Error {
  override name = "DatabaseCorruptError";
}

export interface OpenOptions {
  /** Defaults to the panel's own migrations; tests pass their own lists. */
  migrations?: readonly Migration[];
  /** How long a write waits for another connection's lock before SQLITE_BUSY (5 s). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if absent) the database at `path`, checks its integrity, and applies
 * pending migrations in one transaction.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new DatabaseCorruptError(`Cannot open database ${path}: ${messageOf(error)}`);
  }
  try {
    // busy_timeout first: the journal_mode switch itself can meet a lock.
    const busyTimeout = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    db.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    checkIntegrity(db, path);
    migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof DatabaseCorruptError) throw error;
    if (/not a database|malformed|corrupt/i.test(messageOf(error))) {
      throw new DatabaseCorruptError(
        `Database ${path} is corrupt (${
          messageOf(error)
        }). Refusing to start; restore it from a backup ` +
          `or move it aside to start empty.`,
      );
    }
    throw error;
  }
}

function checkIntegrity(db: DatabaseSync, path: string) {
  const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
  const problems = rows.map((row) => row.integrity_check).filter((text) => text !== "ok");
  if (problems.length > 0) {
    throw new DatabaseCorruptError(
      `Database ${path} failed its integrity check: ${problems.slice(0, 3).join("; ")}. ` +
        `Refusing to start; restore it from a backup or move it aside to start empty.`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
