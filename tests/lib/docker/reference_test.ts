import assert from "node:assert/strict";
import { parseReference } from "../../../lib/docker/reference.ts";
import { InvalidReferenceError } from "../../../lib/docker/errors.ts";

const DIGEST = "sha256:" + "a".repeat(64);

Deno.test("references normalise like the docker CLI", () => {
  const cases: [string, string, string][] = [
    ["busybox", "docker.io", "docker.io/library/busybox:latest"],
    ["nginx:1.25", "docker.io", "docker.io/library/nginx:1.25"],
    ["team/app", "docker.io", "docker.io/team/app:latest"],
    ["ghcr.io/org/app:latest", "ghcr.io", "ghcr.io/org/app:latest"],
    [`localhost:5000/team/app@${DIGEST}`, "localhost:5000", `localhost:5000/team/app@${DIGEST}`],
    [`app:v1@${DIGEST}`, "docker.io", `docker.io/library/app:v1@${DIGEST}`],
    ["127.0.0.1:5000/x", "127.0.0.1:5000", "127.0.0.1:5000/x:latest"],
    ["index.docker.io/library/redis", "docker.io", "docker.io/library/redis:latest"],
    ["localhost/app", "localhost", "localhost/app:latest"],
    ["[::1]:5000/app:1", "[::1]:5000", "[::1]:5000/app:1"],
  ];
  for (const [input, domain, canonical] of cases) {
    const parsed = parseReference(input);
    assert.equal(parsed.domain, domain, input);
    assert.equal(parsed.canonical, canonical, input);
  }
});

Deno.test("invalid references are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["Busybox", /must be lowercase/],
    ["UPPER/case", /must be lowercase/],
    ["x:tag:tag", /path component/],
    ["..", /path component/],
    ["a b", /whitespace/],
    ["app:", /tag/],
    ["app:-bad", /tag/],
    ["app@sha256:123", /digest/],
    ["../x", /registry host/],
    ["a?b", /path component/],
    ["a#b", /path component/],
    ["%2F", /path component|lowercase/],
    ["app//x", /empty path component/],
    ["x".repeat(300), /longer than 255/],
  ];
  for (const [input, reason] of cases) {
    assert.throws(() => parseReference(input), (error: unknown) => {
      assert.ok(error instanceof InvalidReferenceError, input);
      assert.match(error.message, reason, input);
      assert.equal(error.status, 400);
      return true;
    });
  }
});
