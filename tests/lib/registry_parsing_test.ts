/** WWW-Authenticate parsing, version tags and their ordering, manifest-list platform choice. */
import assert from "node:assert/strict";
import { parseWwwAuthenticate } from "../../lib/registry/www_authenticate.ts";
import { enginePlatform, selectPlatform } from "../../lib/registry/platform.ts";
import { compareVersions, newerVersions, parseVersionTag } from "../../lib/updates/versions.ts";

Deno.test("WWW-Authenticate: a bearer challenge with quoted parameters", () => {
  const [challenge, ...rest] = parseWwwAuthenticate(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' +
      'scope="repository:library/busybox:pull"',
  );
  assert.equal(rest.length, 0);
  assert.equal(challenge.scheme, "bearer");
  assert.deepEqual({ ...challenge.params }, {
    realm: "https://auth.docker.io/token",
    service: "registry.docker.io",
    scope: "repository:library/busybox:pull",
  });
});

Deno.test("WWW-Authenticate: basic, several challenges, escapes, tokens and spacing", () => {
  assert.deepEqual(
    parseWwwAuthenticate('Basic realm="cm-test"').map((c) => [c.scheme, { ...c.params }]),
    [["basic", { realm: "cm-test" }]],
  );
  const many = parseWwwAuthenticate(
    'Basic realm="a \\"quoted\\" realm", charset=UTF-8 , Bearer realm=https://x.test/t ,' +
      ' service = reg, error="insufficient_scope"',
  );
  assert.deepEqual(many.map((c) => c.scheme), ["basic", "bearer"]);
  assert.equal(many[0].params.realm, 'a "quoted" realm');
  assert.equal(many[0].params.charset, "UTF-8");
  assert.equal(many[1].params.realm, "https://x.test/t");
  assert.equal(many[1].params.service, "reg");
  assert.equal(many[1].params.error, "insufficient_scope");
  // Scheme and parameter names are case-insensitive; a comma inside quotes is kept.
  const [upper] = parseWwwAuthenticate(
    'BEARER Realm="https://a.test/t",Scope="repository:a:pull,push"',
  );
  assert.equal(upper.scheme, "bearer");
  assert.equal(upper.params.realm, "https://a.test/t");
  assert.equal(upper.params.scope, "repository:a:pull,push");
  assert.deepEqual(parseWwwAuthenticate(null), []);
  assert.deepEqual(parseWwwAuthenticate(""), []);
  // A parameter named like a prototype key is only a parameter.
  const [odd] = parseWwwAuthenticate('Bearer __proto__="x",realm="r"');
  assert.equal(odd.params.realm, "r");
  assert.equal(Object.getPrototypeOf(odd.params), null);
});

Deno.test("version tags: what reads as a version", () => {
  assert.deepEqual(parseVersionTag("1.25.3"), {
    tag: "1.25.3",
    prefix: "",
    parts: [1, 25, 3],
    suffix: "",
  });
  assert.deepEqual(parseVersionTag("v2.4")?.parts, [2, 4]);
  assert.equal(parseVersionTag("v2.4")?.prefix, "v");
  assert.deepEqual(parseVersionTag("16-alpine"), {
    tag: "16-alpine",
    prefix: "",
    parts: [16],
    suffix: "-alpine",
  });
  for (const tag of ["latest", "stable", "1.2.3.4", "sha-abc123", "-1", "1..2", "alpine-3"]) {
    assert.equal(parseVersionTag(tag), undefined, tag);
  }
});

Deno.test("version ordering is numeric, not lexical", () => {
  const sorted = ["1.10.0", "1.9.0", "1.2.10", "1.2.9", "10.0.0", "2.0.0"]
    .map((tag) => parseVersionTag(tag)!)
    .sort(compareVersions)
    .map((v) => v.tag);
  assert.deepEqual(sorted, ["1.2.9", "1.2.10", "1.9.0", "1.10.0", "2.0.0", "10.0.0"]);
});

Deno.test("newer versions: newest patch, minor and major in the same variant only", () => {
  const tags = ["1.0.0", "1.0.1", "1.1.0", "2.0.0", "1.0.1-alpine", "latest", "1.0", "v1.0.2"];
  assert.deepEqual(newerVersions("1.0.0", tags), {
    patch: "1.0.1",
    minor: "1.1.0",
    major: "2.0.0",
  });
  assert.deepEqual(newerVersions("1.0.0-alpine", ["1.0.1-alpine", "1.0.2", "2.0.0-alpine"]), {
    patch: "1.0.1-alpine",
    major: "2.0.0-alpine",
  });
  // PostgreSQL-style two-part versions: the last part is the patch.
  assert.deepEqual(
    newerVersions("16.2", ["16.1", "16.2", "16.4", "16.3", "17.0", "17", "17.1-alpine"]),
    {
      patch: "16.4",
      major: "17.0",
    },
  );
  assert.deepEqual(
    newerVersions("16-alpine", ["16-alpine", "17-alpine", "18-alpine", "18", "16.4-alpine"]),
    {
      major: "18-alpine",
    },
  );
  assert.deepEqual(newerVersions("v2.4", ["v2.5", "2.6", "v3.0"]), {
    patch: "v2.5",
    major: "v3.0",
  });
  // The newest of each level: the minor is the highest minor, with its highest patch.
  assert.deepEqual(newerVersions("1.2.3", ["1.3.0", "1.4.1", "1.4.0", "1.2.9", "1.2.4"]), {
    patch: "1.2.9",
    minor: "1.4.1",
  });
  assert.deepEqual(newerVersions("2.0.0", ["1.0.0", "1.9.9"]), {});
  assert.equal(newerVersions("latest", tags), undefined);
});

Deno.test("platform: the manifest-list entry for the Engine's os/arch(/variant)", () => {
  const entries = [
    { digest: "sha256:att", platform: { os: "unknown", architecture: "unknown" } },
    { digest: "sha256:armv6", platform: { os: "linux", architecture: "arm", variant: "v6" } },
    { digest: "sha256:armv7", platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { digest: "sha256:arm64", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { digest: "sha256:amd64", platform: { os: "linux", architecture: "amd64" } },
    { digest: "sha256:win", platform: { os: "windows", architecture: "amd64" } },
  ];
  const pick = (platform: Parameters<typeof selectPlatform>[1], list = entries) =>
    selectPlatform(list, platform)?.digest;
  assert.equal(pick({ os: "linux", architecture: "amd64" }), "sha256:amd64");
  assert.equal(pick({ os: "windows", architecture: "amd64" }), "sha256:win");
  assert.equal(pick({ os: "linux", architecture: "arm64" }), "sha256:arm64");
  assert.equal(pick({ os: "linux", architecture: "arm", variant: "v7" }), "sha256:armv7");
  assert.equal(pick({ os: "linux", architecture: "arm", variant: "v6" }), "sha256:armv6");
  // arm64 entries often say no variant: v8 is implied on both sides.
  assert.equal(
    pick({ os: "linux", architecture: "arm64", variant: "v8" }, [
      { digest: "sha256:plain", platform: { os: "linux", architecture: "arm64" } },
    ]),
    "sha256:plain",
  );
  // An arm/v7 Engine can run a v6 image when there is no v7 one; never an arm64 one.
  assert.equal(
    pick(
      { os: "linux", architecture: "arm", variant: "v7" },
      entries.filter((e) => e.digest !== "sha256:armv7"),
    ),
    "sha256:armv6",
  );
  // …but an arm/v6 Engine cannot run a v7 image.
  assert.equal(
    pick(
      { os: "linux", architecture: "arm", variant: "v6" },
      entries.filter((e) => e.digest !== "sha256:armv6"),
    ),
    undefined,
  );
  assert.equal(pick({ os: "linux", architecture: "s390x" }), undefined);
  assert.equal(pick({ os: "linux", architecture: "amd64" }, entries.slice(0, 1)), undefined);
});

Deno.test("platform: the Engine's from /version (and /info for arm)", () => {
  assert.deepEqual(enginePlatform({ Os: "linux", Arch: "amd64" }), {
    os: "linux",
    architecture: "amd64",
    variant: undefined,
  });
  assert.deepEqual(enginePlatform({ Os: "linux", Arch: "arm64" }), {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
  });
  assert.deepEqual(enginePlatform({ Os: "linux", Arch: "arm" }, { Architecture: "armv6l" }), {
    os: "linux",
    architecture: "arm",
    variant: "v6",
  });
});
