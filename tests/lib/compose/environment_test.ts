import assert from "node:assert/strict";
import { HttpError } from "../../../lib/errors.ts";
import { findWarning, parse, rejects, service, web } from "./helpers.ts";

Deno.test("environment: map form, numbers and booleans stringified as written", () => {
  const spec = service(web([
    "environment:",
    "  A: plain",
    "  B: 1.10",
    "  C: 42",
    "  D: true",
    "  E: 'quoted'",
    '  F: ""',
    "  G: 0x1F",
  ].join("\n")));
  assert.deepEqual(spec.environment, {
    A: "plain",
    B: "1.10",
    C: "42",
    D: "true",
    E: "quoted",
    F: "",
    G: "0x1F",
  });
});

Deno.test("environment: list form", () => {
  const spec = service(web([
    "environment:",
    "  - A=1",
    "  - B=x=y",
    "  - C=",
    '  - "D=with spaces"',
  ].join("\n")));
  assert.deepEqual(spec.environment, { A: "1", B: "x=y", C: "", D: "with spaces" });
});

Deno.test("environment: a key without a value comes from .env, else is left out with a warning", () => {
  for (
    const body of [
      "environment:\n  - FROM_ENV\n  - MISSING\n  - SET=1",
      "environment:\n  FROM_ENV:\n  MISSING: ~\n  SET: 1",
    ]
  ) {
    const project = parse(web(body), { env: "FROM_ENV=hello\n" });
    assert.deepEqual(project.services[0].environment, { FROM_ENV: "hello", SET: "1" });
    const warning = findWarning(project.warnings, "interpolation", /MISSING/);
    assert.equal(warning.line, 6);
    assert.equal(warning.service, "web");
  }
});

Deno.test("environment: invalid forms are a 400", () => {
  rejects(() => service(web("environment:\n  - 5")), /environment\[0\] must be a "KEY=VALUE"/);
  rejects(() => service(web("environment:\n  A: [1]")), /environment\.A must be a string/);
  rejects(() => service(web("environment: A=1")), /must be a map or a list/);
  rejects(() => service(web('environment:\n  - "=x"')), /is not a valid name/);
});

Deno.test("env_file: string, list and long form; environment wins", () => {
  const envFiles = {
    "web.env": "A=from-file\nB=from-file\n# comment\nexport C='x y'\n",
    "./extra.env": "D=${A:-none}\n",
  };
  const spec = service(
    web(
      "env_file:\n  - web.env\n  - path: extra.env\n  - {path: optional.env, required: false}\nenvironment:\n  B: from-yaml",
    ),
    "web",
    { envFiles },
  );
  assert.deepEqual(spec.environment, {
    A: "from-file",
    B: "from-yaml",
    C: "x y",
    // env_file values interpolate against the .env file only, not against other env_files.
    D: "none",
  });
  assert.equal(
    service(web("env_file: extra.env"), "web", { envFiles, env: "A=dotenv" }).environment.D,
    "dotenv",
  );
  assert.deepEqual(service(web("env_file: web.env"), "web", { envFiles }).environment, {
    A: "from-file",
    B: "from-file",
    C: "x y",
  });
});

Deno.test("env_file: a missing required file is a 400, a missing optional one a warning", () => {
  const error = rejects(
    () => service(web("env_file: missing.env")),
    /env_file: the file "missing.env" was not supplied with the request/,
  );
  assert.equal(error.field, "envFiles");
  const project = parse(web("env_file:\n  - path: missing.env\n    required: false"));
  const warning = findWarning(project.warnings, "interpolation", /optional file "missing.env"/);
  assert.equal(warning.line, 5);
  rejects(
    () => service(web("env_file: bad.env"), "web", { envFiles: { "bad.env": "A='open\n" } }),
    /"bad.env" line 1: the quoted value of A is not terminated/,
  );
});

Deno.test("env_file: larger than 1 MiB is a 413", () => {
  try {
    service(web("env_file: big.env"), "web", {
      envFiles: { "big.env": `A=${"x".repeat(1024 * 1024)}` },
    });
    assert.fail("expected a 413");
  } catch (error) {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 413);
  }
});

Deno.test("labels: map and list forms", () => {
  assert.deepEqual(
    service(web("labels:\n  com.example.a: one\n  com.example.b: 2\n  com.example.c:")).labels,
    { "com.example.a": "one", "com.example.b": "2", "com.example.c": "" },
  );
  assert.deepEqual(
    service(web('labels:\n  - "com.example.a=one"\n  - com.example.b=x=y\n  - com.example.c'))
      .labels,
    { "com.example.a": "one", "com.example.b": "x=y", "com.example.c": "" },
  );
  rejects(() => service(web("labels: x")), /labels must be a map or a list/);
});

Deno.test("sysctls: map and list forms", () => {
  assert.deepEqual(
    service(web("sysctls:\n  net.core.somaxconn: 1024\n  net.ipv4.tcp_syncookies: 0")).sysctls,
    { "net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "0" },
  );
  assert.deepEqual(
    service(web("sysctls:\n  - net.core.somaxconn=1024")).sysctls,
    { "net.core.somaxconn": "1024" },
  );
});

Deno.test("extra_hosts: list with : or =, and map form", () => {
  assert.deepEqual(
    service(web([
      "extra_hosts:",
      '  - "somehost:162.242.195.82"',
      '  - "otherhost=50.31.209.229"',
      '  - "v6host=[::1]"',
      '  - "gw:host-gateway"',
    ].join("\n"))).extra_hosts,
    ["somehost:162.242.195.82", "otherhost:50.31.209.229", "v6host:::1", "gw:host-gateway"],
  );
  assert.deepEqual(
    service(web('extra_hosts:\n  somehost: "162.242.195.82"\n  multi: ["10.0.0.1", "::2"]'))
      .extra_hosts,
    ["somehost:162.242.195.82", "multi:10.0.0.1", "multi:::2"],
  );
  rejects(() => service(web("extra_hosts:\n  - nohost")), /must look like HOST:IP or HOST=IP/);
});
