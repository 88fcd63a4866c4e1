/**
 * The panel's copy of each swarm stack it deployed: `<stacks-dir>/_swarm/<stack>/` holds
 * compose.yaml, .env and the files its `file:` secrets and configs name (0600, folders
 * 0700). `_swarm` cannot be a compose project's name (those start with a letter or digit),
 * so it never shows among, or collides with, the compose stacks beside it.
 */
import { absolutePath } from "../compose/stacks.ts";
import { HttpError, ValidationError } from "../errors.ts";
import { stackRelative } from "./convert.ts";

export const SWARM_FOLDER = "_swarm";
/** Stack names as the CLI's stacks are found (dots allowed); the panel deploys lowercase. */
const STACK_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Most bytes of files sent with one deploy. */
export const MAX_FILES_BYTES = 4 * 1024 * 1024;

/** A stack name as it may appear in a URL (CLI stacks may have capitals or dots). */
export function checkStackName(name: unknown): string {
  if (typeof name !== "string" || !STACK_NAME_RE.test(name)) {
    throw new ValidationError(
      `Invalid stack name ${
        JSON.stringify(String(name).slice(0, 80))
      }: use up to 64 letters, digits, "_", "." and "-", starting with a letter or digit`,
      "name",
    );
  }
  return name;
}

export function swarmStackDir(stacksDir: string, stack: string): string {
  return `${absolutePath(stacksDir)}/${SWARM_FOLDER}/${checkStackName(stack)}`;
}

export async function hasSwarmStackFile(stacksDir: string, stack: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${swarmStackDir(stacksDir, stack)}/compose.yaml`)).isFile;
  } catch {
    return false;
  }
}

export interface SwarmStackFiles {
  yaml: string;
  env: string;
}

export async function readSwarmStackFiles(
  stacksDir: string,
  stack: string,
): Promise<SwarmStackFiles | undefined> {
  const dir = swarmStackDir(stacksDir, stack);
  try {
    const yaml = await Deno.readTextFile(`${dir}/compose.yaml`);
    const env = await Deno.readTextFile(`${dir}/.env`).catch(() => "");
    return { yaml, env };
  } catch {
    return undefined;
  }
}

/** Checks the files sent with a deploy: relative paths inside the stack folder, text. */
export function checkSentFiles(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("files must be a map of path to text", "files");
  }
  const out: Record<string, string> = Object.create(null);
  let total = 0;
  for (const [path, text] of Object.entries(value)) {
    if (typeof text !== "string") {
      throw new ValidationError(
        `files: ${JSON.stringify(path.slice(0, 100))} must be text`,
        "files",
      );
    }
    total += text.length;
    if (total > MAX_FILES_BYTES) {
      throw new HttpError(413, "The files are larger than 4 MiB together", "files");
    }
    const clean = stackRelative(path, `files: ${JSON.stringify(path.slice(0, 100))}`);
    if (clean === "compose.yaml" || clean === ".env") {
      throw new ValidationError(`files: ${clean} is the stack's own file`, "files");
    }
    out[clean] = text;
  }
  return out;
}

/**
 * The texts of `paths` (stack-relative): from `sent` first, else from the stack's folder
 * (regular files only, never through a link). Missing ones are left out.
 */
export async function stackFileTexts(
  stacksDir: string,
  stack: string,
  paths: string[],
  sent: Record<string, string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.create(null);
  const dir = swarmStackDir(stacksDir, stack);
  for (const path of paths) {
    if (Object.hasOwn(sent, path)) {
      out[path] = sent[path];
      continue;
    }
    const text = await readConfined(dir, path);
    if (text !== undefined) out[path] = text;
  }
  return out;
}

async function readConfined(dir: string, path: string): Promise<string | undefined> {
  // Every step is checked with lstat: no component may be a link out of the folder.
  let current = dir;
  for (const part of path.split("/")) {
    current = `${current}/${part}`;
    const info = await Deno.lstat(current).catch(() => undefined);
    if (!info || info.isSymlink) return undefined;
  }
  const info = await Deno.lstat(current);
  if (!info.isFile || info.size > 512 * 1024) return undefined;
  return await Deno.readTextFile(current).catch(() => undefined);
}

/** Stores the deployed files; returns the folder. */
export async function writeSwarmStackFiles(
  stacksDir: string,
  stack: string,
  yaml: string,
  env: string | undefined,
  sent: Record<string, string>,
): Promise<string> {
  const dir = swarmStackDir(stacksDir, stack);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${dir}/compose.yaml`, yaml, { mode: 0o600 });
  if (env) await Deno.writeTextFile(`${dir}/.env`, env, { mode: 0o600 });
  else await Deno.remove(`${dir}/.env`).catch(() => {});
  for (const [path, text] of Object.entries(sent)) {
    const at = path.lastIndexOf("/");
    if (at > 0) await Deno.mkdir(`${dir}/${path.slice(0, at)}`, { recursive: true, mode: 0o700 });
    // A link planted in the folder is replaced, never followed.
    await Deno.remove(`${dir}/${path}`).catch(() => {});
    await Deno.writeTextFile(`${dir}/${path}`, text, { mode: 0o600 });
  }
  return dir;
}

export async function removeSwarmStackFiles(stacksDir: string, stack: string): Promise<boolean> {
  try {
    await Deno.remove(swarmStackDir(stacksDir, stack), { recursive: true });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
