import assert from "node:assert/strict";
import { demux, MalformedStreamError, ndjson } from "../../../lib/docker/streams.ts";

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(
    chunks.map((chunk) => typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk),
  );
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

Deno.test("ndjson joins lines split across chunks and skips blank lines", async () => {
  const values = await collect(ndjson(streamOf('{"a":1}\n{"b":', "2}\n\n", '{"c":3}')));
  assert.deepEqual(values, [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

Deno.test("ndjson reports a malformed line", async () => {
  await assert.rejects(collect(ndjson(streamOf('{"a":1}\nnot json\n'))), MalformedStreamError);
});

function frame(stream: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

Deno.test("demux splits stdout and stderr frames, even when chunks cut headers", async () => {
  const bytes = new Uint8Array([
    ...frame(1, "out line\n"),
    ...frame(2, "err line\n"),
    ...frame(1, ""),
  ]);
  const frames = await collect(
    demux(streamOf(bytes.slice(0, 3), bytes.slice(3, 20), bytes.slice(20))),
  );
  assert.deepEqual(
    frames.map((f) => [f.stream, new TextDecoder().decode(f.data)]),
    [["stdout", "out line\n"], ["stderr", "err line\n"], ["stdout", ""]],
  );
});

Deno.test("demux rejects an unknown stream type and a truncated frame", async () => {
  await assert.rejects(
    collect(demux(streamOf(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0])))),
    MalformedStreamError,
  );
  await assert.rejects(
    collect(demux(streamOf(frame(1, "hello").slice(0, 10)))),
    MalformedStreamError,
  );
});
