/**
 * Reading a log as the panel serves it: the query options (tail, follow, timestamps, since)
 * checked the same way for containers and swarm services, and the Engine's log body split
 * into lines marked stdout or stderr.
 */
import type { Context } from "hono";
import { demux } from "../../lib/docker/streams.ts";
import { ValidationError } from "../../lib/errors.ts";

const MAX_TAIL = 10_000;

export function logOptions(c: Context) {
  const tailText = c.req.query("tail") ?? "200";
  if (!/^\d{1,6}$/.test(tailText) || Number(tailText) > MAX_TAIL) {
    throw new ValidationError(`tail must be a number from 0 to ${MAX_TAIL}`, "tail");
  }
  const flag = (name: string) => {
    const value = c.req.query(name);
    if (value !== undefined && value !== "0" && value !== "1") {
      throw new ValidationError(`${name} must be 0 or 1`, name);
    }
    return value === "1";
  };
  return {
    tail: Number(tailText),
    follow: flag("follow"),
    timestamps: flag("timestamps"),
    since: sinceOf(c.req.query("since")),
  };
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `since` as the Engine takes it (Unix seconds): "15m", "24h", an ISO date, or Unix seconds. */
export function sinceOf(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === "") return undefined;
  const duration = value.match(/^(\d{1,6})([smhd])$/);
  if (duration) {
    return Math.floor(now / 1000) - Number(duration[1]) * DURATION_UNITS[duration[2]];
  }
  if (/^\d{1,12}$/.test(value)) return Number(value);
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : NaN;
  if (Number.isFinite(time)) return Math.floor(time / 1000);
  throw new ValidationError(
    "since must be a duration like 15m, 1h or 2d, a date (2026-01-31T12:00:00Z) or Unix seconds",
    "since",
  );
}

export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
  ts: string | null;
}

/**
 * Splits the Engine's log body into lines marked stdout or stderr. A TTY container's log
 * is one raw stream (all stdout); otherwise frames are demultiplexed.
 */
export async function* logLines(
  body: ReadableStream<Uint8Array>,
  tty: boolean,
  timestamps: boolean,
): AsyncGenerator<LogLine> {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const pending = { stdout: "", stderr: "" };
  const frames = tty
    ? (async function* () {
      for await (const data of body) yield { stream: "stdout" as const, data };
    })()
    : demux(body);
  const split = (stream: "stdout" | "stderr", text: string): LogLine => {
    if (!timestamps) return { stream, text, ts: null };
    const space = text.indexOf(" ");
    return space > 0
      ? { stream, ts: text.slice(0, space), text: text.slice(space + 1) }
      : { stream, text, ts: null };
  };
  for await (const frame of frames) {
    if (frame.stream === "stdin") continue;
    pending[frame.stream] += decoders[frame.stream].decode(frame.data, { stream: true });
    let newline: number;
    while ((newline = pending[frame.stream].indexOf("\n")) >= 0) {
      yield split(frame.stream, pending[frame.stream].slice(0, newline).replace(/\r$/, ""));
      pending[frame.stream] = pending[frame.stream].slice(newline + 1);
    }
  }
  for (const stream of ["stdout", "stderr"] as const) {
    if (pending[stream]) yield split(stream, pending[stream]);
  }
}

/** An error's message for a log line of the panel's own. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
