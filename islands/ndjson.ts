/**
 * The server ended the stream early: `{"stream_closed": reason}` is its last line (the
 * browser was not reading fast enough, for example). The operation itself goes on.
 */
export class StreamClosedError extends Error {
  constructor(readonly reason: string) {
    super(`Stream closed: ${reason}`);
  }
}

/**
 * Reads an NDJSON response body (pull and deploy progress), calling `onLines` once per
 * chunk with the lines it completed. A line that is not a JSON object goes through
 * `fallback`, so nothing the server says is lost. The server's end marker is thrown as a
 * StreamClosedError after the lines before it.
 */
export async function readNdjson<T>(
  body: ReadableStream<Uint8Array>,
  onLines: (lines: T[]) => void,
  fallback: (text: string) => T,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const parse = (text: string): T => {
    try {
      const value = JSON.parse(text);
      return value && typeof value === "object" ? value as T : fallback(String(value));
    } catch {
      return fallback(text.slice(0, 300));
    }
  };
  const deliver = (texts: string[]) => {
    const lines: T[] = [];
    for (const text of texts) {
      const closed = closedReason(text);
      if (closed !== undefined) {
        if (lines.length) onLines(lines);
        throw new StreamClosedError(closed);
      }
      lines.push(parse(text));
    }
    if (lines.length) onLines(lines);
  };
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      deliver(parts.map((part) => part.trim()).filter(Boolean));
    }
    buffered += decoder.decode();
    if (buffered.trim()) deliver([buffered.trim()]);
  } finally {
    reader.releaseLock();
  }
}

function closedReason(text: string): string | undefined {
  if (!text.startsWith('{"stream_closed"')) return undefined;
  try {
    const reason = JSON.parse(text).stream_closed;
    return typeof reason === "string" ? reason : undefined;
  } catch {
    return undefined;
  }
}
