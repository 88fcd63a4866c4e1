/**
 * Writing tar archives: a build context or a backup streamed from a folder, and small
 * in-memory archives (secret and config files, a file put into a volume, test images).
 * ustar headers, with a PAX record for names longer than the header holds.
 */

const BLOCK = 512;
const encoder = new TextEncoder();

export interface TarEntry {
  /** Relative, "/"-separated; directories without a trailing slash. */
  path: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  size?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkTarget?: string;
}

function header(fields: {
  name: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  flag: string;
  link?: Uint8Array;
}): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, value: string) => block.set(encoder.encode(value), offset);
  const putOctal = (offset: number, length: number, value: number) =>
    put(offset, `${value.toString(8).padStart(length - 1, "0")}\u0000`);
  block.set(fields.name.subarray(0, 100), 0);
  putOctal(100, 8, fields.mode & 0o7777);
  putOctal(108, 8, fields.uid);
  putOctal(116, 8, fields.gid);
  putOctal(124, 12, fields.size);
  putOctal(136, 12, Math.max(0, Math.floor(fields.mtime)));
  block.fill(0x20, 148, 156);
  put(156, fields.flag);
  if (fields.link) block.set(fields.link.subarray(0, 100), 157);
  put(257, "ustar\u000000");
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\u0000 `);
  return block;
}

function paxRecords(records: Record<string, string>): Uint8Array {
  let body = "";
  for (const [key, value] of Object.entries(records)) {
    const record = ` ${key}=${value}\n`;
    const bytes = encoder.encode(record).length;
    // The length counts its own digits.
    let length = bytes;
    while (bytes + String(length).length !== length) length = bytes + String(length).length;
    body += `${length}${record}`;
  }
  return encoder.encode(body);
}

function padding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block(s) of one entry (a PAX header first when a name is too long). */
export function entryHeader(entry: TarEntry): Uint8Array[] {
  const path = entry.type === "dir" ? `${entry.path}/` : entry.path;
  const name = encoder.encode(path);
  const link = encoder.encode(entry.linkTarget ?? "");
  const blocks: Uint8Array[] = [];
  const records: Record<string, string> = {};
  if (name.length > 100) records.path = path;
  if (link.length > 100) records.linkpath = entry.linkTarget!;
  if (Object.keys(records).length) {
    const data = paxRecords(records);
    blocks.push(
      header({
        name: encoder.encode("PaxHeader"),
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        mtime: entry.mtime ?? 0,
        flag: "x",
      }),
      data,
      padding(data.length),
    );
  }
  blocks.push(header({
    name,
    mode: entry.mode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size: entry.type === "file" ? entry.size ?? 0 : 0,
    mtime: entry.mtime ?? 0,
    flag: entry.type === "file" ? "0" : entry.type === "dir" ? "5" : "2",
    link: entry.type === "symlink" ? link : undefined,
  }));
  return blocks;
}

/** A whole archive in memory: small files only. */
export function tarOf(
  files: { entry: TarEntry; data?: Uint8Array }[],
): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const { entry, data } of files) {
    const size = data?.length ?? 0;
    parts.push(...entryHeader({ ...entry, size }));
    if (data) parts.push(data, padding(size));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A ustar archive holding one regular file (the name is a single path segment). */
export function singleFileTar(
  name: string,
  data: Uint8Array,
  mtime = Date.now() / 1000,
): Uint8Array<ArrayBuffer> {
  return tarOf([{ entry: { path: name, type: "file", mode: 0o644, mtime }, data }]);
}

/**
 * A tar stream of entries whose data is read when the stream gets to them (`open` gives a
 * file's bytes as a stream); a file whose size changed meanwhile is an error, not a
 * corrupt archive.
 */
export function tarStream(
  entries: AsyncIterable<TarEntry>,
  open: (entry: TarEntry) => Promise<ReadableStream<Uint8Array>>,
): ReadableStream<Uint8Array> {
  const iterator = entries[Symbol.asyncIterator]();
  let current:
    | { reader: ReadableStreamDefaultReader<Uint8Array>; left: number; size: number }
    | null = null;
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (current) {
        const chunk = await current.reader.read();
        if (chunk.done) {
          if (current.left !== 0) {
            throw new Error("A file of the build context changed size while it was sent");
          }
          controller.enqueue(padding(current.size));
          current = null;
          return;
        }
        if (chunk.value.length > current.left) {
          await current.reader.cancel();
          throw new Error("A file of the build context grew while it was sent");
        }
        current.left -= chunk.value.length;
        controller.enqueue(chunk.value);
        return;
      }
      if (ended) return;
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        controller.enqueue(new Uint8Array(2 * BLOCK));
        controller.close();
        return;
      }
      for (const block of entryHeader(next.value)) controller.enqueue(block);
      if (next.value.type === "file" && (next.value.size ?? 0) > 0) {
        current = {
          reader: (await open(next.value)).getReader(),
          left: next.value.size!,
          size: next.value.size!,
        };
      }
    },
    async cancel(reason) {
      await current?.reader.cancel(reason).catch(() => {});
      await iterator.return?.();
    },
  });
}
