/**
 * Just enough tar for the Engine's archive API: reading the entries of a stream (ustar,
 * GNU long names and PAX headers, as Go's archive/tar writes them) and writing a one-file
 * archive for an upload.
 */

const BLOCK = 512;

export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface TarHeader {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkTarget: string;
}

/** Reads exactly the bytes asked for from a byte stream, buffering what is left over. */
class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer: Uint8Array = new Uint8Array(0);
  /** Bytes consumed from the stream so far. */
  consumed = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Up to `max` bytes (fewer only at the end of the stream; empty at its end). */
  async read(max: number): Promise<Uint8Array> {
    while (this.#buffer.length === 0) {
      const chunk = await this.#reader.read();
      if (chunk.done) return new Uint8Array(0);
      this.#buffer = chunk.value;
    }
    const out = this.#buffer.subarray(0, Math.min(max, this.#buffer.length));
    this.#buffer = this.#buffer.subarray(out.length);
    this.consumed += out.length;
    return out;
  }

  async exactly(length: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const part = await this.read(length - filled);
      if (part.length === 0) return null;
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  async skip(length: number): Promise<void> {
    let left = length;
    while (left > 0) {
      const part = await this.read(left);
      if (part.length === 0) throw new Error("The archive ended inside an entry");
      left -= part.length;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

const decoder = new TextDecoder();

function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, offset: number, length: number): number {
  // GNU base-256 for large sizes: the top bit of the first byte is set.
  if (block[offset] & 0x80) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i];
    return value;
  }
  const digits = text(block, offset, length).trim();
  return digits ? parseInt(digits, 8) : 0;
}

function typeOf(flag: string): TarEntryType {
  if (flag === "0" || flag === "" || flag === "7") return "file";
  if (flag === "5") return "dir";
  if (flag === "2") return "symlink";
  if (flag === "1") return "hardlink";
  return "other";
}

function paxRecords(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  const body = decoder.decode(data);
  let index = 0;
  while (index < body.length) {
    const space = body.indexOf(" ", index);
    if (space < 0) break;
    const length = Number(body.slice(index, space));
    if (!Number.isInteger(length) || length <= 0) break;
    // The length counts bytes; the records the panel reads (path, linkpath, size) are ASCII
    // or short, and a mismatch only costs a record, never a wrong boundary in the stream.
    const record = body.slice(space + 1, index + length - 1);
    const equals = record.indexOf("=");
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    index += length;
  }
  return records;
}

/**
 * The entries of a tar stream, in order. `onEntry` gets each header and may read the
 * entry's data through `read` (a stream of exactly its bytes) and answer "stop" to end
 * early (the rest of the stream is cancelled). Data not read is skipped.
 */
export async function readTar(
  stream: ReadableStream<Uint8Array>,
  onEntry: (
    header: TarHeader,
    data: () => ReadableStream<Uint8Array>,
  ) => Promise<"stop" | void> | "stop" | void,
): Promise<void> {
  const reader = new ByteReader(stream);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  try {
    while (true) {
      const block = await reader.exactly(BLOCK);
      if (!block || block.every((byte) => byte === 0)) return;
      const flag = String.fromCharCode(block[156] || 0x30);
      const size = octal(block, 124, 12);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (flag === "L" || flag === "K" || flag === "x" || flag === "g") {
        const data = await reader.exactly(padded);
        if (!data) throw new Error("The archive ended inside a header");
        const content = data.subarray(0, size);
        if (flag === "L") longName = text(content, 0, content.length);
        else if (flag === "K") longLink = text(content, 0, content.length);
        else if (flag === "x") pax = paxRecords(content);
        continue;
      }
      const prefix = text(block, 345, 155);
      const name = text(block, 0, 100);
      const header: TarHeader = {
        path: pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name),
        type: typeOf(flag),
        size: pax.size !== undefined ? Number(pax.size) : size,
        mode: octal(block, 100, 8) & 0o7777,
        mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) : octal(block, 136, 12),
        linkTarget: pax.linkpath ?? longLink ?? text(block, 157, 100),
      };
      longName = longLink = undefined;
      pax = {};
      const dataSize = header.size;
      const dataPadded = Math.ceil(dataSize / BLOCK) * BLOCK;
      let taken = 0;
      let streamed: ReadableStream<Uint8Array> | undefined;
      const data = () =>
        streamed ??= new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (taken >= dataSize) return controller.close();
            const part = await reader.read(Math.min(64 * 1024, dataSize - taken));
            if (part.length === 0) {
              return controller.error(new Error("The archive ended inside a file"));
            }
            taken += part.length;
            controller.enqueue(part.slice());
          },
        });
      const answer = await onEntry(header, data);
      if (answer === "stop") return;
      await reader.skip(dataSize - taken + (dataPadded - dataSize));
    }
  } finally {
    await reader.cancel();
  }
}
