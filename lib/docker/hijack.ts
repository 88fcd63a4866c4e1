/**
 * Raw hijacked connections: `POST /exec/{id}/start` with `Connection: Upgrade`, after
 * which the socket carries the raw TTY (or multiplexed) stream in both directions.
 * fetch cannot do this, so the HTTP/1.1 request is written by hand on a Deno.Conn.
 */
import type { EngineHost } from "./client.ts";
import { DockerError } from "./errors.ts";
import { concatBytes as concat } from "./streams.ts";

export interface HijackedStream {
  /** Bytes from the container; ends when the process exits or the stream is closed. */
  readonly readable: ReadableStream<Uint8Array>;
  write(bytes: Uint8Array): Promise<void>;
  /** Half-closes the write side: the process sees EOF on stdin. */
  closeWrite(): Promise<void>;
  /** Closes the connection; idempotent. */
  close(): void;
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);

export async function hijack(
  host: EngineHost,
  path: string,
  json: unknown,
): Promise<HijackedStream> {
  const conn: Deno.Conn = host.kind === "unix"
    ? await Deno.connect({ transport: "unix", path: host.path })
    : host.kind === "tls"
    ? await Deno.connectTls({
      hostname: host.hostname,
      port: host.port,
      caCerts: [host.ca],
      cert: host.cert,
      key: host.key,
    })
    : await Deno.connect({ hostname: host.hostname, port: host.port });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the peer
    }
  };
  try {
    const body = new TextEncoder().encode(JSON.stringify(json));
    const head = `POST ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n` +
      `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n`;
    await writeAll(conn, concat(new TextEncoder().encode(head), body));

    const { status, headerText, rest } = await readHead(conn);
    if (status !== 101 && status !== 200) {
      const message = await readErrorBody(conn, headerText, rest);
      close();
      throw new DockerError(status, message);
    }
    let pending: Uint8Array | undefined = rest.length > 0 ? rest : undefined;
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pending) {
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        const buffer = new Uint8Array(32 * 1024);
        let n: number | null;
        try {
          n = closed ? null : await conn.read(buffer);
        } catch {
          n = null;
        }
        if (n === null) {
          controller.close();
          close();
        } else controller.enqueue(buffer.subarray(0, n));
      },
      cancel: close,
    }, { highWaterMark: 0 });
    // Writes run one after another, so a partial write never lets a later one in between.
    let writing = Promise.resolve();
    return {
      readable,
      write: (bytes) => {
        if (closed) return Promise.resolve();
        const written = writing.then(() => closed ? undefined : writeAll(conn, bytes));
        writing = written.catch(() => {});
        return written;
      },
      async closeWrite() {
        if (!closed) await conn.closeWrite().catch(() => {});
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

async function readHead(conn: Deno.Conn) {
  let received: Uint8Array = new Uint8Array(0);
  while (true) {
    const end = indexOf(received, CRLFCRLF);
    if (end >= 0) {
      const headerText = new TextDecoder().decode(received.subarray(0, end));
      const match = headerText.match(/^HTTP\/1\.[01] (\d{3})/);
      if (!match) {
        throw new DockerError(502, "Docker Engine sent a malformed response to a hijack request");
      }
      return { status: Number(match[1]), headerText, rest: received.slice(end + 4) };
    }
    if (received.length > MAX_HEADER_BYTES) {
      throw new DockerError(502, "Docker Engine sent response headers that are too large");
    }
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    if (n === null) {
      throw new DockerError(502, "Docker Engine closed the connection before answering");
    }
    received = concat(received, buffer.subarray(0, n));
  }
}

async function readErrorBody(
  conn: Deno.Conn,
  headerText: string,
  rest: Uint8Array,
): Promise<string> {
  const length = Number(headerText.match(/\r\ncontent-length:\s*(\d+)/i)?.[1] ?? "0");
  let body = rest;
  while (body.length < Math.min(length, 64 * 1024)) {
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    body = concat(body, buffer.subarray(0, n));
  }
  const text = new TextDecoder().decode(body).trim();
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.message === "string") return parsed.message;
  } catch {
    // plain text
  }
  return text || "Docker Engine refused the hijack request";
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
