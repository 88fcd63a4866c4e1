/**
 * "Exec shell": a terminal into a running container, in a large modal. xterm.js is loaded
 * (dynamic import) when this opens; the session is one WebSocket to
 * /ws/containers/{id}/exec: binary frames carry the PTY's bytes both ways, text frames are
 * JSON control messages (resize). Closing the modal closes the socket and the server ends
 * the shell. Changing the shell, Reconnect or Enter after the session ended start a new one.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { Modal } from "../shared/Modal.tsx";
import { enginePath } from "../env.ts";
import { stateLabel } from "./format.ts";
import type { ContainerView } from "./types.ts";
import type { XtermHandle } from "./xterm.ts";

export interface ExecTerminalProps {
  id: string;
  name: string;
  /** The row's current view; undefined once the container is gone. */
  container: ContainerView | undefined;
  onClose: () => void;
}

export type Status =
  | { phase: "loading" }
  | { phase: "connecting"; shell: string }
  | { phase: "connected"; shell: string; fallback: { path: string; exists: boolean } | null }
  | { phase: "exited"; code: number }
  | { phase: "closed"; reason: string }
  | { phase: "disconnected"; reason: string }
  | { phase: "failed"; reason: string };

type Choice = "sh" | "bash" | "custom";

const PRESETS: Record<Exclude<Choice, "custom">, string> = { sh: "/bin/sh", bash: "/bin/bash" };
/** The server's rule for the shell (lib/docker/exec.ts SHELL_PATH_RE, isShellPath). */
const SHELL_PATH_RE = /^\/(?:[A-Za-z0-9_.+-]+\/)*[A-Za-z0-9_.+-]+$/;
/** The server closes the socket on frames over 64 KiB; input goes out in 16 KiB frames. */
const MAX_FRAME_BYTES = 16 * 1024;
/** Typed before the socket opened: sent once it does, up to this much. */
const MAX_QUEUED_BYTES = 64 * 1024;
const SHELL_KEY = "cm.exec.shell";
const FALLBACK_RE = /(\/\S*) is not (an executable )?in this container; using (\/\S*) instead/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes a dim line of our own on a line of its own. The cursor column is only known once
 * the writes before it are parsed, hence the callback; `then` runs once the note is queued.
 */
function writeNote(term: XtermHandle["term"], text: string, then?: () => void) {
  term.write("", () => {
    const newline = term.buffer.active.cursorX > 0 ? "\r\n" : "";
    term.write(`${newline}\x1b[2m${text}\x1b[0m\r\n`);
    then?.();
  });
}

export function validShellPath(value: string): string | null {
  if (!value.startsWith("/")) return "An absolute path, like /bin/zsh.";
  if (!/^[A-Za-z0-9_.+/-]+$/.test(value)) {
    return "Letters, digits and . _ + - / only: a path, without arguments.";
  }
  if (value.split("/").includes("..")) return "No “..” in the path.";
  if (!SHELL_PATH_RE.test(value)) return "A path to a file: no “//”, no “/” at the end.";
  return null;
}

function choiceOf(shell: string): Choice {
  return shell === PRESETS.sh ? "sh" : shell === PRESETS.bash ? "bash" : "custom";
}

function initialShell(): string {
  try {
    const saved = localStorage.getItem(SHELL_KEY);
    if (saved && validShellPath(saved) === null) return saved;
  } catch {
    // storage disabled
  }
  return PRESETS.sh;
}

export function statusText(status: Status, size: string): string {
  switch (status.phase) {
    case "loading":
      return "Loading the terminal…";
    case "connecting":
      return `Connecting to ${status.shell}…`;
    case "connected":
      return `Connected · ${status.shell}${
        status.fallback
          ? status.fallback.exists
            ? ` (${status.fallback.path} is not an executable)`
            : ` (no ${status.fallback.path} in this container)`
          : ""
      }${size ? ` · ${size}` : ""}`;
    case "exited":
      return status.code === 0 ? "Session ended" : `Exited with code ${status.code}`;
    case "closed":
      return status.reason;
    case "disconnected":
      return `Disconnected: ${status.reason}`;
    case "failed":
      return `The terminal could not load: ${status.reason}`;
  }
}

const LIVE_CLASS: Record<Status["phase"], string> = {
  loading: "connecting",
  connecting: "connecting",
  connected: "live",
  exited: "ended",
  closed: "ended",
  disconnected: "error",
  failed: "error",
};

export function ExecTerminal({ id, name, container, onClose }: ExecTerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const [xterm, setXterm] = useState<XtermHandle | null>(null);
  const [status, setStatus] = useState<Status>({ phase: "loading" });
  const [shell, setShell] = useState(initialShell);
  const [choice, setChoice] = useState<Choice>(() => choiceOf(shell));
  const [draft, setDraft] = useState(() => choiceOf(shell) === "custom" ? shell : "");
  const [draftError, setDraftError] = useState<string | null>(null);
  /** Bumped to start a new session with the same shell. */
  const [session, setSession] = useState(0);
  const [size, setSize] = useState("");
  const [hasSelection, setHasSelection] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const noteTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const pathInput = useRef<HTMLInputElement>(null);
  /** The line to write between the old session and the next one. */
  const switchNote = useRef<string | null>(null);

  const flashNote = (text: string) => {
    setNote(text);
    clearTimeout(noteTimer.current);
    noteTimer.current = setTimeout(() => setNote(null), 1800);
  };
  useEffect(() => () => clearTimeout(noteTimer.current), []);

  const copySelection = (handle: XtermHandle | null = xterm) => {
    const text = handle?.term.getSelection() ?? "";
    if (!text) return;
    const fallback = () => {
      // Plain-HTTP origins have no async clipboard: copy through a textarea in the dialog
      // (the page behind the modal is inert).
      const area = document.createElement("textarea");
      area.value = text;
      area.className = "ct-term-copy-buffer";
      (host.current?.closest("dialog") ?? document.body).append(area);
      area.select();
      const copied = document.execCommand("copy");
      area.remove();
      handle?.term.focus();
      flashNote(copied ? "Copied" : "Copy failed: use the browser's copy");
    };
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).then(() => flashNote("Copied"), fallback);
    } else fallback();
  };
  const copyRef = useRef(copySelection);
  copyRef.current = copySelection;

  // Load xterm.js (its own chunk) and open the terminal once.
  useEffect(() => {
    let handle: XtermHandle | null = null;
    let disposed = false;
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => handle?.fit());
    });
    import("./xterm.ts").then(({ createXterm }) => {
      if (disposed) return;
      const opened = createXterm(host.current!);
      handle = opened;
      const { term } = opened;
      opened.fit();
      setSize(`${term.cols}×${term.rows}`);
      term.onResize(({ cols, rows }) => setSize(`${cols}×${rows}`));
      term.onSelectionChange(() => setHasSelection(term.hasSelection()));
      // Ctrl+Shift+C copies the selection; Ctrl+Shift+V is left to the browser, whose
      // paste event xterm turns into input (Ctrl+C and Ctrl+V stay the terminal's).
      term.attachCustomKeyEventHandler((e) => {
        if (!e.ctrlKey || !e.shiftKey || e.altKey || e.metaKey) return true;
        if (e.code === "KeyC") {
          if (e.type === "keydown") {
            e.preventDefault();
            copyRef.current(opened);
          }
          return false;
        }
        return e.code !== "KeyV";
      });
      observer.observe(host.current!);
      setXterm(opened);
    }).catch((error) => {
      if (!disposed) setStatus({ phase: "failed", reason: (error as Error).message });
    });
    return () => {
      disposed = true;
      observer.disconnect();
      cancelAnimationFrame(frame);
      handle?.dispose();
    };
  }, []);

  // One session per (terminal, shell, session counter).
  useEffect(() => {
    if (!xterm) return;
    const { term } = xterm;
    const url = new URL(enginePath(`/ws/containers/${encodeURIComponent(id)}/exec`), location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = new URLSearchParams({ cmd: shell }).toString();
    let socket: WebSocket | null = null;
    setStatus({ phase: "connecting", shell });
    let opened = false;
    let first = true;
    let ended = false;
    let cancelled = false;
    let queued: Uint8Array<ArrayBuffer>[] = [];
    let queuedBytes = 0;

    const sendBytes = (bytes: Uint8Array<ArrayBuffer>) => {
      for (let at = 0; at < bytes.length; at += MAX_FRAME_BYTES) {
        socket?.send(bytes.subarray(at, at + MAX_FRAME_BYTES));
      }
    };
    const input = (bytes: Uint8Array<ArrayBuffer>) => {
      if (socket?.readyState === WebSocket.OPEN) sendBytes(bytes);
      else if (!ended) {
        if (queuedBytes + bytes.length > MAX_QUEUED_BYTES) return;
        queued.push(bytes);
        queuedBytes += bytes.length;
      } else if (bytes.includes(13)) {
        setSession((n) => n + 1); // Enter after the session ended starts a new one
      }
    };
    const sendSize = () => {
      if (socket?.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    };
    const subscriptions = [
      term.onData((data) => input(encoder.encode(data))),
      term.onBinary((data) => input(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff))),
      term.onResize(sendSize),
    ];

    const connect = () => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      socket = ws;
      ws.onopen = () => {
        opened = true;
        xterm.fit();
        sendSize();
        for (const bytes of queued) sendBytes(bytes);
        queued = [];
        setStatus({ phase: "connected", shell, fallback: null });
        term.focus();
      };
      ws.onmessage = (event) => {
        if (!(event.data instanceof ArrayBuffer)) return; // no server→client control messages yet
        const bytes = new Uint8Array(event.data);
        if (first) {
          first = false;
          const fallback = FALLBACK_RE.exec(decoder.decode(bytes.subarray(0, 512)));
          if (fallback) {
            setStatus({
              phase: "connected",
              shell: fallback[3],
              fallback: { path: fallback[1], exists: fallback[2] !== undefined },
            });
          }
        }
        term.write(bytes);
      };
      ws.onclose = async (event) => {
        ended = true;
        const exit = /^Exited with code (\d+)$/.exec(event.reason);
        let next: Status;
        if (exit) next = { phase: "exited", code: Number(exit[1]) };
        else if (event.code === 1000) next = { phase: "closed", reason: event.reason || "Closed" };
        else if (event.reason) next = { phase: "disconnected", reason: event.reason };
        else if (opened) next = { phase: "disconnected", reason: "the connection was lost" };
        else {
          // Refused before the upgrade: the browser does not say why. A lapsed session is
          // the likely cause worth naming.
          const signedOut = await fetch("/api/auth/me", { credentials: "same-origin" })
            .then((r) => r.status === 401, () => false);
          if (cancelled) return;
          next = {
            phase: "disconnected",
            reason: signedOut ? "signed out; sign in again" : "could not connect to the panel",
          };
        }
        setStatus(next);
        writeNote(term, `[${statusText(next, "")}. Press Enter to start a new session.]`);
      };
    };
    // The old session's socket is detached by now, so nothing of it lands after the note.
    const note = switchNote.current;
    switchNote.current = null;
    if (note) writeNote(term, note, () => cancelled || connect());
    else connect();

    return () => {
      cancelled = true;
      for (const subscription of subscriptions) subscription.dispose();
      if (!socket) return;
      socket.onopen = socket.onmessage = socket.onclose = null;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(1000, "Closed by the user");
      }
    };
  }, [xterm, shell, session, id]);

  // Picking "Custom…" moves to the path field.
  useEffect(() => {
    if (choice === "custom") pathInput.current?.focus();
  }, [choice]);

  const live = status.phase === "connecting" || status.phase === "connected";
  const connectTo = (path: string) => {
    try {
      localStorage.setItem(SHELL_KEY, path);
    } catch {
      // storage disabled
    }
    if (path === shell && live) {
      xterm?.term.focus();
      return;
    }
    if (path === shell) setSession((n) => n + 1);
    else setShell(path);
    switchNote.current = `── ${path} ──`;
    xterm?.term.focus();
  };

  const ended = status.phase === "exited" || status.phase === "closed" ||
    status.phase === "disconnected";
  const running = container?.state === "running";
  const canPaste = typeof navigator !== "undefined" && !!navigator.clipboard?.readText;

  return (
    <Modal class="ct-modal ct-term" labelledBy="ct-term-title" onClose={onClose} keepOnBackdrop>
      <div class="ct-term-inner">
        <header class="ct-term-head">
          <div class="ct-term-title">
            <h2 id="ct-term-title" title={name}>
              <span class="ct-term-kind">Shell</span>
              {name}
            </h2>
            {container
              ? <span class={`pill state-${container.state}`}>{stateLabel(container)}</span>
              : <span class="pill state-removed">removed</span>}
          </div>
          <form
            class="ct-term-shell"
            onSubmit={(e) => {
              e.preventDefault();
              const path = draft.trim();
              const error = validShellPath(path);
              setDraftError(error);
              if (!error) {
                connectTo(path);
              }
            }}
          >
            <label class="ct-term-shell-label" for="ct-term-shell">Shell</label>
            <select
              id="ct-term-shell"
              value={choice}
              onChange={(e) => {
                const next = (e.target as HTMLSelectElement).value as Choice;
                setChoice(next);
                setDraftError(null);
                if (next !== "custom") {
                  connectTo(PRESETS[next]);
                }
              }}
            >
              <option value="sh">sh</option>
              <option value="bash">bash</option>
              <option value="custom">Custom…</option>
            </select>
            {choice === "custom" && (
              <>
                <input
                  type="text"
                  class="mono ct-term-path"
                  aria-label="Shell path"
                  aria-invalid={draftError ? "true" : undefined}
                  aria-describedby={draftError ? "ct-term-path-error" : undefined}
                  placeholder="/bin/zsh"
                  spellcheck={false}
                  autocomplete="off"
                  value={draft}
                  onInput={(e) => {
                    const value = (e.target as HTMLInputElement).value;
                    setDraft(value);
                    if (draftError) setDraftError(value ? validShellPath(value.trim()) : null);
                  }}
                  ref={pathInput}
                />
                <button type="submit" class="btn small">Open</button>
              </>
            )}
          </form>
          <div class="ct-term-tools">
            <button
              type="button"
              class="btn small"
              disabled={!hasSelection}
              title="Copy the selection (Ctrl+Shift+C)"
              onMouseDown={(e) =>
                e.preventDefault()}
              onClick={() =>
                copySelection()}
            >
              Copy
            </button>
            {canPaste && (
              <button
                type="button"
                class="btn small"
                disabled={status.phase !== "connected"}
                title="Paste into the shell (Ctrl+Shift+V)"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => {
                  navigator.clipboard.readText().then(
                    (text) => {
                      if (text) {
                        xterm?.term.paste(text);
                      }
                      xterm?.term.focus();
                    },
                    () =>
                      flashNote("The browser did not allow reading the clipboard"),
                  );
                }}
              >
                Paste
              </button>
            )}
          </div>
          <button
            type="button"
            class="ct-close ct-term-close"
            aria-label="Close"
            title="Close the terminal (ends the shell)"
            onClick={onClose}
          >
            ×
          </button>
        </header>
        {draftError && (
          <p class="ct-field-error ct-term-path-error" id="ct-term-path-error" role="alert">
            {draftError}
          </p>
        )}
        <div class="ct-term-screen">
          <div class="ct-term-host" ref={host} />
        </div>
        <footer class="ct-term-status">
          <span class={`ct-live ct-live-${LIVE_CLASS[status.phase]} ct-term-state`} role="status">
            <span class="dot" aria-hidden="true" />
            {statusText(status, size)}
          </span>
          {note && <span class="ct-term-note" role="status">{note}</span>}
          <span class="ct-term-hint muted">
            Ctrl+Shift+C copy · Ctrl+Shift+V paste · Esc goes to the shell
          </span>
          {ended && (
            <button
              type="button"
              class="btn small primary"
              title={running ? undefined : "The container is not running"}
              onClick={() => {
                setSession((n) => n + 1);
                xterm?.term.focus();
              }}
            >
              Reconnect
            </button>
          )}
        </footer>
      </div>
    </Modal>
  );
}
