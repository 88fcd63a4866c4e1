/**
 * `container-manager backup` and `restore`. A backup is a gzipped tar of a manifest, a
 * consistent copy of the database (SQLite's online backup API, so the panel keeps running
 * and writing), the stacks folder (wherever --stacks-dir puts it) and, only when asked, the
 * key file. A restore writes it into an empty data folder with modes 0700/0600 and accepts
 * nothing but those entries: no links, no paths outside the folders it fills.
 */
import { backup as sqliteBackup, DatabaseSync } from "node:sqlite";
import { basename, dirname } from "node:path";
import { readTar } from "./tar/read.ts";
import { type TarEntry, tarStream } from "./tar/write.ts";
import { VERSION } from "./config.ts";

export const BACKUP_FORMAT = "container-manager-backup";
const MANIFEST = "manifest.json";
const DATABASE = "container-manager.db";
const KEY = "secret.key";
const STACKS = "stacks";
const MAX_MANIFEST_BYTES = 64 * 1024;

/** Where the panel's files are (the Config fields backup and restore use). */
export interface PanelPaths {
  dataDir: string;
  stacksDir: string;
  keyFile: string;
}

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  version: 1;
  panel_version: string;
  created_at: string;
  key: boolean;
}

/** A backup or restore that cannot be done; the message says what and why. */
export class BackupError extends Error {
  override name = "BackupError";
}

export interface BackupResult {
  file: string;
  bytes: number;
  stacks: number;
  files: number;
  key: boolean;
}

export interface RestoreResult {
  manifest: Manifest;
  stacks: number;
  files: number;
  key: boolean;
  database: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Copies the live database to `snapshot` with SQLite's backup API. The source is opened
 * read-only; in WAL mode the copy is the state of one read transaction, however much the
 * panel writes meanwhile. The copy is made a single file and checked before it is used.
 */
async function snapshotDatabase(source: string, snapshot: string): Promise<void> {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(source, { readOnly: true });
  } catch (error) {
    throw new BackupError(`Cannot open the database ${source}: ${messageOf(error)}`);
  }
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    // All pages in one step: a step-wise copy starts over whenever the panel writes.
    await sqliteBackup(db, snapshot, { rate: -1 });
  } catch (error) {
    throw new BackupError(`Cannot copy the database ${source}: ${messageOf(error)}`);
  } finally {
    db.close();
    await keepOwner(source);
  }
  const copy = new DatabaseSync(snapshot);
  try {
    copy.exec("PRAGMA journal_mode = DELETE");
    checkIntegrity(copy, "The database copy");
  } finally {
    copy.close();
  }
}

/**
 * Reading a WAL database creates its -wal and -shm files when the panel is not running; made
 * by root they would keep the service's user from opening its own database, so they get the
 * database file's owner.
 */
async function keepOwner(database: string): Promise<void> {
  const owner = await Deno.stat(database).catch(() => null);
  if (owner?.uid == null || owner.gid == null) return;
  for (const suffix of ["-wal", "-shm"]) {
    const info = await Deno.lstat(`${database}${suffix}`).catch(() => null);
    if (info?.isFile && (info.uid !== owner.uid || info.gid !== owner.gid)) {
      await Deno.chown(`${database}${suffix}`, owner.uid, owner.gid).catch(() => {});
    }
  }
}

function checkIntegrity(db: DatabaseSync, what: string) {
  const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
  const problems = rows.map((row) => row.integrity_check).filter((text) => text !== "ok");
  if (problems.length > 0) {
    throw new BackupError(`${what} failed its integrity check: ${problems.slice(0, 3).join("; ")}`);
  }
}

// The DOM typings give CompressionStream a BufferSource writable side; tar chunks are bytes.
const gzip = () =>
  new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;

interface PendingFile {
  entry: TarEntry;
  /** Small files are read before their header is written, so the size always matches. */
  data?: Uint8Array;
  /** Large files that do not change while the archive is written (the snapshot). */
  path?: string;
}

/** The stacks folder as tar entries under `stacks/`; links and special files are skipped. */
async function* stackEntries(
  dir: string,
  prefix: string,
  skipped: string[],
): AsyncGenerator<PendingFile> {
  const names: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry);
  names.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of names) {
    const path = `${dir}/${entry.name}`;
    const archived = `${prefix}/${entry.name}`;
    if (entry.isDirectory) {
      yield { entry: { path: archived, type: "dir", mode: 0o700 } };
      yield* stackEntries(path, archived, skipped);
    } else if (entry.isFile) {
      let data: Uint8Array;
      try {
        data = await Deno.readFile(path);
      } catch (error) {
        // Removed by the panel since the folder was listed: it is simply not in the backup.
        if (error instanceof Deno.errors.NotFound) continue;
        throw error;
      }
      yield { entry: { path: archived, type: "file", mode: 0o600, size: data.length }, data };
    } else {
      skipped.push(path);
    }
  }
}

/** Everything a backup holds, in archive order (the manifest first). */
async function* archiveItems(parts: {
  manifest: Uint8Array;
  snapshot: string;
  key?: Uint8Array;
  stacksDir?: string;
  skipped: string[];
}): AsyncGenerator<PendingFile> {
  const { manifest, snapshot, key } = parts;
  yield {
    entry: { path: MANIFEST, type: "file", mode: 0o600, size: manifest.length },
    data: manifest,
  };
  const size = (await Deno.stat(snapshot)).size;
  yield { entry: { path: DATABASE, type: "file", mode: 0o600, size }, path: snapshot };
  if (key) yield { entry: { path: KEY, type: "file", mode: 0o600, size: key.length }, data: key };
  if (parts.stacksDir) {
    yield { entry: { path: STACKS, type: "dir", mode: 0o700 } };
    yield* stackEntries(parts.stacksDir, STACKS, parts.skipped);
  }
}

/**
 * Writes a backup of the panel whose files are at `paths` to `to` (a new file, mode 0600).
 * The database is copied first; the stacks folder and the key file are read as the archive
 * is written. `skipped` receives the paths of links and special files left out.
 */
export async function createBackup(
  paths: PanelPaths,
  to: string,
  options: { includeKey: boolean; skipped?: string[] },
): Promise<BackupResult> {
  const database = `${paths.dataDir}/${DATABASE}`;
  if (!(await statOrNull(database))?.isFile) {
    throw new BackupError(
      `There is no database at ${database}: is ${paths.dataDir} the panel's data folder?`,
    );
  }
  if (await statOrNull(to)) {
    throw new BackupError(`${to} already exists; choose a new file name for the backup`);
  }
  const stacksInfo = await statOrNull(paths.stacksDir);
  if (stacksInfo && !stacksInfo.isDirectory) {
    throw new BackupError(`The stacks folder ${paths.stacksDir} is not a folder`);
  }
  let key: Uint8Array | undefined;
  if (options.includeKey) {
    try {
      key = await Deno.readFile(paths.keyFile);
    } catch (error) {
      throw new BackupError(`Cannot read the key file ${paths.keyFile}: ${messageOf(error)}`);
    }
  }

  // The snapshot and the archive are written beside the target, which is renamed into place
  // only when complete: a failed backup never leaves a truncated file under its name.
  let work: string;
  try {
    work = await Deno.makeTempDir({ dir: dirname(to), prefix: ".cm-backup-" });
  } catch (error) {
    throw new BackupError(`Cannot write in ${dirname(to)}: ${messageOf(error)}`);
  }
  const skipped = options.skipped ?? [];
  let stacks = 0;
  let files = 0;
  try {
    await Deno.chmod(work, 0o700);
    const snapshot = `${work}/${DATABASE}`;
    await snapshotDatabase(database, snapshot);
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      version: 1,
      panel_version: VERSION,
      created_at: new Date().toISOString(),
      key: key !== undefined,
    };
    const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
    const now = Math.floor(Date.now() / 1000);
    // tarStream asks for a file's bytes right after its header, so one slot is enough.
    let current: PendingFile | undefined;
    const items = archiveItems({
      manifest: manifestBytes,
      snapshot,
      key,
      stacksDir: stacksInfo ? paths.stacksDir : undefined,
      skipped,
    });
    const entries = async function* (): AsyncGenerator<TarEntry> {
      for await (const item of items) {
        if (item.entry.type === "file") files++;
        else if (item.entry.path.split("/").length === 2) stacks++;
        item.entry.mtime = now;
        current = item;
        yield item.entry;
      }
    };
    const archive = tarStream(entries(), async (entry) => {
      const item = current!;
      if (item.entry !== entry) throw new Error(`The archive asked for ${entry.path} out of turn`);
      if (item.path) return (await Deno.open(item.path)).readable;
      return new Blob([item.data as Uint8Array<ArrayBuffer>]).stream();
    });
    const partial = `${work}/${basename(to)}`;
    const file = await Deno.open(partial, { write: true, createNew: true, mode: 0o600 });
    await archive.pipeThrough(gzip()).pipeTo(file.writable);
    await Deno.chmod(partial, 0o600);
    await Deno.rename(partial, to);
    return { file: to, bytes: (await Deno.stat(to)).size, stacks, files, key: key !== undefined };
  } finally {
    key?.fill(0);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** `stacks/a/b` → ["a", "b"]; throws for anything that could leave the stacks folder. */
function stackPathSegments(path: string): string[] {
  const segments = path.split("/").slice(1);
  for (const segment of segments) {
    if (
      segment === "" || segment === "." || segment === ".." || segment.includes("\\") ||
      // deno-lint-ignore no-control-regex
      /[\u0000-\u001f]/.test(segment)
    ) {
      throw new BackupError(`The backup holds an unsafe path: ${JSON.stringify(path)}`);
    }
  }
  return segments;
}

async function isEmptyDir(path: string): Promise<boolean | null> {
  const info = await statOrNull(path);
  if (!info) return null;
  if (!info.isDirectory) return false;
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}

function inside(dir: string, path: string): boolean {
  const base = dir.replace(/\/+$/, "");
  return path === base || path.startsWith(`${base}/`);
}

/**
 * Restores the backup `from` into an empty (or absent) data folder, the stacks folder and
 * the key file of `paths`. Refuses to write over anything. On failure, everything it made
 * is removed again.
 */
export async function restoreBackup(from: string, paths: PanelPaths): Promise<RestoreResult> {
  const dataState = await isEmptyDir(paths.dataDir);
  if (dataState === false) {
    throw new BackupError(
      `The data folder ${paths.dataDir} is not empty; restore into an empty or new folder`,
    );
  }
  const stacksInside = inside(paths.dataDir, paths.stacksDir);
  if (!stacksInside && (await isEmptyDir(paths.stacksDir)) === false) {
    throw new BackupError(`The stacks folder ${paths.stacksDir} is not empty`);
  }
  if (await statOrNull(paths.keyFile)) {
    throw new BackupError(`The key file ${paths.keyFile} already exists; it is never overwritten`);
  }
  let input: Deno.FsFile;
  try {
    input = await Deno.open(from);
  } catch (error) {
    throw new BackupError(`Cannot read the backup ${from}: ${messageOf(error)}`);
  }

  // An empty data folder made for the service (`install --no-start`) gives its owner to
  // everything restored, so the service's user can open what root restored.
  const existing = dataState ? await Deno.stat(paths.dataDir) : undefined;
  const owner = existing?.uid != null && existing.gid != null
    ? { uid: existing.uid, gid: existing.gid }
    : undefined;
  const own = async (path: string) => {
    const ours = inside(paths.dataDir, path) || inside(paths.stacksDir, path) ||
      path === paths.keyFile;
    if (owner && ours) await Deno.chown(path, owner.uid, owner.gid);
  };
  /** Everything this restore made, to remove again if it fails (deepest first). */
  const made: string[] = [];
  const mkdir = async (path: string) => {
    if (await statOrNull(path)) return;
    await mkdir(dirname(path));
    await Deno.mkdir(path, { mode: 0o700 });
    made.push(path);
    await Deno.chmod(path, 0o700);
    await own(path);
  };
  const writeFrom = async (path: string, data: ReadableStream<Uint8Array>) => {
    await mkdir(dirname(path));
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new BackupError(`The backup holds ${path} twice`);
      }
      throw error;
    }
    made.push(path);
    await Deno.chmod(path, 0o600);
    await own(path);
    await data.pipeTo(file.writable);
  };

  let manifest: Manifest | undefined;
  let database = false;
  let key = false;
  let stacks = 0;
  let files = 0;
  try {
    await mkdir(paths.dataDir);
    await Deno.chmod(paths.dataDir, 0o700);
    const stream = input.readable.pipeThrough(new DecompressionStream("gzip"));
    await readTar(stream, async (header, data) => {
      const path = header.path.replace(/\/+$/, "");
      if (!manifest) {
        if (path !== MANIFEST || header.type !== "file" || header.size > MAX_MANIFEST_BYTES) {
          throw new BackupError(`${from} is not a Container Manager backup (no manifest first)`);
        }
        manifest = parseManifest(await new Response(data()).text(), from);
        return;
      }
      if (header.type !== "file" && header.type !== "dir") {
        throw new BackupError(`The backup holds a link or special file: ${JSON.stringify(path)}`);
      }
      if (path === DATABASE && header.type === "file") {
        await writeFrom(`${paths.dataDir}/${DATABASE}`, data());
        database = true;
      } else if (path === KEY && header.type === "file") {
        await writeFrom(paths.keyFile, data());
        key = true;
      } else if (path === STACKS && header.type === "dir") {
        await mkdir(paths.stacksDir);
      } else if (path.startsWith(`${STACKS}/`)) {
        const segments = stackPathSegments(path);
        const target = `${paths.stacksDir}/${segments.join("/")}`;
        if (header.type === "dir") {
          await mkdir(target);
          if (segments.length === 1) stacks++;
        } else {
          await writeFrom(target, data());
          files++;
        }
      } else {
        throw new BackupError(`The backup holds an unexpected entry: ${JSON.stringify(path)}`);
      }
    });
    if (!manifest) throw new BackupError(`${from} is empty or not a backup`);
    if (!database) throw new BackupError(`The backup ${from} holds no database`);
    const db = new DatabaseSync(`${paths.dataDir}/${DATABASE}`);
    try {
      checkIntegrity(db, "The restored database");
    } finally {
      db.close();
    }
    return { manifest, stacks, files, key, database: `${paths.dataDir}/${DATABASE}` };
  } catch (error) {
    for (const path of made.reverse()) await Deno.remove(path, { recursive: true }).catch(() => {});
    if (error instanceof BackupError) throw error;
    throw new BackupError(`Cannot restore ${from}: ${messageOf(error)}`);
  }
}

function parseManifest(text: string, from: string): Manifest {
  let value: Partial<Manifest>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackupError(`${from} is not a Container Manager backup (unreadable manifest)`);
  }
  if (value?.format !== BACKUP_FORMAT) {
    throw new BackupError(`${from} is not a Container Manager backup`);
  }
  if (value.version !== 1) {
    throw new BackupError(
      `${from} is a backup in format version ${value.version}; this panel reads version 1`,
    );
  }
  return value as Manifest;
}

/** `container-manager backup`: prints what it did; returns the exit code. */
export async function backupCommand(
  paths: PanelPaths,
  to: string,
  includeKey: boolean,
): Promise<number> {
  const skipped: string[] = [];
  let result: BackupResult;
  try {
    result = await createBackup(paths, to, { includeKey, skipped });
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`container-manager: ${error.message}`);
    return 1;
  }
  for (const path of skipped) console.error(`Not in the backup (a link or special file): ${path}`);
  console.log(
    `Backup written to ${result.file} (${result.bytes} bytes): the database, ${result.stacks} ` +
      `stack folder${result.stacks === 1 ? "" : "s"}${result.key ? " and the key file" : ""}`,
  );
  if (result.key) {
    console.error(
      "Warning: this backup holds the key file. Anyone who has it can decrypt the stored " +
        "registry passwords: keep it as safe as the key itself.",
    );
  } else {
    console.error(
      `The key file (${paths.keyFile}) is not in this backup. Keep a copy of it apart: without ` +
        "it a restored panel cannot decrypt the stored registry credentials (--include-key " +
        "puts it in the backup).",
    );
  }
  return 0;
}

/** `container-manager restore`: prints what it did; returns the exit code. */
export async function restoreCommand(paths: PanelPaths, from: string): Promise<number> {
  let result: RestoreResult;
  try {
    result = await restoreBackup(from, paths);
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`container-manager: ${error.message}`);
    return 1;
  }
  console.log(
    `Restored the backup of ${result.manifest.created_at} into ${paths.dataDir}: the database, ` +
      `${result.stacks} stack folder${result.stacks === 1 ? "" : "s"}` +
      `${result.key ? ` and the key file (${paths.keyFile})` : ""}`,
  );
  if (!result.key) {
    console.error(
      `The backup holds no key file: put the panel's key at ${paths.keyFile} (mode 0600) ` +
        "before starting it, or the stored registry credentials cannot be decrypted.",
    );
  }
  console.log(`Check it with: container-manager audit verify --data-dir ${paths.dataDir}`);
  return 0;
}
