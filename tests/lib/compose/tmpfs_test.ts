import assert from "node:assert/strict";
import { parse, rejects, service, web } from "./helpers.ts";

Deno.test("tmpfs: size and mode in the long syntax, and the service-level tmpfs key", () => {
  const spec = service(web(
    "volumes:\n  - type: tmpfs\n    target: /cache\n    tmpfs: {size: 64m, mode: 0o1777}\n" +
      "  - type: tmpfs\n    target: /plain\n" +
      "  - {type: tmpfs, target: /bytes, tmpfs: {size: 1000000, mode: '750'}}\n" +
      "tmpfs:\n  - /run\n  - /tmp:size=2000,mode=1770",
  ));
  assert.deepEqual(spec.volumes, [
    { type: "tmpfs", target: "/cache", size_bytes: 64 * 1024 * 1024, mode: 0o1777 },
    { type: "tmpfs", target: "/plain" },
    { type: "tmpfs", target: "/bytes", size_bytes: 1_000_000, mode: 0o750 },
  ]);
  assert.deepEqual(spec.tmpfs, ["/run", "/tmp:size=2000,mode=1770"]);
  assert.deepEqual(service(web("tmpfs: /run")).tmpfs, ["/run"]);
  rejects(() => parse(web("tmpfs: [relative]")), /container path must be absolute/);
  rejects(
    () => parse(web("volumes:\n  - {type: tmpfs, target: /x, tmpfs: {mode: '999'}}")),
    /mode must be a file mode/,
  );
  rejects(
    () => parse(web("volumes:\n  - {type: tmpfs, target: /x, tmpfs: {size: big}}")),
    /size must be a size/,
  );
});
