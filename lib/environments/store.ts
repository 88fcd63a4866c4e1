/**
 * The environments table (migration 6). The client key is sealed with the panel's secret
 * key (lib/secrets.ts), bound to its row id, and is opened only to connect: no read here
 * returns it.
 */
import type { Db } from "../db/db.ts";
import { HttpError } from "../errors.ts";
import { openSecret, seal } from "../secrets.ts";
import { type EngineHost } from "../docker/client.ts";
import { engineHostOf, parseAddress, type TlsMaterial } from "./address.ts";

export interface StoredEnvironment {
  id: string;
  name: string;
  url: string;
  /** The CA and client certificates; the key stays sealed. */
  tls: { ca: string; cert: string } | undefined;
  created_at: string;
  updated_at: string;
}

interface Row {
  id: string;
  name: string;
  url: string;
  tls_ca: string | null;
  tls_cert: string | null;
  key_sealed: Uint8Array | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS = "id, name, url, tls_ca, tls_cert, created_at, updated_at";

function fromRow(row: Omit<Row, "key_sealed">): StoredEnvironment {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    tls: row.tls_ca && row.tls_cert ? { ca: row.tls_ca, cert: row.tls_cert } : undefined,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const aad = (id: string) => `environment:${id}`;

export function listEnvironments(db: Db): StoredEnvironment[] {
  const rows = db.prepare(`SELECT ${COLUMNS} FROM environments ORDER BY name COLLATE NOCASE`)
    .all() as unknown as Row[];
  return rows.map(fromRow);
}

export function getEnvironment(db: Db, id: string): StoredEnvironment | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM environments WHERE id = ?`).get(id) as
    | Row
    | undefined;
  return row ? fromRow(row) : undefined;
}

export function nameTaken(db: Db, name: string, exceptId?: string): boolean {
  return !!db.prepare("SELECT 1 FROM environments WHERE name = ? AND id IS NOT ?").get(
    name,
    exceptId ?? null,
  );
}

/** The stored TLS material with the key opened, for connecting. */
export async function tlsMaterialOf(
  db: Db,
  secretKey: CryptoKey,
  id: string,
): Promise<TlsMaterial | undefined> {
  const row = db.prepare("SELECT tls_ca, tls_cert, key_sealed FROM environments WHERE id = ?")
    .get(id) as Pick<Row, "tls_ca" | "tls_cert" | "key_sealed"> | undefined;
  if (!row?.tls_ca || !row.tls_cert || !row.key_sealed) return undefined;
  return {
    ca: row.tls_ca,
    cert: row.tls_cert,
    key: await openSecret(secretKey, row.key_sealed, aad(id)),
  };
}

/** Where to connect for a stored environment (the key opened in memory only). */
export async function hostOf(
  db: Db,
  secretKey: CryptoKey,
  environment: StoredEnvironment,
): Promise<EngineHost> {
  const tls = await tlsMaterialOf(db, secretKey, environment.id);
  return engineHostOf(parseAddress(environment.url), tls).host;
}

export interface EnvironmentWrite {
  id: string;
  name: string;
  url: string;
  tls: TlsMaterial | undefined;
}

function conflict(error: unknown, name: string): never {
  if (/UNIQUE/i.test((error as Error).message)) {
    throw new HttpError(409, `An environment named "${name}" already exists`, "name");
  }
  throw error;
}

export async function insertEnvironment(
  db: Db,
  secretKey: CryptoKey,
  input: EnvironmentWrite,
): Promise<StoredEnvironment> {
  const sealed = input.tls ? await seal(secretKey, input.tls.key, aad(input.id)) : null;
  const now = new Date().toISOString();
  try {
    db.prepare(
      `INSERT INTO environments (id, name, url, tls_ca, tls_cert, key_sealed, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      input.id,
      input.name,
      input.url,
      input.tls?.ca ?? null,
      input.tls?.cert ?? null,
      sealed,
      now,
      now,
    );
  } catch (error) {
    conflict(error, input.name);
  }
  return getEnvironment(db, input.id)!;
}

export async function updateEnvironment(
  db: Db,
  secretKey: CryptoKey,
  input: EnvironmentWrite,
): Promise<StoredEnvironment> {
  const sealed = input.tls ? await seal(secretKey, input.tls.key, aad(input.id)) : null;
  let changes = 0;
  try {
    changes = Number(
      db.prepare(
        `UPDATE environments SET name = ?, url = ?, tls_ca = ?, tls_cert = ?, key_sealed = ?,
           updated_at = ? WHERE id = ?`,
      ).run(
        input.name,
        input.url,
        input.tls?.ca ?? null,
        input.tls?.cert ?? null,
        sealed,
        new Date().toISOString(),
        input.id,
      ).changes,
    );
  } catch (error) {
    conflict(error, input.name);
  }
  if (changes === 0) throw new HttpError(404, `No environment ${input.id}`);
  return getEnvironment(db, input.id)!;
}

export function deleteEnvironment(db: Db, id: string): boolean {
  return Number(db.prepare("DELETE FROM environments WHERE id = ?").run(id).changes) > 0;
}
