/**
 * Secrets at rest: AES-256-GCM (WebCrypto) with a key kept in its own file, outside the
 * database. Sealed format: 12-byte random IV || ciphertext || 16-byte tag. Every seal binds
 * an "associated data" string (for example `image_registries:<rowId>`), so a ciphertext
 * copied to another row no longer opens.
 *
 * The opening function is `openSecret` rather than `open`: `open` would shadow the DOM's
 * global `window.open` declaration and read like `Deno.open`.
 */
import { dirname } from "node:path";
import type { Db } from "./db/db.ts";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key file cannot be used; the panel refuses to start. Never carries key bytes. */
export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

/** A sealed secret did not open. One message for every cause, so nothing leaks. */
export class SecretOpenError extends Error {
  override name = "SecretOpenError";
  constructor() {
    super("Cannot decrypt a stored secret");
  }
}

/**
 * Loads the AES-256-GCM key from `keyFile`, or creates it (mode 0600) when it does not exist
 * yet. A missing key is never regenerated while encrypted rows exist: they would all be lost.
 */
export async function loadOrCreateKey(
  keyFile: string,
  options: { encryptedRowsExist: boolean },
): Promise<CryptoKey> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(keyFile);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new SecretKeyError(`Cannot read key file ${keyFile}: ${messageOf(error)}`);
    }
    if (options.encryptedRowsExist) {
      throw new SecretKeyError(
        `Key file ${keyFile} does not exist, but the database holds encrypted registry ` +
          `credentials that need it. Restore the key file from a backup (or point CM_KEY_FILE ` +
          `at it); a new key would make every stored credential unreadable.`,
      );
    }
    return await createKey(keyFile);
  }
  return await loadKey(keyFile, info);
}

async function loadKey(keyFile: string, info: Deno.FileInfo): Promise<CryptoKey> {
  if (!info.isFile) {
    throw new SecretKeyError(`Key file ${keyFile} is not a regular file.`);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new SecretKeyError(
      `Key file ${keyFile} is readable or writable by group or others (mode ${mode}). ` +
        `Run "chmod 600 ${keyFile}" and start again.`,
    );
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(keyFile);
  } catch (error) {
    throw new SecretKeyError(`Cannot read key file ${keyFile}: ${messageOf(error)}`);
  }
  try {
    if (bytes.length !== KEY_BYTES) {
      throw new SecretKeyError(
        `Key file ${keyFile} is ${bytes.length} bytes long; it must be exactly ${KEY_BYTES}. ` +
          `Restore the original key file from a backup.`,
      );
    }
    return await importKey(bytes);
  } finally {
    bytes.fill(0);
  }
}

async function createKey(keyFile: string): Promise<CryptoKey> {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  try {
    await Deno.mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
    try {
      await Deno.writeFile(keyFile, bytes, { mode: 0o600, createNew: true });
    } catch (error) {
      // Another process created it first: use theirs, never overwrite a key.
      if (error instanceof Deno.errors.AlreadyExists) {
        return await loadKey(keyFile, await Deno.stat(keyFile));
      }
      await Deno.remove(keyFile).catch(() => {});
      throw error;
    }
    // The mode given to writeFile is filtered by the umask; set it explicitly as well.
    await Deno.chmod(keyFile, 0o600);
    return await importKey(bytes);
  } catch (error) {
    if (error instanceof SecretKeyError) throw error;
    throw new SecretKeyError(`Cannot create key file ${keyFile}: ${messageOf(error)}`);
  } finally {
    bytes.fill(0);
  }
}

function importKey(bytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Encrypts `plaintext`, bound to `associatedData`. Returns IV || ciphertext+tag. */
export async function seal(
  key: CryptoKey,
  plaintext: string,
  associatedData: string,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(associatedData) },
    key,
    encoder.encode(plaintext),
  );
  const sealed = new Uint8Array(IV_BYTES + ciphertext.byteLength);
  sealed.set(iv);
  sealed.set(new Uint8Array(ciphertext), IV_BYTES);
  return sealed;
}

/**
 * Decrypts what `seal` produced with the same key and associated data. Any failure (wrong
 * key, altered bytes, other associated data, truncation) throws the same SecretOpenError.
 */
export async function openSecret(
  key: CryptoKey,
  sealed: Uint8Array,
  associatedData: string,
): Promise<string> {
  if (!(sealed instanceof Uint8Array) || sealed.length < IV_BYTES + TAG_BYTES) {
    throw new SecretOpenError();
  }
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: sealed.slice(0, IV_BYTES),
        additionalData: encoder.encode(associatedData),
      },
      key,
      sealed.slice(IV_BYTES),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch {
    throw new SecretOpenError();
  }
}

/** Rows holding sealed secrets, so startup knows whether a missing key file loses data. */
export function countSealedRows(db: Db): number {
  const row = db.prepare(
    `SELECT (SELECT COUNT(*) FROM image_registries) +
       (SELECT COUNT(*) FROM environments WHERE key_sealed IS NOT NULL) +
       (SELECT COUNT(*) FROM webhooks WHERE secret_sealed IS NOT NULL) AS count`,
  ).get() as { count: number };
  return Number(row.count);
}

const encoder = new TextEncoder();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
