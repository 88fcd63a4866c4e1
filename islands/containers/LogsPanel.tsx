/**
 * Logs: the last lines (how many, and since when, chosen in the bar), then new ones as they
 * come (SSE); for a compose service, optionally the whole stack's logs with each line's
 * service. Pause holds new lines back
 * without losing them; search highlights or filters; the buffer keeps at most 5000 lines.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api.ts";
import { openStream } from "./sse.ts";
import type { LogLine } from "./types.ts";

export const LOG_TAIL = 500;
export const LOG_CAP = 5000;
const FLUSH_MS = 100;
// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]/g;

interface Line extends LogLine {
  seq: number;
  service?: string;
}

export const TAIL_CHOICES = [100, 500, 2000, 10000] as const;
export const SINCE_CHOICES = [
  ["", "any time"],
  ["15m", "15 minutes"],
  ["1h", "1 hour"],
  ["6h", "6 hours"],
  ["24h", "24 hours"],
  ["7d", "7 days"],
] as const;

type Status = "loading" | "connecting" | "live" | "stopped" | "reconnecting" | "error";

export interface LogsPanelProps {
  id: string;
  name: string;
  running: boolean;
  /** When it changes (a restart), following starts again. */
  startedAt: string | null;
  /** The compose project of the container, which offers the whole stack's logs. */
  project?: string | null;
}

export function LogsPanel({ id, name, running, startedAt, project }: LogsPanelProps) {
  const [tail, setTail] = useState<number>(LOG_TAIL);
  const [since, setSince] = useState("");
  const [wrap, setWrap] = useState(true);
  const [stack, setStack] = useState(false);
  const base = stack && project
    ? `/api/containers/stack/${encodeURIComponent(project)}/logs`
    : `/api/containers/${encodeURIComponent(id)}/logs`;
  const range = `tail=${tail}${since ? `&since=${since}` : ""}&timestamps=1`;
  const [lines, setLines] = useState<Line[]>([]);
  const [dropped, setDropped] = useState(0);
  const [status, setStatus] = useState<Status>("loading");
  const [error, setError] = useState("");
  const [loaded, setLoaded] = useState(false);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [query, setQuery] = useState("");
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [timestamps, setTimestamps] = useState(true);
  const [atBottom, setAtBottom] = useState(true);
  const [retry, setRetry] = useState(0);

  const seq = useRef(0);
  const incoming = useRef<Line[]>([]);
  const heldLines = useRef<Line[]>([]);
  const pausedRef = useRef(false);
  const flushTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  /** The newest line's timestamp per service ("" for one container), as a sortable key. */
  const lastKey = useRef(new Map<string, string>());

  const toLine = (line: LogLine & { service?: string }): Line => ({
    stream: line.stream === "stderr" ? "stderr" : "stdout",
    text: line.text.replace(/\r?\n$/, "").replace(ANSI, ""),
    ts: line.ts,
    seq: ++seq.current,
    service: line.service,
  });

  const append = (batch: Line[]) => {
    if (!batch.length) return;
    setLines((previous) => {
      const next = previous.concat(batch);
      if (next.length <= LOG_CAP) return next;
      setDropped((n) => n + next.length - LOG_CAP);
      return next.slice(next.length - LOG_CAP);
    });
  };

  // The last lines first.
  useEffect(() => {
    let cancelled = false;
    setLoaded(false);
    setStatus("loading");
    setError("");
    setDropped(0);
    api<{ lines: LogLine[] }>("GET", `${base}?${range}`).then((answer) => {
      if (cancelled) return;
      const initial = answer.lines.map(toLine);
      lastKey.current = new Map();
      for (const line of initial) {
        const key = tsKey(line.ts);
        if (key !== null) lastKey.current.set(line.service ?? "", key);
      }
      setLines(initial);
      setLoaded(true);
      setStatus("stopped");
    }).catch((e) => {
      if (cancelled) return;
      setError((e as Error).message);
      setStatus("error");
    });
    return () => {
      cancelled = true;
      clearTimeout(flushTimer.current);
    };
  }, [id, base, range]);

  // Then follow while the container runs (again after each restart).
  useEffect(() => {
    if (!loaded || !running) {
      if (loaded) setStatus("stopped");
      return;
    }
    setStatus("connecting");
    // Following asks for the tail again and drops what is already shown (by timestamp), so
    // nothing is lost between the first read and the stream, nor across a restart.
    const url = `${base}?${range}&follow=1`;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const close = openStream(url, {
      line: (line: LogLine & { service?: string }) => {
        const key = tsKey(line.ts);
        const last = lastKey.current.get(line.service ?? "");
        if (key !== null && last !== undefined && key <= last) return;
        if (key !== null) lastKey.current.set(line.service ?? "", key);
        const parsed = toLine(line);
        if (pausedRef.current) {
          heldLines.current.push(parsed);
          if (heldLines.current.length > LOG_CAP) heldLines.current.shift();
          setHeld(heldLines.current.length);
          return;
        }
        incoming.current.push(parsed);
        flushTimer.current ??= setTimeout(() => {
          flushTimer.current = undefined;
          const batch = incoming.current;
          incoming.current = [];
          append(batch);
        }, FLUSH_MS);
      },
      // The container stopped (or the stream broke off): stop here rather than let the
      // browser ask again forever. Following resumes when the container runs again.
      end: () => {
        close();
        setStatus("stopped");
        retryTimer = setTimeout(() => setRetry((n) => n + 1), 3000);
      },
    }, {
      onOpen: () => setStatus("live"),
      onDown: () => {
        close();
        setStatus("reconnecting");
        retryTimer = setTimeout(() => setRetry((n) => n + 1), 3000);
      },
    });
    return () => {
      close();
      clearTimeout(retryTimer);
    };
  }, [id, loaded, running, startedAt, retry, base, range]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [lines, onlyMatches, query, timestamps]);

  const togglePause = () => {
    const next = !paused;
    pausedRef.current = next;
    setPaused(next);
    if (!next) {
      append(heldLines.current);
      heldLines.current = [];
      setHeld(0);
    }
  };

  const onScroll = () => {
    const element = scroller.current!;
    const bottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
    stick.current = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
  };

  const jumpToEnd = () => {
    stick.current = true;
    setAtBottom(true);
    const element = scroller.current!;
    element.scrollTop = element.scrollHeight;
  };

  const download = () => {
    const text = lines.map((line) =>
      `${line.ts ? `${line.ts} ` : ""}${line.service ? `${line.service} | ` : ""}${line.text}`
    ).join("\n");
    const url = URL.createObjectURL(new Blob([text + "\n"], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.log`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const needle = query.trim().toLowerCase();
  const matches = useMemo(
    () => needle ? lines.filter((line) => line.text.toLowerCase().includes(needle)).length : 0,
    [lines, needle],
  );
  const visible = needle && onlyMatches
    ? lines.filter((line) => line.text.toLowerCase().includes(needle))
    : lines;

  return (
    <div class="ct-logs">
      <div class="ct-logs-bar">
        <input
          type="search"
          class="ct-logs-search"
          placeholder="Search in these lines"
          aria-label="Search the logs"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        {needle && (
          <span class="muted ct-logs-count" aria-live="polite">
            {matches} {matches === 1 ? "line" : "lines"}
          </span>
        )}
        <label class="ct-check">
          <input
            type="checkbox"
            checked={onlyMatches}
            onChange={(e) => setOnlyMatches((e.target as HTMLInputElement).checked)}
          />
          Only matching
        </label>
        <label class="ct-check">
          <input
            type="checkbox"
            checked={timestamps}
            onChange={(e) => setTimestamps((e.target as HTMLInputElement).checked)}
          />
          Timestamps
        </label>
        <label class="ct-check">
          <input
            type="checkbox"
            checked={wrap}
            onChange={(e) => setWrap((e.target as HTMLInputElement).checked)}
          />
          Wrap
        </label>
        <select
          class="ct-logs-select"
          aria-label="How many lines"
          value={String(tail)}
          onChange={(e) => setTail(Number((e.target as HTMLSelectElement).value))}
        >
          {TAIL_CHOICES.map((n) => <option key={n} value={String(n)}>last {n} lines</option>)}
        </select>
        <select
          class="ct-logs-select"
          aria-label="Since"
          value={since}
          onChange={(e) => setSince((e.target as HTMLSelectElement).value)}
        >
          {SINCE_CHOICES.map(([value, label]) => (
            <option key={value} value={value}>{value ? `since ${label} ago` : label}</option>
          ))}
        </select>
        {project && (
          <label class="ct-check" title={`Every container of compose project ${project}`}>
            <input
              type="checkbox"
              checked={stack}
              onChange={(e) => setStack((e.target as HTMLInputElement).checked)}
            />
            Whole stack
          </label>
        )}
        <span class="ct-logs-spacer" />
        <StatusDot status={paused && status === "live" ? "paused" : status} />
        <button
          type="button"
          class="btn small"
          onClick={togglePause}
          disabled={status === "loading" || status === "error"}
          aria-pressed={paused}
        >
          {paused ? `Resume${held ? ` (${held} new)` : ""}` : "Pause"}
        </button>
        <button type="button" class="btn small" onClick={download} disabled={!lines.length}>
          Download
        </button>
      </div>
      {error && <div class="notice error" role="alert">{error}</div>}
      <div
        class={`ct-logs-view${wrap ? "" : " is-nowrap"}`}
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
      >
        {dropped > 0 && (
          <div class="ct-logs-note">
            {dropped} older {dropped === 1 ? "line was" : "lines were"}{" "}
            dropped: the view keeps the last {LOG_CAP}. Download keeps what is shown.
          </div>
        )}
        {status !== "loading" && lines.length === 0 && !error && (
          <div class="ct-logs-note">No output{running ? " yet" : ""}.</div>
        )}
        {visible.map((line) => (
          <div
            key={line.seq}
            class={`ct-log-line${line.stream === "stderr" ? " is-stderr" : ""}`}
            data-stream={line.stream}
          >
            {timestamps && (
              <span class="ct-log-ts" title={line.ts ?? undefined}>{fullTime(line.ts)}</span>
            )}
            {line.service !== undefined && (
              <span class="ct-log-service" title={line.service}>{line.service}</span>
            )}
            <span class="ct-log-text">{needle ? highlight(line.text, needle) : line.text}</span>
          </div>
        ))}
      </div>
      {!atBottom && (
        <button type="button" class="btn small ct-logs-jump" onClick={jumpToEnd}>
          ↓ Latest
        </button>
      )}
    </div>
  );
}

function StatusDot({ status }: { status: Status | "paused" }) {
  const text = {
    loading: "Loading…",
    connecting: "Connecting…",
    live: "Following",
    paused: "Paused",
    stopped: "Not running",
    reconnecting: "Reconnecting…",
    error: "Failed",
  }[status];
  return (
    <span class={`ct-live ct-live-${status}`} role="status">
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

/**
 * "2024-05-01T10:00:00.5Z" → "2024-05-01T10:00:00.500000000": the Engine trims trailing zeros
 * of its nanoseconds, so its timestamps only sort as text once padded.
 */
export function tsKey(ts: string | null): string | null {
  const match = ts ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts) : null;
  return match ? `${match[1]}.${(match[2] ?? "").padEnd(9, "0")}` : null;
}

/** The local date and time of a line, to the millisecond: "2026-01-31 14:05:09.123". */
function fullTime(ts: string | null): string {
  if (!ts) return "";
  const ms = Date.parse(ts.replace(/(\.\d{3})\d+/, "$1"));
  if (!Number.isFinite(ms)) return ts;
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${
    pad(date.getHours())
  }:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function highlight(text: string, needle: string): ComponentChildren {
  const lower = text.toLowerCase();
  const parts: ComponentChildren[] = [];
  let from = 0;
  let at = lower.indexOf(needle);
  if (at < 0) return text;
  while (at >= 0) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push(<mark>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
    at = lower.indexOf(needle, from);
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}
