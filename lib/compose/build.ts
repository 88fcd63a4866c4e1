/**
 * `build:` through the Engine's build API: the context (a folder inside the stack
 * directory, never outside it and never remote) streamed as a tar, honouring .dockerignore
 * as the CLI does; `dockerfile`, `args`, `target` and `labels` passed on; the output
 * streamed back line by line; the image tagged as the service's image (`image:`, or
 * `<project>-<service>` as compose v2 names it).
 *
 * The build is its own dispatcher verb (docker.build, audited with the build-arg names
 * only: their values travel in the unaudited attachment).
 */
import type { DockerClient } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import { ndjson } from "../docker/streams.ts";
import { ValidationError } from "../errors.ts";
import { shown } from "./errors.ts";
import { confinedPath } from "./stack_dir.ts";
import { checkProjectName, stackDirOf } from "./stacks.ts";
import { type TarEntry, tarStream } from "../tar/write.ts";
import type { BuildSpec, ComposeProject, ServiceSpec } from "./types.ts";
import type { Handlers } from "../sysctl/dispatch.ts";

/** A context larger than this (after .dockerignore) is refused before anything is sent. */
export const MAX_CONTEXT_BYTES = 512 * 1024 * 1024;
export const MAX_CONTEXT_ENTRIES = 20_000;
const MAX_CONTEXT_DEPTH = 64;
/** A build may run long; the timeout covers only the wait for the Engine's first answer. */
const BUILD_HEADERS_TIMEOUT_MS = 120_000;

/** A .dockerignore as a predicate, with moby's rules: last match wins, `!` re-includes. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules: { negate: boolean; re: RegExp }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    line = line.split("/").filter((part) => part !== "" && part !== ".").join("/");
    if (line === "") continue;
    rules.push({ negate, re: new RegExp(`^${globToRegex(line)}(?:/.*)?$`) });
  }
  return (path) => {
    let excluded = false;
    for (const rule of rules) if (rule.re.test(path)) excluded = !rule.negate;
    return excluded;
  };
}

function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      // `**/` matches any number of folders (none included); a trailing `**` anything.
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (char === "*") out += "[^/]*";
    else if (char === "?") out += "[^/]";
    else if (char === "\\" && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else out += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}

/** The context's entries in a stable order, sizes checked against the caps first. */
async function contextEntries(
  contextDir: string,
  dockerfile: string,
): Promise<TarEntry[]> {
  let ignoreText = "";
  try {
    ignoreText = await Deno.readTextFile(`${contextDir}/.dockerignore`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const ignored = dockerignore(ignoreText);
  // The CLI always sends the Dockerfile and .dockerignore, whatever the patterns say.
  const always = new Set([dockerfile, ".dockerignore"]);
  const hasNegation = /^\s*!/m.test(ignoreText);
  const entries: TarEntry[] = [];
  let bytes = 0;
  const walk = async (dir: string, prefix: string, depth: number) => {
    if (depth > MAX_CONTEXT_DEPTH) {
      throw new ValidationError(`The build context is more than ${MAX_CONTEXT_DEPTH} folders deep`);
    }
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    for (const name of names) {
      const path = prefix ? `${prefix}/${name}` : name;
      const full = `${dir}/${name}`;
      const info = await Deno.lstat(full);
      const skip = ignored(path) && !always.has(path);
      if (info.isDirectory) {
        // An excluded folder may still hold a re-included file (`!dir/keep`).
        if (skip && !hasNegation) continue;
        if (!skip) entries.push(entryOf(path, "dir", info));
        await walk(full, path, depth + 1);
      } else if (skip) {
        continue;
      } else if (info.isFile) {
        bytes += info.size;
        entries.push(entryOf(path, "file", info));
      } else if (info.isSymlink) {
        // Sent as a link, never followed: the builder resolves it inside the context.
        entries.push({ ...entryOf(path, "symlink", info), linkTarget: await Deno.readLink(full) });
      }
      if (entries.length > MAX_CONTEXT_ENTRIES) {
        throw new ValidationError(
          `The build context has more than ${MAX_CONTEXT_ENTRIES} files; list what the build does not need in .dockerignore`,
        );
      }
      if (bytes > MAX_CONTEXT_BYTES) {
        throw new ValidationError(
          `The build context is larger than ${
            MAX_CONTEXT_BYTES / 1024 / 1024
          } MiB; list what the build does not need in .dockerignore`,
        );
      }
    }
  };
  await walk(contextDir, "", 0);
  return entries;
}

function entryOf(path: string, type: TarEntry["type"], info: Deno.FileInfo): TarEntry {
  return {
    path,
    type,
    mode: (info.mode ?? (type === "dir" ? 0o755 : 0o644)) & 0o7777,
    size: type === "file" ? info.size : 0,
    mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
  };
}

export interface BuildRequest {
  project: string;
  service: string;
  build: BuildSpec;
  tag: string;
}

/**
 * Builds one service's image. `onLine` gets the build output, line by line. Throws an
 * HttpError (400) for a context or Dockerfile that is missing, and a DockerError with the
 * builder's words when a step fails.
 */
export async function buildImage(
  docker: DockerClient,
  stacksDir: string,
  request: BuildRequest,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ id: string | null }> {
  const stackDir = stackDirOf(stacksDir, checkProjectName(request.project));
  const { build } = request;
  const contextDir = build.context === "." ? stackDir : await confinedPath(stackDir, build.context);
  const where = build.context === "." ? "the stack folder" : `./${build.context}`;
  try {
    if (!(await Deno.lstat(contextDir)).isDirectory) {
      throw new ValidationError(`The build context ${where} is not a folder`, "build");
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ValidationError(
        `The build context ${where} does not exist in the stack folder; add its files in the Compose tab`,
        "build",
      );
    }
    throw error;
  }
  const dockerfile = build.dockerfile ?? "Dockerfile";
  const dockerfilePath = await confinedPath(contextDir, dockerfile);
  try {
    await Deno.stat(dockerfilePath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ValidationError(
        `Service "${request.service}": the build context ${where} has no ${
          shown(dockerfile)
        }; add it in the Compose tab`,
        "build",
      );
    }
    throw error;
  }
  const entries = await contextEntries(contextDir, dockerfile);
  const body = tarStream(
    (async function* () {
      yield* entries;
    })(),
    async (entry) => (await Deno.open(`${contextDir}/${entry.path}`)).readable,
  );
  const response = await docker.request("POST", "/build", {
    query: {
      t: request.tag,
      dockerfile,
      ...(build.target ? { target: build.target } : {}),
      ...(Object.keys(build.args).length ? { buildargs: JSON.stringify(build.args) } : {}),
      labels: JSON.stringify({
        ...(build.labels ?? {}),
        "com.docker.compose.project": request.project,
        "com.docker.compose.service": request.service,
      }),
      rm: "1",
      forcerm: "1",
    },
    body,
    headers: { "Content-Type": "application/x-tar" },
    stream: true,
    timeoutMs: BUILD_HEADERS_TIMEOUT_MS,
    signal,
  });
  let id: string | null = null;
  let pending = "";
  for await (
    const line of ndjson<{
      stream?: string;
      status?: string;
      error?: string;
      errorDetail?: { message?: string };
      aux?: { ID?: string };
    }>(response.body!)
  ) {
    if (line.error || line.errorDetail) {
      if (pending.trim()) onLine(pending.trimEnd());
      throw new DockerError(400, `The build failed: ${line.errorDetail?.message ?? line.error}`);
    }
    if (line.aux?.ID) id = line.aux.ID;
    const text = line.stream ?? line.status;
    if (typeof text !== "string") continue;
    // The builder sends partial lines; the client gets whole ones.
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const out of lines) if (out.trim()) onLine(out.trimEnd());
  }
  if (pending.trim()) onLine(pending.trimEnd());
  return { id };
}

/** docker.build: params name the project, service, tag and build-arg keys; values ride along. */
export function buildHandlers(docker: DockerClient, stacksDir: string): Handlers {
  return {
    "docker.build": async ({ params, attachment, progress }) => {
      const build = (attachment as { build?: BuildSpec } | undefined)?.build;
      if (!build || typeof build.context !== "string") {
        throw new ValidationError("build is required", "build");
      }
      const project = checkProjectName(String(params.project ?? ""));
      const service = String(params.service ?? "");
      const tag = String(params.tag ?? "");
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(service)) {
        throw new ValidationError("Invalid service name", "service");
      }
      return await buildImage(
        docker,
        stacksDir,
        { project, service, build, tag },
        (line) => progress({ stream: line }),
      );
    },
  };
}

/** The deploy's build step for one service: dispatched (audited), output to the deploy box. */
export async function buildService(
  dispatch: (
    verb: string,
    target: string,
    params: Record<string, unknown>,
    progress?: (event: unknown) => void,
    attachment?: unknown,
  ) => Promise<unknown>,
  project: ComposeProject,
  service: ServiceSpec,
  progress: (event: { service: string; status: "building"; message: string }) => void,
) {
  if (!service.build) return;
  progress({ service: service.name, status: "building", message: `Building ${service.image}` });
  await dispatch(
    "docker.build",
    service.image,
    {
      project: project.name,
      service: service.name,
      tag: service.image,
      context: service.build.context,
      ...(service.build.dockerfile ? { dockerfile: service.build.dockerfile } : {}),
      ...(service.build.target ? { target: service.build.target } : {}),
      arg_keys: Object.keys(service.build.args),
    },
    (event) => {
      const line = (event as { stream?: string }).stream;
      if (typeof line === "string") {
        progress({ service: service.name, status: "building", message: line });
      }
    },
    { build: service.build },
  );
}
