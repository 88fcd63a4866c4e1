/**
 * Reads an NDJSON response body (pull and deploy progress), calling `onLines` once per
 * chunk with the lines it completed. A line that is not a JSON object goes through
 * `fallback`, so nothing the server says is lost.
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
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      const lines = parts.map((part) => part.trim()).filter(Boolean).map(parse);
      if (lines.length) onLines(lines);
    }
    buffered += decoder.decode();
    if (buffered.trim()) onLines([parse(buffered.trim())]);
  } finally {
    reader.releaseLock();
  }
}
