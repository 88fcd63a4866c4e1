import assert from "node:assert/strict";
import { contains, format, overlaps, parseCidr, parseIp } from "../../../lib/docker/cidr.ts";
import { readTar } from "../../../lib/tar/read.ts";
import { singleFileTar } from "../../../lib/tar/write.ts";

function cidr(text: string) {
  const parsed = parseCidr(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed;
}

Deno.test("cidr: strict parsing, containment and overlap for IPv4 and IPv6", () => {
  assert.equal(parseIp("10.1"), null);
  assert.equal(parseIp("256.0.0.1"), null);
  assert.equal(parseIp("01.2.3.4"), null, "no leading zeros");
  assert.equal(format(parseIp("fd00:31:250::1")!.value, 6), "fd00:31:250::1");
  assert.equal(parseIp("::ffff:10.0.0.1")!.family, 6);
  assert.equal(parseIp("1::2::3"), null);
  assert.match((parseCidr("10.0.0.1/8") as { error: string }).error, /10\.0\.0\.0\/8/);
  assert.match((parseCidr("10.0.0.0/33") as { error: string }).error, /longer than 32/);
  assert.ok("error" in parseCidr("10.0.0.0"));
  assert.ok(overlaps(cidr("172.31.0.0/16"), cidr("172.31.250.0/24")));
  assert.ok(overlaps(cidr("172.31.250.0/24"), cidr("172.31.250.128/25")));
  assert.ok(!overlaps(cidr("172.31.250.0/24"), cidr("172.31.251.0/24")));
  assert.ok(!overlaps(cidr("172.31.250.0/24"), cidr("fd00::/8")));
  assert.ok(overlaps(cidr("fd00:31::/32"), cidr("fd00:31:251::/64")));
  assert.ok(contains(cidr("172.31.250.0/24"), parseIp("172.31.250.9")!));
  assert.ok(!contains(cidr("172.31.250.0/24"), parseIp("172.31.251.9")!));
});

Deno.test("tar: a one-file archive reads back, long names through PAX; early stop cancels", async () => {
  const data = new TextEncoder().encode("x".repeat(1500));
  for (const name of ["short.txt", `${"n".repeat(150)}.txt`]) {
    const seen: { path: string; size: number; text: string }[] = [];
    await readTar(new Blob([singleFileTar(name, data)]).stream(), async (header, read) => {
      seen.push({ path: header.path, size: header.size, text: await new Response(read()).text() });
    });
    assert.deepEqual(seen, [{ path: name, size: 1500, text: "x".repeat(1500) }]);
  }
  let cancelled = false;
  const twice = new Uint8Array([
    ...singleFileTar("a", data).slice(0, -1024),
    ...singleFileTar("b", data),
  ]);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(twice);
    },
    cancel() {
      cancelled = true;
    },
  });
  const names: string[] = [];
  await readTar(stream, (header) => {
    names.push(header.path);
    return "stop";
  });
  assert.deepEqual(names, ["a"]);
  assert.ok(cancelled, "the rest of the stream is cancelled");
});
