/**
 * Append-only, numbered schema migrations. Never edit or reorder a shipped migration:
 * add a new one with the next number. All pending migrations apply in one transaction.
 */
import type { DatabaseSync } from "node:sqlite";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "settings",
    sql: `
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: "users_sessions_audit_registries",
    sql: `
      CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      ) STRICT;

      -- Only the SHA-256 of a session token is stored; the token lives in the cookie.
      CREATE TABLE sessions (
        token_hash   TEXT PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        client_ip    TEXT NOT NULL DEFAULT ''
      ) STRICT;
      CREATE INDEX sessions_user ON sessions (user_id);

      -- Append-only: hash = SHA-256(prev_hash || canonical row). Retention prunes only from
      -- the oldest end, through audit_prune, and leaves a checkpoint to continue from.
      CREATE TABLE sysctl_audit (
        seq         INTEGER PRIMARY KEY,
        ts          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        client_ip   TEXT NOT NULL DEFAULT '',
        action      TEXT NOT NULL,
        target      TEXT NOT NULL DEFAULT '',
        params      TEXT NOT NULL DEFAULT '{}',
        exit_code   INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        stdout      TEXT NOT NULL DEFAULT '',
        stderr      TEXT NOT NULL DEFAULT '',
        request_id  TEXT NOT NULL DEFAULT '',
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sysctl_audit_ts ON sysctl_audit (ts);
      CREATE INDEX sysctl_audit_action ON sysctl_audit (action);
      CREATE INDEX sysctl_audit_actor ON sysctl_audit (actor);

      CREATE TABLE audit_prune (upto INTEGER NOT NULL) STRICT;
      CREATE TABLE audit_checkpoint (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        pruned_through  INTEGER NOT NULL,
        continues_from  TEXT NOT NULL,
        created_at      TEXT NOT NULL
      ) STRICT;

      CREATE TRIGGER sysctl_audit_no_update BEFORE UPDATE ON sysctl_audit
      BEGIN
        SELECT RAISE(ABORT, 'sysctl_audit is append-only');
      END;
      CREATE TRIGGER sysctl_audit_no_delete BEFORE DELETE ON sysctl_audit
      WHEN OLD.seq > COALESCE((SELECT MAX(upto) FROM audit_prune), 0)
      BEGIN
        SELECT RAISE(ABORT, 'sysctl_audit is append-only');
      END;

      -- password_sealed = 12-byte IV || AES-256-GCM ciphertext, with the row id as AAD.
      CREATE TABLE image_registries (
        id              INTEGER PRIMARY KEY,
        server_address  TEXT NOT NULL UNIQUE,
        username        TEXT NOT NULL,
        password_sealed BLOB NOT NULL,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        last_used_at    TEXT
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: "audit_started_rows",
    // A long operation writes a row with phase 'started' before it begins; its final row
    // names that row in started_seq. Both enter a row's hash only when set, so rows written
    // before this migration keep their hashes.
    sql: `
      ALTER TABLE sysctl_audit ADD COLUMN phase TEXT CHECK (phase IS NULL OR phase = 'started');
      ALTER TABLE sysctl_audit ADD COLUMN started_seq INTEGER;
      CREATE INDEX sysctl_audit_started_seq ON sysctl_audit (started_seq)
        WHERE started_seq IS NOT NULL;
      CREATE INDEX sysctl_audit_phase ON sysctl_audit (phase) WHERE phase IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: "audit_filter_indexes",
    // What keeps every Audit tab filter fast at a million rows (lib/sysctl/audit.ts):
    // - a trigram index over target, so "target contains x" looks up rows instead of
    //   scanning them (external content: the text stays in sysctl_audit only);
    // - rows whose ts is older than a row before them ("out of order": clock steps, imported
    //   timestamps). Every other row's ts grows with seq, so a time range is a seq range of
    //   those rows plus the (few) out-of-order ones;
    // - a partial index of failed final rows.
    // Triggers keep both in step with appends and with retention's deletes.
    sql: `
      CREATE VIRTUAL TABLE sysctl_audit_target USING fts5 (
        target, content = 'sysctl_audit', content_rowid = 'seq', tokenize = 'trigram'
      );
      INSERT INTO sysctl_audit_target (sysctl_audit_target) VALUES ('rebuild');

      CREATE TABLE audit_ts_mark (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        ts TEXT NOT NULL
      ) STRICT;
      INSERT INTO audit_ts_mark (id, ts) VALUES (1, COALESCE((SELECT MAX(ts) FROM sysctl_audit), ''));
      CREATE TABLE audit_ts_disorder (seq INTEGER PRIMARY KEY) STRICT;
      INSERT INTO audit_ts_disorder (seq)
        SELECT seq FROM (
          SELECT seq, ts, MAX(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
            AS mark
          FROM sysctl_audit
        ) WHERE ts < mark;

      CREATE TRIGGER sysctl_audit_index_insert AFTER INSERT ON sysctl_audit
      BEGIN
        INSERT INTO sysctl_audit_target (rowid, target) VALUES (NEW.seq, NEW.target);
        INSERT INTO audit_ts_disorder (seq)
          SELECT NEW.seq WHERE NEW.ts < (SELECT ts FROM audit_ts_mark WHERE id = 1);
        UPDATE audit_ts_mark SET ts = NEW.ts WHERE id = 1 AND NEW.ts > ts;
      END;
      CREATE TRIGGER sysctl_audit_index_delete AFTER DELETE ON sysctl_audit
      BEGIN
        INSERT INTO sysctl_audit_target (sysctl_audit_target, rowid, target)
          VALUES ('delete', OLD.seq, OLD.target);
        DELETE FROM audit_ts_disorder WHERE seq = OLD.seq;
      END;

      CREATE INDEX sysctl_audit_failed ON sysctl_audit (exit_code)
        WHERE exit_code != 0 AND phase IS NULL;
    `,
  },
  {
    version: 5,
    name: "image_update_checks",
    // The last registry update check per container (lib/updates/store.ts). versions is JSON.
    sql: `
      CREATE TABLE image_update_checks (
        container_id   TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        image          TEXT NOT NULL,
        image_id       TEXT NOT NULL DEFAULT '',
        stack          TEXT,
        service        TEXT,
        local_digest   TEXT,
        remote_digest  TEXT,
        state          TEXT NOT NULL
          CHECK (state IN ('up_to_date', 'update_available', 'unknown', 'error')),
        checked_at     TEXT NOT NULL,
        update_seen_at TEXT,
        pinned         INTEGER NOT NULL DEFAULT 0,
        error          TEXT,
        error_kind     TEXT,
        versions       TEXT
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: "environments",
    // Other Docker Engines the panel manages (lib/environments/store.ts); `local` is the
    // panel's own socket and has no row. key_sealed = 12-byte IV || AES-256-GCM ciphertext of
    // the client key PEM, with "environment:<id>" as AAD. An audit row names the environment
    // it acted on; the column enters a row's hash only when set, so older rows keep theirs.
    sql: `
      CREATE TABLE environments (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        url         TEXT NOT NULL,
        tls_ca      TEXT,
        tls_cert    TEXT,
        key_sealed  BLOB,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;
      ALTER TABLE sysctl_audit ADD COLUMN environment TEXT;
      CREATE INDEX sysctl_audit_environment ON sysctl_audit (environment);
    `,
  },
  {
    version: 7,
    name: "webhooks",
    // Receivers of update notifications (lib/webhooks/store.ts). secret_sealed = IV ||
    // AES-256-GCM ciphertext of the signing secret, with "webhooks:<id>" as AAD.
    sql: `
      CREATE TABLE webhooks (
        id            TEXT PRIMARY KEY,
        url           TEXT NOT NULL UNIQUE,
        secret_sealed BLOB,
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL
      ) STRICT;
    `,
  },
];

/** Applies every migration newer than the recorded version. Returns the versions applied. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[]): number[] {
  assertOrdered(migrations);
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT
  `);
  const current = schemaVersion(db);
  const known = migrations.at(-1)?.version ?? 0;
  if (current > known) {
    throw new Error(
      `Database schema is at version ${current}, newer than this build knows (${known}). ` +
        `Run a newer Container Manager.`,
    );
  }
  const pending = migrations.filter((migration) => migration.version > current);
  if (pending.length === 0) return [];
  db.exec("BEGIN IMMEDIATE");
  try {
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of pending) {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return pending.map((migration) => migration.version);
}

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

function assertOrdered(migrations: readonly Migration[]) {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `Migration "${migration.name}" is numbered ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}
