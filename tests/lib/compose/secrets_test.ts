import assert from "node:assert/strict";
import { findWarning, parse, rejects } from "./helpers.ts";

Deno.test("secrets and configs: short and long references, default targets, sources", () => {
  const project = parse(
    [
      "services:",
      "  db:",
      "    image: postgres",
      "    secrets:",
      "      - db_pw",
      "      - source: api_key",
      "        target: api.key",
      "        uid: '999'",
      "        mode: 0400",
      "    configs:",
      "      - app_conf",
      "      - source: inline",
      "        target: /etc/inline.conf",
      "secrets:",
      "  db_pw: {file: ./db_pw.txt}",
      "  api_key: {environment: API_KEY}",
      "  unused: {file: ./nope}",
      "configs:",
      "  app_conf: {file: conf/app.conf}",
      "  inline:",
      "    content: |",
      "      port=${PORT}",
    ].join("\n"),
    { env: "API_KEY=k-123\nPORT=8080\n" },
  );
  const db = project.services[0];
  assert.deepEqual(db.secrets, [
    { source: "db_pw", target: "/run/secrets/db_pw" },
    { source: "api_key", target: "/run/secrets/api.key", uid: "999", mode: 0o400 },
  ]);
  assert.deepEqual(db.configs, [
    { source: "app_conf", target: "/app_conf" },
    { source: "inline", target: "/etc/inline.conf" },
  ]);
  assert.deepEqual(project.secrets, {
    db_pw: { kind: "file", file: "./db_pw.txt" },
    api_key: { kind: "content", content: "k-123" },
  });
  assert.deepEqual(project.configs, {
    app_conf: { kind: "file", file: "conf/app.conf" },
    inline: { kind: "content", content: "port=8080\n" },
  });
  assert.deepEqual(project.warnings, []);
});

Deno.test("secrets: external ones need swarm mode (warned, not mounted); file sources ignore uid/gid/mode", () => {
  const project = parse(
    [
      "services:", // 1
      "  web:", // 2
      "    image: nginx", // 3
      "    secrets:", // 4
      "      - shared", // 5
      "      - {source: local, mode: 0444}", // 6
      "secrets:", // 7
      "  shared: {external: true}", // 8
      "  local: {file: ./local.txt}", // 9
    ].join("\n"),
  );
  assert.deepEqual(project.services[0].secrets, [{
    source: "local",
    target: "/run/secrets/local",
  }]);
  assert.deepEqual(Object.keys(project.secrets ?? {}), ["local"]);
  const external = findWarning(project.warnings, "unsupported", /external secrets need swarm mode/);
  assert.equal(external.line, 5);
  const ignored = findWarning(project.warnings, "unsupported", /uid, gid and mode .* were ignored/);
  assert.equal(ignored.line, 6);
});

Deno.test("secrets: bad references and sources are a 400 with the line", () => {
  const file = (service: string, top: string) =>
    `services:\n  web:\n    image: nginx\n${service}\n${top}\n`;
  const cases: [string, RegExp, number][] = [
    [
      file("    secrets: [nope]", "secrets: {}"),
      /uses "nope", which is not declared under the top-level secrets:/,
      4,
    ],
    [
      file("    secrets: [pw]", "secrets:\n  pw: {}"),
      /needs exactly one of file:, environment: or content:/,
      6,
    ],
    [
      file("    secrets: [pw]", "secrets:\n  pw: {file: a, content: b}"),
      /\(it has file and content\)/,
      6,
    ],
    [
      file("    secrets: [pw]", "secrets:\n  pw: {environment: MISSING}"),
      /the variable "MISSING" is not set/,
      6,
    ],
    [file("    secrets: [pw]", "secrets:\n  pw: {file: ~/pw.txt}"), /starts with "~"/, 6],
    [
      file("    secrets: [pw, pw]", "secrets:\n  pw: {file: ./pw}"),
      /target "\/run\/secrets\/pw" is used twice/,
      4,
    ],
    [
      file("    secrets: [{source: pw, mode: rwx}]", "secrets:\n  pw: {content: x}"),
      /mode must be permission bits/,
      4,
    ],
    [file("    configs: [{target: /x}]", "configs:\n  c: {content: x}"), /needs a source/, 4],
  ];
  for (const [yaml, pattern, line] of cases) {
    const error = rejects(() => parse(yaml), pattern);
    assert.equal(error.line, line, yaml);
  }
});

Deno.test("secrets: a file source outside the stack folder is flagged as a risk", () => {
  const project = parse(
    "services:\n  web:\n    image: nginx\n    secrets: [sock]\nsecrets:\n  sock: {file: /var/run/docker.sock}\n",
  );
  const risk = findWarning(project.warnings, "risk", /secrets\.sock\.file mounts/);
  assert.equal(risk.line, 6);
});
