/** Decoders for the Engine's streaming bodies. */

/** Yields one parsed value per line of an NDJSON body (pull progress, events). */
export async function* ndjson<T = unknown>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parseLine<T>(line);
    }
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield parseLine<T>(buffered.trim());
}

/** A line of an NDJSON stream that is not JSON: the stream is malformed. */
export class MalformedStreamError extends Error {
  override name = "MalformedStreamError";
}

function parseLine<T>(line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new MalformedStreamError(
      `Docker Engine sent a malformed stream line: ${line.slice(0, 200)}`,
    );
  }
}

export type StreamName = "stdin" | "stdout" | "stderr";
export interface Frame {
  stream: StreamName;
  data: Uint8Array;
}

const STREAM_NAMES: Record<number, StreamName> = { 0: "stdin", 1: "stdout", 2: "stderr" };

/**
 * Splits a multiplexed (non-TTY) stream into frames. Each frame has an 8-byte header:
 * [stream type, 0, 0, 0, size as big-endian uint32], then `size` bytes of payload.
 */
export async function* demux(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  let buffered: Uint8Array = new Uint8Array(0);
  for await (const chunk of body) {
    buffered = buffered.length === 0 ? chunk : concatBytes(buffered, chunk);
    while (buffered.length >= 8) {
      const stream = STREAM_NAMES[buffered[0]];
      if (!stream) {
        throw new MalformedStreamError(
          `Unknown stream type ${buffered[0]} in a multiplexed stream`,
        );
      }
      const size = new DataView(buffered.buffer, buffered.byteOffset, 8).getUint32(4);
      if (buffered.length < 8 + size) break;
      yield { stream, data: buffered.slice(8, 8 + size) };
      buffered = buffered.subarray(8 + size);
    }
  }
  if (buffered.length > 0) {
    throw new MalformedStreamError("A multiplexed stream ended in the middle of a frame");
  }
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * The same bytes as `body`, with a `cancel` that works while a read is pending: the pending
 * read ends (the consumer sees the end of the stream) and the Engine connection is closed.
 * A body that an async iterator holds cannot be cancelled by itself (it is locked), and
 * aborting the request's signal does not reliably close a response that is already open.
 */
export function cancellableBody(
  body: ReadableStream<Uint8Array>,
): { stream: ReadableStream<Uint8Array>; cancel(): void } {
  const reader = body.getReader();
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    reader.cancel().catch(() => {});
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (!cancelled) controller.error(error);
        else controller.close();
        return;
      }
      if (chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    cancel,
  }, { highWaterMark: 0 });
  return { stream, cancel };
}
