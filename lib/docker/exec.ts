/** Exec sessions through the Engine API: create, start hijacked (a real PTY), resize, inspect. */
import type { DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import type { HijackedStream } from "./hijack.ts";
import { containerRef, execId } from "./validate.ts";

export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
}

/** A shell path the panel accepts: absolute, plain characters, no arguments or shell syntax. */
export const SHELL_PATH_RE = /^\/(?:[A-Za-z0-9_.+-]+\/)*[A-Za-z0-9_.+-]+$/;

export function isShellPath(value: string): boolean {
  return SHELL_PATH_RE.test(value) && !value.split("/").includes("..");
}

/** What a shell path is in a container: a runnable file, absent, or something else. */
export type ShellPathKind = "executable" | "missing" | "not-executable";

/** Go's os.FileMode bits, as the Engine's path stat carries them. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

/**
 * Looks `path` up in the container's filesystem (HEAD /containers/{id}/archive, whose stat
 * header resolves symlinks for us): a regular file with an execute bit is a shell we can
 * start; a directory, a plain file or a dangling link is not.
 */
export async function shellPathKind(
  docker: DockerClient,
  container: string,
  path: string,
): Promise<ShellPathKind> {
  const stat = await statPath(docker, container, path);
  if (!stat) return "missing";
  let { mode } = stat;
  if (Math.floor(mode / MODE_SYMLINK) % 2 === 1) {
    const target = stat.linkTarget ? await statPath(docker, container, stat.linkTarget) : null;
    if (!target) return "missing";
    mode = target.mode;
  }
  if (Math.floor(mode / MODE_DIR) % 2 === 1) return "not-executable";
  return (mode & 0o111) !== 0 ? "executable" : "not-executable";
}

async function statPath(
  docker: DockerClient,
  container: string,
  path: string,
): Promise<{ mode: number; linkTarget?: string } | null> {
  try {
    const response = await docker.request(
      "HEAD",
      `/containers/${containerRef(container)}/archive`,
      { query: { path } },
    );
    await response.body?.cancel();
    const header = response.headers.get("x-docker-container-path-stat");
    if (!header) return { mode: 0o755 }; // an Engine that does not say: trust the path
    const stat = JSON.parse(atob(header)) as { mode?: number; linkTarget?: string };
    return { mode: stat.mode ?? 0, linkTarget: stat.linkTarget || undefined };
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return null;
    throw error;
  }
}

export async function createExec(
  docker: DockerClient,
  container: string,
  cmd: string[],
): Promise<string> {
  const { Id } = await docker.json<{ Id: string }>(
    "POST",
    `/containers/${containerRef(container)}/exec`,
    {
      json: {
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        Cmd: cmd,
        Env: ["TERM=xterm-256color"],
      },
    },
  );
  return Id;
}

export function startExec(docker: DockerClient, id: string): Promise<HijackedStream> {
  return docker.hijack(`/exec/${execId(id)}/start`, { Detach: false, Tty: true });
}

export async function resizeExec(docker: DockerClient, id: string, rows: number, cols: number) {
  await docker.json("POST", `/exec/${execId(id)}/resize`, { query: { h: rows, w: cols } });
}

export async function inspectExec(docker: DockerClient, id: string): Promise<ExecInspect> {
  return await docker.json<ExecInspect>("GET", `/exec/${execId(id)}/json`);
}

/** The process id inside the container's pid namespace, read from the host's /proc (local Engines only). */
async function containerPid(hostPid: number): Promise<number | undefined> {
  try {
    const status = await Deno.readTextFile(`/proc/${hostPid}/status`);
    const ids = status.match(/^NSpid:\s+(.+)$/m)?.[1].trim().split(/\s+/);
    return ids && ids.length > 1 ? Number(ids.at(-1)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ends an exec whose client went away. The Engine keeps an exec running when its stream
 * closes, so the panel first does what a person would (Ctrl-C, then Ctrl-D at the prompt),
 * and if the process is still there, sends it SIGHUP from a second exec inside the
 * container (its in-container pid comes from /proc when the Engine is local).
 */
export async function endExec(
  docker: DockerClient,
  container: string,
  id: string,
  stream: HijackedStream,
) {
  const stillRunning = async (waitMs: number) => {
    const deadline = Date.now() + waitMs;
    while (true) {
      const info = await inspectExec(docker, id).catch(() => undefined);
      if (!info?.Running) return undefined;
      if (Date.now() >= deadline) return info;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  // Behind queued input to a process that reads nothing, this write could wait forever.
  await Promise.race([
    stream.write(new Uint8Array([3, 4])).catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, 500)),
  ]);
  let info = await stillRunning(500);
  for (const signal of ["HUP", "KILL"]) {
    if (!info) break;
    const pid = await containerPid(info.Pid);
    if (pid === undefined) break;
    try {
      const killer = await docker.json<{ Id: string }>(
        "POST",
        `/containers/${containerRef(container)}/exec`,
        {
          json: {
            AttachStdout: false,
            AttachStderr: false,
            Cmd: ["kill", `-${signal}`, String(pid)],
          },
        },
      );
      await docker.json("POST", `/exec/${execId(killer.Id)}/start`, { json: { Detach: true } });
    } catch {
      break; // no kill binary in this image; nothing more the panel can do
    }
    info = await stillRunning(500);
  }
  stream.close();
}
