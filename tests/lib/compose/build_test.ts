import assert from "node:assert/strict";
import { findWarning, parse, rejects, service } from "./helpers.ts";
import { dockerignore } from "../../../lib/compose/build.ts";

function built(body: string, env?: string) {
  return service(`services:\n  app:\n${body}`, "app", env ? { env } : {});
}

Deno.test("build: short and long forms; args from the file or the .env; context normalised", () => {
  assert.deepEqual(built("    build: .\n").build, { context: ".", args: {} });
  assert.deepEqual(built("    build: ./app/\n").build, { context: "app", args: {} });
  const long = built(
    [
      "    image: registry.local/app:1",
      "    build:",
      "      context: ./src/../app",
      "      dockerfile: docker/Dockerfile.prod",
      "      target: runtime",
      "      args:",
      "        VERSION: ${TAG}",
      "        - BROKEN_IF_LIST_MIXED",
    ].slice(0, 7).join("\n") + "\n        FROM_ENV:\n        UNSET:\n      labels: [a=b]\n",
    "TAG=1.2\nFROM_ENV=yes\n",
  );
  assert.equal(long.image, "registry.local/app:1");
  assert.deepEqual(long.build, {
    context: "app",
    dockerfile: "docker/Dockerfile.prod",
    target: "runtime",
    args: { VERSION: "1.2", FROM_ENV: "yes" },
    labels: { a: "b" },
  });
  assert.equal(
    built("    build: {context: ., dockerfile: ./Dockerfile}\n").build!.dockerfile,
    undefined,
  );
});

Deno.test("build: a build-only service is named <project>-<service> (lowercase)", () => {
  const project = parse("services:\n  Web.Api:\n    build: .\n", { project: "Shop" });
  assert.equal(project.services[0].image, "shop-web.api");
});

Deno.test("build: remote contexts and paths outside the stack folder are refused with the line", () => {
  const cases: [string, RegExp][] = [
    [
      "    build: https://github.com/x/y.git\n",
      /is remote; the panel builds only from files in the stack folder/,
    ],
    ["    build: git@github.com:x/y.git\n", /is remote/],
    ["    build: github.com/x/y\n", /is remote/],
    ["    build: /srv/app\n", /must be inside the stack folder/],
    ["    build: ~/app\n", /must be inside the stack folder/],
    ["    build: ../other\n", /leaves the stack folder/],
    ["    build: ./a/../../other\n", /leaves the stack folder/],
    [
      "    build:\n      context: .\n      dockerfile: ../Dockerfile\n",
      /dockerfile "..\/Dockerfile" leaves the build context/,
    ],
    [
      "    build:\n      context: .\n      dockerfile: /etc/Dockerfile\n",
      /must be inside the build context/,
    ],
    ["    build: [a]\n", /must be a path or a map/],
  ];
  for (const [body, pattern] of cases) {
    const error = rejects(() => built(body), pattern);
    assert.ok(error.line === 3 || error.line === 4 || error.line === 5, `${body}: ${error.line}`);
  }
  const error = rejects(() => built("    build:\n      context: https://x.example/a.tar.gz\n"));
  assert.equal(error.line, 4);
});

Deno.test("build: keys the panel does not apply are warned about", () => {
  const project = parse(
    "services:\n  app:\n    build:\n      context: .\n      ssh: [default]\n      cache_from: [x]\n",
  );
  findWarning(project.warnings, "unsupported", /build\.ssh is not supported/);
  findWarning(project.warnings, "unsupported", /build\.cache_from is not supported/);
});

Deno.test("dockerignore: moby's rules (last match wins, ! re-includes, ** and folders)", () => {
  const ignored = dockerignore(
    "# comment\nnode_modules\n*.log\n!keep.log\n**/tmp\n/secret/*\n!secret/public\n",
  );
  assert.equal(ignored("node_modules"), true);
  assert.equal(ignored("node_modules/a/b.js"), true);
  assert.equal(ignored("debug.log"), true);
  assert.equal(ignored("keep.log"), false);
  assert.equal(ignored("sub/debug.log"), false); // * does not cross folders
  assert.equal(ignored("a/b/tmp"), true);
  assert.equal(ignored("tmp/x"), true);
  assert.equal(ignored("secret/key"), true);
  assert.equal(ignored("secret/public"), false);
  assert.equal(ignored("src/app.ts"), false);
});
