/**
 * docker.exec: one exec session over a WebSocket, start to end, so its single audit row
 * carries the user, container, command, exit code and duration (never keystrokes or
 * output).
 *
 * Wire protocol (the same as the Web Terminal): binary frames are raw PTY bytes both ways;
 * text frames are JSON control messages, today only {"type":"resize","cols":N,"rows":N}.
 */
import type { DockerClient } from "../../docker/client.ts";
import { inspectContainer } from "../../docker/containers.ts";
import {
  createExec,
  endExec,
  inspectExec,
  isShellPath,
  resizeExec,
  shellPathKind,
  startExec,
} from "../../docker/exec.ts";
import { DockerError, DockerUnreachableError } from "../../docker/errors.ts";
import type { HijackedStream } from "../../docker/hijack.ts";
import { HttpError, ProcessExitError, ValidationError } from "../../errors.ts";
import type { Handlers } from "../dispatch.ts";

export const DEFAULT_SHELL = "/bin/sh";
export const MAX_FRAME_BYTES = 64 * 1024;
/** Output waits while this much is queued in the WebSocket, so a fast producer can't grow memory. */
const SEND_HIGH_WATER = 1024 * 1024;
/** Keystrokes that arrive before the exec is attached are held, up to this much. */
const MAX_EARLY_INPUT_BYTES = 64 * 1024;
/**
 * Input written to the exec but not yet taken by it. A process that reads nothing (a busy
 * foreground command) stops taking input; past this the session ends instead of growing.
 */
export const MAX_QUEUED_INPUT_BYTES = 1024 * 1024;
const CLOSE_NORMAL = 1000;
const CLOSE_POLICY = 1008;
const CLOSE_TOO_BIG = 1009;
const CLOSE_ERROR = 1011;

const encoder = new TextEncoder();
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Resize {
  cols: number;
  rows: number;
}

/** A valid resize message, or undefined (the caller logs and ignores it). */
export function parseResize(text: string): Resize | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { type, cols, rows } = (message ?? {}) as Record<string, unknown>;
  const valid = (n: unknown): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 1000;
  return type === "resize" && valid(cols) && valid(rows) ? { cols, rows } : undefined;
}

/**
 * Why the panel itself closed a terminal's socket (a session's end, a shutdown), set by the
 * route before it closes: a socket closed without an entry here was closed by the browser.
 */
export const panelCloseReasons = new WeakMap<WebSocket, string>();

function closeSocket(socket: WebSocket, code: number, reason: string) {
  if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
    socket.close(code, reason.slice(0, 120));
  }
}

/**
 * The exec's state once its stream has ended. An Engine that stopped answering, or that
 * answers but no longer knows the exec (exec instances do not survive a restart), went
 * away under the session: that is said plainly, for the close reason and the audit row.
 */
async function inspectAfterStream(docker: DockerClient, exec: string) {
  try {
    return await inspectExec(docker, exec);
  } catch (error) {
    const gone = error instanceof DockerUnreachableError ||
      (error instanceof DockerError && error.daemonStatus === 404);
    if (!gone) throw error;
    throw new HttpError(503, "The Docker Engine went away (restarting?); the session ended");
  }
}

export function execHandlers(docker: DockerClient, log: (message: string) => void): Handlers {
  return {
    "docker.exec": async ({ target, params, attachment }) => {
      const socket = attachment as WebSocket;
      if (!socket) throw new HttpError(400, "docker.exec needs a WebSocket");
      const requested = typeof params.cmd === "string" ? params.cmd : DEFAULT_SHELL;
      if (!isShellPath(requested)) {
        throw new ValidationError("cmd must be an absolute path to an executable", "cmd");
      }

      // Installed before the first await, so nothing the browser sends early is lost.
      let stream: HijackedStream | undefined;
      let exec: string | undefined;
      let pendingResize: Resize | undefined;
      let earlyInput: Uint8Array[] = [];
      let earlyInputBytes = 0;
      let earlyInputDropped = false;
      let socketClosed = false;
      /** The handler closed the socket itself because the session broke a limit. */
      let policyClosed = false;
      let queuedInput = 0;
      /** Writes input to the exec, or ends the session when too much of it is waiting. */
      const writeInput = (bytes: Uint8Array) => {
        if (queuedInput + bytes.length > MAX_QUEUED_INPUT_BYTES) {
          socketClosed = true;
          policyClosed = true;
          log(`exec ${target}: closed, ${queuedInput} bytes of input were not being read`);
          closeSocket(
            socket,
            CLOSE_POLICY,
            "Too much input queued: the process in the container is not reading it",
          );
          return;
        }
        queuedInput += bytes.length;
        stream!.write(bytes).catch(() => {}).finally(() => queuedInput -= bytes.length);
      };
      const applyResize = (size: Resize) => {
        if (!exec) pendingResize = size;
        else resizeExec(docker, exec, size.rows, size.cols).catch(() => {});
      };
      socket.onmessage = (event) => {
        if (socketClosed) return;
        const size = typeof event.data === "string"
          ? encoder.encode(event.data).byteLength
          : (event.data as ArrayBuffer).byteLength;
        if (size > MAX_FRAME_BYTES) {
          policyClosed = true;
          closeSocket(socket, CLOSE_TOO_BIG, `Frame larger than ${MAX_FRAME_BYTES} bytes`);
          return;
        }
        if (typeof event.data === "string") {
          const resize = parseResize(event.data);
          if (resize) applyResize(resize);
          else log(`exec ${target}: ignored an invalid control message`);
        } else {
          const bytes = new Uint8Array(event.data as ArrayBuffer);
          if (stream) writeInput(bytes);
          else if (earlyInputDropped) return;
          else if (earlyInputBytes + bytes.length <= MAX_EARLY_INPUT_BYTES) {
            earlyInput.push(bytes);
            earlyInputBytes += bytes.length;
          } else {
            // All or nothing after this: a command with a hole in it must not reach the shell.
            earlyInputDropped = true;
            log(`exec ${target}: dropped input sent before the shell started`);
          }
        }
      };
      const socketGone = new Promise<void>((resolve) => {
        socket.onclose = () => {
          socketClosed = true;
          resolve();
        };
      });

      try {
        const info = await inspectContainer(docker, target);
        const name = info.Name.replace(/^\//, "");
        if (!info.State.Running) throw new HttpError(409, `Container ${name} is not running`);
        let cmd = requested;
        let notice = "";
        const kind = cmd === DEFAULT_SHELL
          ? "executable"
          : await shellPathKind(docker, info.Id, cmd);
        if (kind !== "executable") {
          const what = kind === "missing" ? "is not in" : "is not an executable in";
          notice = `${cmd} ${what} this container; using ${DEFAULT_SHELL} instead.`;
          cmd = DEFAULT_SHELL;
        }
        exec = await createExec(docker, info.Id, [cmd]);
        stream = await startExec(docker, exec);
        if (pendingResize) applyResize(pendingResize);
        // Input of a browser that has already gone is not run.
        if (!socketClosed) { for (const bytes of earlyInput) writeInput(bytes); }
        earlyInput = [];
        if (notice) socket.send(encoder.encode(`\x1b[33m${notice}\x1b[0m\r\n`));

        const pump = (async () => {
          for await (const chunk of stream.readable) {
            if (socket.readyState !== WebSocket.OPEN) break;
            socket.send(chunk as Uint8Array<ArrayBuffer>);
            while (
              socket.bufferedAmount > SEND_HIGH_WATER && socket.readyState === WebSocket.OPEN
            ) await delay(5);
          }
        })();
        await Promise.race([pump, socketGone]);
        // Either the process ended or the client went away; in the second case the Engine
        // would keep the process running, so end it. Ending it makes the shell exit with a
        // code of its own (130 after the ^C endExec sends): that is not the session failing.
        const execNow = () => inspectAfterStream(docker, exec!);
        let closedReason: string | undefined;
        if ((await execNow()).Running && socket.readyState !== WebSocket.OPEN) {
          closedReason = panelCloseReasons.get(socket) ?? "Closed by the user";
          await endExec(docker, info.Id, exec, stream);
        }
        stream.close();

        let result = await execNow();
        for (let i = 0; result.Running && i < 20; i++) {
          await delay(50);
          result = await execNow();
        }
        const exitCode = result.Running ? null : result.ExitCode ?? null;
        const fallback = notice !== "";
        if (closedReason !== undefined && !policyClosed) {
          return { cmd, ended: "closed", reason: closedReason, fallback };
        }
        closeSocket(
          socket,
          CLOSE_NORMAL,
          exitCode === null ? "Session closed" : `Exited with code ${exitCode}`,
        );
        // The row names the shell that ran (after a fallback, not the one asked for).
        if (exitCode) throw new ProcessExitError(exitCode, cmd);
        // exit_code null: the process outlived its stream and was left to the Engine.
        return {
          cmd,
          ended: exitCode === null ? "detached" : "exited",
          exit_code: exitCode,
          fallback,
        };
      } catch (error) {
        stream?.close();
        if (!(error instanceof ProcessExitError)) {
          const message = error instanceof Error ? error.message : String(error);
          closeSocket(
            socket,
            error instanceof HttpError && error.status < 500 ? CLOSE_POLICY : CLOSE_ERROR,
            message,
          );
        }
        throw error;
      }
    },
  };
}
