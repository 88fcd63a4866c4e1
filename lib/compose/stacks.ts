/** Compose projects on the host, ours or the CLI's, grouped by their project label. */
import type { DockerClient } from "../docker/client.ts";
import { listContainers } from "../docker/containers.ts";
import { LABEL } from "./plan.ts";
import { cleanPath } from "./normalise.ts";
import { ValidationError } from "../errors.ts";
import { shown } from "./errors.ts";
import { MAX_PROJECT_NAME } from "./parse.ts";

export interface StackSummary {
  name: string;
  services: string[];
  containers: number;
  running: number;
  /** True when the panel holds this project's compose file. */
  ours: boolean;
  working_dir: string | null;
}

/** An absolute, normalised path (the data dir may be given relative to the cwd). */
export function absolutePath(path: string): string {
  return cleanPath(path.startsWith("/") ? path : `${Deno.cwd()}/${path}`);
}

/**
 * A project name as the parser leaves it (compose's rule, lowercase, and at most
 * MAX_PROJECT_NAME characters): safe as a folder name and in labels.
 */
export function isProjectName(name: string): boolean {
  return typeof name === "string" && name.length <= MAX_PROJECT_NAME &&
    /^[a-z0-9][a-z0-9_-]*$/.test(name);
}

/** Returns `name` if it is a project name, otherwise throws a 400 naming it. */
export function checkProjectName(name: string): string {
  if (!isProjectName(name)) {
    throw new ValidationError(
      `Invalid project name ${
        shown(String(name))
      }: use up to ${MAX_PROJECT_NAME} lowercase letters, digits, "_" and "-", starting with a letter or digit`,
      "project",
    );
  }
  return name;
}

/** Every container of a compose project, running or not, found by its project label. */
export async function listProjectContainers(docker: DockerClient, project: string) {
  return await listContainers(docker, {
    all: true,
    filters: { label: [`${LABEL.project}=${project}`] },
  });
}

/**
 * `<stacks-dir>/<project>` (`--stacks-dir`, by default `<data-dir>/stacks`); the project
 * name is validated, so it never leaves that folder.
 */
export function stackDirOf(stacksDir: string, project: string): string {
  return `${absolutePath(stacksDir)}/${checkProjectName(project)}`;
}

/** Whether the panel holds a compose file for the project (a stat, not a read). */
async function hasStackFile(stacksDir: string, project: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${stackDirOf(stacksDir, project)}/compose.yaml`)).isFile;
  } catch {
    return false;
  }
}

/**
 * The `env_file:` texts supplied with the last deploy, by the path as written, so that a
 * stack opened from the list redeploys as it was. Kept beside the file, private like `.env`.
 */
const ENV_FILES = "env_files.json";
/** The active profiles chosen for the stack (a JSON list), kept with the stack. */
const PROFILES = "profiles.json";

export interface StackFiles {
  yaml: string;
  env: string;
  envFiles: Record<string, string>;
  profiles: string[];
}

export async function readStackFiles(
  stacksDir: string,
  project: string,
): Promise<StackFiles | undefined> {
  const dir = stackDirOf(stacksDir, project);
  try {
    const yaml = await Deno.readTextFile(`${dir}/compose.yaml`);
    const env = await Deno.readTextFile(`${dir}/.env`).catch(() => "");
    const envFiles = await Deno.readTextFile(`${dir}/${ENV_FILES}`)
      .then((text) => envFilesOf(JSON.parse(text)))
      .catch(() => ({}));
    const profiles = await Deno.readTextFile(`${dir}/${PROFILES}`)
      .then((text) => JSON.parse(text))
      .then((list) => Array.isArray(list) ? list.filter((p) => typeof p === "string") : [])
      .catch(() => []);
    return { yaml, env, envFiles, profiles };
  } catch {
    return undefined;
  }
}

/** Only string values survive: the stored map is read back as untrusted (no prototype). */
function envFilesOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [path, text] of Object.entries(value)) {
    if (typeof text === "string") out[path] = text;
  }
  return out;
}

export async function writeStackFiles(
  stacksDir: string,
  project: string,
  yaml: string,
  env: string | undefined,
  envFiles?: Record<string, string>,
  profiles?: string[],
) {
  const dir = stackDirOf(stacksDir, project);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${dir}/compose.yaml`, yaml, { mode: 0o600 });
  if (env) await Deno.writeTextFile(`${dir}/.env`, env, { mode: 0o600 });
  else await Deno.remove(`${dir}/.env`).catch(() => {});
  if (envFiles && Object.keys(envFiles).length > 0) {
    await Deno.writeTextFile(`${dir}/${ENV_FILES}`, JSON.stringify(envFiles), { mode: 0o600 });
  } else {
    await Deno.remove(`${dir}/${ENV_FILES}`).catch(() => {});
  }
  if (profiles && profiles.length > 0) {
    await Deno.writeTextFile(`${dir}/${PROFILES}`, JSON.stringify(profiles), { mode: 0o600 });
  } else {
    await Deno.remove(`${dir}/${PROFILES}`).catch(() => {});
  }
  return dir;
}

/** The files writeStackFiles writes, as they were on disk (null: absent). */
export type StoredStackFiles = Record<string, string | null>;

const STORED_FILES = ["compose.yaml", ".env", ENV_FILES, PROFILES];

/** What the stack directory holds of the files a deploy stores, to put back if it fails. */
export async function snapshotStackFiles(
  stacksDir: string,
  project: string,
): Promise<StoredStackFiles> {
  const dir = stackDirOf(stacksDir, project);
  const snapshot: StoredStackFiles = {};
  for (const name of STORED_FILES) {
    snapshot[name] = await Deno.readTextFile(`${dir}/${name}`).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
  }
  return snapshot;
}

/** Puts the stored files back as `snapshot` has them (absent ones removed). */
export async function restoreStackFiles(
  stacksDir: string,
  project: string,
  snapshot: StoredStackFiles,
): Promise<void> {
  const dir = stackDirOf(stacksDir, project);
  for (const [name, text] of Object.entries(snapshot)) {
    if (text === null) {
      await Deno.remove(`${dir}/${name}`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    } else {
      await Deno.writeTextFile(`${dir}/${name}`, text, { mode: 0o600 });
    }
  }
  // A directory the failed deploy made and left empty goes too (it would list as a stack).
  if (Object.values(snapshot).every((text) => text === null)) {
    await Deno.remove(dir).catch(() => {});
  }
}

export async function listStacks(docker: DockerClient, stacksDir: string): Promise<StackSummary[]> {
  const containers = await listContainers(docker, {
    all: true,
    filters: { label: [LABEL.project] },
  });
  const stacks = new Map<string, StackSummary>();
  for (const container of containers) {
    const name = container.Labels?.[LABEL.project];
    if (!name) continue;
    const stack = stacks.get(name) ??
      {
        name,
        services: [],
        containers: 0,
        running: 0,
        ours: false,
        working_dir: container.Labels?.[LABEL.workingDir] ?? null,
      };
    const service = container.Labels?.[LABEL.service];
    if (service && !stack.services.includes(service)) stack.services.push(service);
    stack.containers++;
    if (container.State === "running") stack.running++;
    stacks.set(name, stack);
  }
  // Stacks the panel holds a file for but that have no containers (brought down) still show.
  try {
    for await (const entry of Deno.readDir(absolutePath(stacksDir))) {
      if (
        entry.isDirectory && !stacks.has(entry.name) && isProjectName(entry.name)
      ) {
        stacks.set(entry.name, {
          name: entry.name,
          services: [],
          containers: 0,
          running: 0,
          ours: false,
          working_dir: null,
        });
      }
    }
  } catch {
    // no stacks folder yet
  }
  for (const stack of stacks.values()) {
    stack.services.sort();
    stack.ours = isProjectName(stack.name) && (await hasStackFile(stacksDir, stack.name));
  }
  return [...stacks.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Deletes the stored files of a stack; true when there were any. */
export async function removeStackFiles(stacksDir: string, project: string): Promise<boolean> {
  try {
    await Deno.remove(stackDirOf(stacksDir, project), { recursive: true });
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
