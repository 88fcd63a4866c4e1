/**
 * The files a stack keeps in its directory (`<stacks-dir>/<project>`) besides its compose
 * file: config files, Dockerfiles, secret files. Names are confined to the directory (no
 * `..`, no absolute paths, no symlinks on the way), files are small text written 0600, and
 * a file marked secret is write-only through the API.
 */
import { HttpError, ValidationError } from "../errors.ts";
import { shown } from "./errors.ts";
import { stackDirOf } from "./stacks.ts";
import { bindSource } from "./plan.ts";
import { fileObjectSources } from "./secrets.ts";
import type { ComposeInput, ComposeProject, ComposeWarning } from "./types.ts";

/** Largest file the Compose tab stores. */
export const MAX_STACK_FILE_BYTES = 256 * 1024;
/** Most files one stack directory may hold through the API. */
export const MAX_STACK_FILES = 100;
export const MAX_STACK_FILE_PATH = 255;
const MAX_DEPTH = 8;
const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+@-]*$|^\.[A-Za-z0-9_][A-Za-z0-9_.+@-]*$/;

/** Which files the API marked write-only (secrets), as a JSON list of paths. */
const SECRET_LIST = ".cm-secret-files.json";
/** Files the panel writes itself (the stack editor's), never through the files API. */
const RESERVED = new Set([
  "compose.yaml",
  ".env",
  "env_files.json",
  "profiles.json",
  SECRET_LIST,
]);

export interface StackFileInfo {
  path: string;
  size: number;
  /** ISO time of the last change. */
  modified: string | null;
  /** Write-only: its content is never sent back. */
  secret: boolean;
}

/**
 * Checks a file name relative to the stack directory: segments of letters, digits and
 * `_ . + @ -`, none of them `.` or `..`, no leading `/`, at most MAX_DEPTH deep.
 * Returns the path with its segments joined by "/".
 */
export function checkStackFilePath(raw: unknown): string {
  if (typeof raw !== "string" || raw === "") {
    throw new ValidationError("A file name is required", "path");
  }
  const fail = (why: string): never => {
    throw new ValidationError(`Invalid file name ${shown(raw.slice(0, 100))}: ${why}`, "path");
  };
  if (raw.length > MAX_STACK_FILE_PATH) fail(`longer than ${MAX_STACK_FILE_PATH} characters`);
  if (raw.startsWith("/")) fail("absolute paths are not allowed; name it inside the stack folder");
  const path = raw.startsWith("./") ? raw.slice(2) : raw;
  const segments = path.split("/");
  if (segments.length > MAX_DEPTH) fail(`more than ${MAX_DEPTH} folders deep`);
  for (const segment of segments) {
    if (segment === "..") fail('".." would leave the stack folder');
    if (segment === "" || segment === ".") fail('empty or "." folder names are not allowed');
    if (!SEGMENT_RE.test(segment)) {
      fail('use letters, digits, "_", ".", "+", "@" and "-" in each part');
    }
  }
  if (segments.length === 1 && RESERVED.has(segments[0])) {
    fail("the panel keeps this file itself (edit the compose file and .env in the editor)");
  }
  return segments.join("/");
}

/**
 * The absolute path of `path` (checked relative, no `..`) in `stackDir` after checking that
 * no existing part of it is a symlink (so a write or read cannot be redirected out of it).
 */
export async function confinedPath(stackDir: string, path: string): Promise<string> {
  let current = stackDir;
  for (const segment of path.split("/")) {
    current = `${current}/${segment}`;
    try {
      const info = await Deno.lstat(current);
      if (info.isSymlink) {
        throw new ValidationError(
          `${
            shown(path)
          } goes through a symbolic link; the panel only touches real files in the stack folder`,
          "path",
        );
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) break;
      throw error;
    }
  }
  return `${stackDir}/${path}`;
}

async function readSecretList(stackDir: string): Promise<Set<string>> {
  try {
    const list = JSON.parse(await Deno.readTextFile(`${stackDir}/${SECRET_LIST}`));
    return new Set(Array.isArray(list) ? list.filter((x) => typeof x === "string") : []);
  } catch {
    return new Set();
  }
}

async function writeSecretList(stackDir: string, list: Set<string>) {
  if (list.size === 0) {
    await Deno.remove(`${stackDir}/${SECRET_LIST}`).catch(() => {});
    return;
  }
  await writeFileAtomic(`${stackDir}/${SECRET_LIST}`, JSON.stringify([...list].sort()));
}

/**
 * Writes through a new temporary file (created exclusively, so never through a symlink)
 * renamed over the target: the rename replaces a link itself, never what it points to.
 */
async function writeFileAtomic(path: string, content: string) {
  const temporary = `${path}.cm-${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(temporary, content, { createNew: true, mode: 0o600 });
    await Deno.chmod(temporary, 0o600); // the umask may have narrowed it; never widened
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Every file of the stack directory the API manages (reserved and temporary ones aside). */
export async function listStackFiles(
  stacksDir: string,
  project: string,
): Promise<StackFileInfo[]> {
  const stackDir = stackDirOf(stacksDir, project);
  const secrets = await readSecretList(stackDir);
  const files: StackFileInfo[] = [];
  const walk = async (dir: string, prefix: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (!prefix && RESERVED.has(entry.name)) continue;
      if (entry.name.endsWith(".tmp") && entry.name.includes(".cm-")) continue;
      if (entry.isDirectory && depth < MAX_DEPTH) {
        await walk(`${dir}/${entry.name}`, path, depth + 1);
      } else if (entry.isFile && files.length < 10 * MAX_STACK_FILES) {
        const info = await Deno.lstat(`${dir}/${entry.name}`).catch(() => null);
        if (!info) continue;
        files.push({
          path,
          size: info.size,
          modified: info.mtime?.toISOString() ?? null,
          secret: secrets.has(path),
        });
      }
    }
  };
  await walk(stackDir, "", 1);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file's text (admins only, checked by the route); a secret file is refused (403). */
export async function readStackFile(
  stacksDir: string,
  project: string,
  rawPath: unknown,
): Promise<string> {
  const path = checkStackFilePath(rawPath);
  const stackDir = stackDirOf(stacksDir, project);
  const full = await confinedPath(stackDir, path);
  if ((await readSecretList(stackDir)).has(path)) {
    throw new HttpError(
      403,
      `${shown(path)} is a secret file: it can be replaced or removed, never read back`,
      "path",
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(full);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new HttpError(404, `The stack "${project}" has no file ${shown(path)}`, "path");
    }
    throw error;
  }
  if (!info.isFile) throw new ValidationError(`${shown(path)} is not a regular file`, "path");
  if (info.size > MAX_STACK_FILE_BYTES) {
    throw new ValidationError(
      `${shown(path)} is larger than ${
        MAX_STACK_FILE_BYTES / 1024
      } KiB; the panel only edits small text files`,
      "path",
    );
  }
  const bytes = await Deno.readFile(full);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError(`${shown(path)} is not UTF-8 text`, "path");
  }
}

/** Checks a file's content before anything is written: text, no NUL, at most the cap. */
export function checkStackFileContent(content: unknown): string {
  if (typeof content !== "string") {
    throw new ValidationError("content must be text", "content");
  }
  if (content.includes("\0")) {
    throw new ValidationError("content must be text (it holds a NUL character)", "content");
  }
  if (new TextEncoder().encode(content).length > MAX_STACK_FILE_BYTES) {
    throw new HttpError(
      413,
      `The file is larger than ${MAX_STACK_FILE_BYTES / 1024} KiB`,
      "content",
    );
  }
  return content;
}

/** Creates or replaces a file (mode 0600; folders 0700). Returns its path and size. */
export async function putStackFile(
  stacksDir: string,
  project: string,
  rawPath: unknown,
  rawContent: unknown,
  options: { secret?: boolean } = {},
): Promise<{ path: string; size: number; secret: boolean; created: boolean }> {
  const path = checkStackFilePath(rawPath);
  const content = checkStackFileContent(rawContent);
  const stackDir = stackDirOf(stacksDir, project);
  await Deno.mkdir(stackDir, { recursive: true, mode: 0o700 });
  const full = await confinedPath(stackDir, path);
  let created = true;
  try {
    const info = await Deno.lstat(full);
    if (!info.isFile) {
      throw new ValidationError(`${shown(path)} exists and is not a regular file`, "path");
    }
    created = false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (created && (await listStackFiles(stacksDir, project)).length >= MAX_STACK_FILES) {
    throw new ValidationError(
      `The stack "${project}" already has ${MAX_STACK_FILES} files; remove one first`,
      "path",
    );
  }
  const parent = full.slice(0, full.lastIndexOf("/"));
  await Deno.mkdir(parent, { recursive: true, mode: 0o700 });
  await confinedPath(stackDir, path); // the folders just made are real ones, not links
  await writeFileAtomic(full, content);
  const secrets = await readSecretList(stackDir);
  const secret = options.secret === true || (!created && secrets.has(path));
  if (secret !== secrets.has(path)) {
    secret ? secrets.add(path) : secrets.delete(path);
    await writeSecretList(stackDir, secrets);
  }
  return { path, size: new TextEncoder().encode(content).length, secret, created };
}

/** Removes a file (a link is removed itself); empty folders it leaves are removed too. */
export async function removeStackFile(
  stacksDir: string,
  project: string,
  rawPath: unknown,
): Promise<{ path: string }> {
  const path = checkStackFilePath(rawPath);
  const stackDir = stackDirOf(stacksDir, project);
  const segments = path.split("/");
  const parentPath = segments.slice(0, -1).join("/");
  if (parentPath) await confinedPath(stackDir, parentPath);
  const full = `${stackDir}/${path}`;
  try {
    const info = await Deno.lstat(full);
    if (info.isDirectory) {
      throw new ValidationError(`${shown(path)} is a folder; remove its files`, "path");
    }
    await Deno.remove(full);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new HttpError(404, `The stack "${project}" has no file ${shown(path)}`, "path");
    }
    throw error;
  }
  for (let i = segments.length - 1; i > 0; i--) {
    const dir = `${stackDir}/${segments.slice(0, i).join("/")}`;
    try {
      await Deno.remove(dir); // only succeeds when empty
    } catch {
      break;
    }
  }
  const secrets = await readSecretList(stackDir);
  if (secrets.delete(path)) await writeSecretList(stackDir, secrets);
  return { path };
}

/** Stats at most this many bind sources per preview (a file may have thousands of binds). */
const MAX_HOST_CHECKS = 200;

/**
 * Warnings about the host the file will run on: a bind source that does not exist (Docker
 * creates an empty directory there, or the deploy fails with create_host_path: false).
 * Relative sources are resolved against the stack directory as the deploy resolves them.
 */
export async function hostWarnings(
  project: ComposeProject,
  stackDir: string,
): Promise<ComposeWarning[]> {
  const warnings: ComposeWarning[] = [];
  let checks = 0;
  for (const service of project.services) {
    for (const [index, volume] of service.volumes.entries()) {
      if (volume.type !== "bind" || volume.source.startsWith("~")) continue;
      if (++checks > MAX_HOST_CHECKS) return warnings;
      const source = bindSource(volume.source, stackDir);
      if (await pathExists(source)) continue;
      const where = volume.source === source ? "" : ` (${source})`;
      warnings.push({
        line: service.line,
        service: service.name,
        kind: "host",
        message: `Service "${service.name}": volumes[${index}] bind source ${
          shown(volume.source)
        }${where} does not exist on the host; ${
          volume.create_host_path
            ? "Docker will create an empty directory here"
            : "the deploy will fail (create_host_path: false)"
        }`,
      });
    }
  }
  for (const { service, name, source, path } of fileObjectSources(project, stackDir)) {
    if (++checks > MAX_HOST_CHECKS) return warnings;
    if (await pathExists(path)) continue;
    warnings.push({
      line: service.line,
      service: service.name,
      kind: "host",
      message: `Service "${service.name}": the file ${shown(source)}${
        source === path ? "" : ` (${path})`
      } of ${
        JSON.stringify(name)
      } does not exist on the host; the deploy will fail until it is added`,
    });
  }
  return warnings;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    // Not ours to read (permissions): it exists as far as the warning is concerned.
    return true;
  }
}

/** Most text read from a stack directory for one parse (the parser's cap on `files`). */
const MAX_REFERENCED_BYTES = 4 * 1024 * 1024;

/**
 * The stack directory's files that `include:` and `extends: {file:}` may name, read for a
 * preview or deploy (the parser itself does no I/O). A file is read when its name appears in
 * the compose file or in a file read before (so includes of includes follow), through the
 * same checks as the files API: confined, regular, UTF-8, at most MAX_STACK_FILE_BYTES, and
 * never a secret file. Files in `given` (sent with the request) win over the directory's.
 */
export async function referencedStackFiles(
  stacksDir: string,
  project: string,
  yaml: string,
  given: Record<string, string> = {},
): Promise<Record<string, string>> {
  const candidates = (await listStackFiles(stacksDir, project)).filter((file) =>
    !file.secret && file.size <= MAX_STACK_FILE_BYTES && !Object.hasOwn(given, file.path)
  );
  const texts = [yaml, ...Object.values(given)];
  // No prototype: a stack file may be called __proto__.
  const read: Record<string, string> = Object.create(null);
  const tried = new Set<string>();
  let total = 0;
  for (let found = true; found;) {
    found = false;
    for (const file of candidates) {
      if (tried.has(file.path) || total + file.size > MAX_REFERENCED_BYTES) continue;
      const base = file.path.slice(file.path.lastIndexOf("/") + 1);
      if (!texts.some((text) => text.includes(base))) continue;
      tried.add(file.path);
      // A file that cannot be read as text is left out: the parser names it if it is used.
      const text = await readStackFile(stacksDir, project, file.path).catch(() => null);
      if (text === null) continue;
      read[file.path] = text;
      texts.push(text);
      total += file.size;
      found = true;
    }
  }
  return Object.assign(read, given);
}

/**
 * The project a request names before its file is parsed: its own `project`, else a literal
 * top-level `name:` (one with variables is known only after the parse).
 */
export function projectNameBeforeParse(input: ComposeInput): string | undefined {
  const name = input.project ||
    /^name:[ \t]*(["']?)([A-Za-z0-9][A-Za-z0-9_-]*)\1[ \t]*(?:#.*)?$/m.exec(input.yaml)?.[2];
  return name ? name.toLowerCase() : undefined;
}
