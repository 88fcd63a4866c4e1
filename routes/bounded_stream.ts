/**
 * The body of every streamed response (SSE and NDJSON): a pull-based ReadableStream with a
 * bounded queue. Deno reads the body only as fast as the client takes it, so a client
 * that stops reading makes the queue fill up instead of the panel's memory:
 *
 * - `write` resolves once the queue is below its high-water mark again. A producer that
 *   can wait (following logs) awaits it, so it reads its upstream at the client's pace.
 * - A producer that must not wait (a hub fanning out to many clients) does not await it;
 *   the queue's hard cap still bounds what one slow client can hold.
 * - A client that takes nothing for `maxBlockedMs` while the queue is full, or whose queue
 *   would pass `maxQueuedBytes`, is dropped: what is queued is discarded, the stream ends
 *   with a marker saying why, and `signal` aborts so the producer releases its upstream.
 */

export interface BoundedStreamOptions {
  /** The last bytes of a stream dropped for `reason`: an SSE event, an NDJSON line. */
  marker(reason: string): string;
  /** `write` waits while this much is queued. Default 64 KiB. */
  highWaterBytes?: number;
  /** A client whose queue would grow past this is dropped. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** A client that takes nothing for this long while its queue is full is dropped. Default 20 s. */
  maxBlockedMs?: number;
  /** Called once when a client is dropped (for the panel's log). */
  onDrop?(reason: string): void;
}

export interface BoundedStream {
  readonly body: ReadableStream<Uint8Array>;
  /** Aborts when the stream ends for any reason: closed, dropped, or the client went away. */
  readonly signal: AbortSignal;
  /**
   * Queues `text`. Resolves `true` once there is room for more, `false` once the stream
   * has ended (stop producing). Never rejects.
   */
  write(text: string): Promise<boolean>;
  /** Ends the stream after what is queued. */
  close(): void;
  /** Ends the stream now: what is queued is discarded and the marker for `reason` sent. */
  drop(reason: string): void;
}

export const SLOW_CLIENT_REASON = "the browser was not reading fast enough";

const HIGH_WATER_BYTES = 64 * 1024;
const MAX_QUEUED_BYTES = 1024 * 1024;
const MAX_BLOCKED_MS = 20_000;
/** A stream that has ended but whose client still takes nothing is cut off after this. */
const DRAIN_GRACE_MS = 120_000;
/** Queued writes are handed to Deno in chunks of up to this size. */
const CHUNK_BYTES = 64 * 1024;

export function boundedStream(options: BoundedStreamOptions): BoundedStream {
  const highWater = options.highWaterBytes ?? HIGH_WATER_BYTES;
  const maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  const maxBlockedMs = options.maxBlockedMs ?? MAX_BLOCKED_MS;
  const encoder = new TextEncoder();
  const ended = new AbortController();
  let queue: Uint8Array[] = [];
  let queued = 0;
  /** No more writes: the queue drains, then the body closes. */
  let closing = false;
  let finished = false;
  let wakeReader: (() => void) | undefined;
  let waiters: (() => void)[] = [];
  let blockedTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const wake = () => {
    const reader = wakeReader;
    wakeReader = undefined;
    reader?.();
  };

  const releaseWriters = () => {
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve();
  };

  /** While the queue is full, the clock runs; a client that drains stops it. */
  const watchBlocked = () => {
    if (queued >= highWater && !closing) {
      blockedTimer ??= setTimeout(() => drop(SLOW_CLIENT_REASON), maxBlockedMs);
    } else {
      clearTimeout(blockedTimer);
      blockedTimer = undefined;
    }
  };

  /** Stops accepting writes; the body closes once the client has taken what is left. */
  const endWrites = () => {
    closing = true;
    watchBlocked();
    releaseWriters();
    if (!ended.signal.aborted) ended.abort();
    if (queued > 0 && !finished) {
      graceTimer = setTimeout(() => {
        finish();
        try {
          controller.error(new Error("The client took nothing after the stream ended"));
        } catch {
          // already closed
        }
      }, DRAIN_GRACE_MS);
    }
    wake();
  };

  const finish = () => {
    finished = true;
    closing = true;
    queue = [];
    queued = 0;
    clearTimeout(graceTimer);
    watchBlocked();
    releaseWriters();
    if (!ended.signal.aborted) ended.abort();
  };

  function drop(reason: string) {
    if (closing) return;
    queue = [encoder.encode(options.marker(reason))];
    queued = queue[0].length;
    options.onDrop?.(reason);
    endWrites();
  }

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      while (queue.length === 0) {
        if (closing) {
          finish();
          try {
            c.close();
          } catch {
            // cancelled meanwhile
          }
          return;
        }
        await new Promise<void>((resolve) => wakeReader = resolve);
      }
      let size = 0;
      let count = 0;
      while (count < queue.length && (count === 0 || size + queue[count].length <= CHUNK_BYTES)) {
        size += queue[count++].length;
      }
      const parts = queue.splice(0, count);
      queued -= size;
      c.enqueue(count === 1 ? parts[0] : concat(parts, size));
      if (queued < highWater) releaseWriters();
      watchBlocked();
    },
    cancel() {
      finish();
      wake();
    },
  }, { highWaterMark: 0 });

  return {
    body,
    signal: ended.signal,
    write(text) {
      if (closing) return Promise.resolve(false);
      const bytes = encoder.encode(text);
      if (queued > 0 && queued + bytes.length > maxQueued) {
        drop(SLOW_CLIENT_REASON);
        return Promise.resolve(false);
      }
      queue.push(bytes);
      queued += bytes.length;
      wake();
      watchBlocked();
      if (queued < highWater) return Promise.resolve(true);
      return new Promise((resolve) => waiters.push(() => resolve(!closing)));
    },
    close() {
      if (!closing) endWrites();
    },
    drop,
  };
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
