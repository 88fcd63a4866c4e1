import assert from "node:assert/strict";
import { parseDotenv } from "../../../lib/compose/dotenv.ts";
import { interpolate, InterpolationError } from "../../../lib/compose/interpolate.ts";
import { findWarning, parse, rejects, service, web } from "./helpers.ts";

const VARS = new Map([["SET", "value"], ["EMPTY", ""], ["B", "bee"]]);

function run(template: string) {
  const unset: string[] = [];
  const out = interpolate(template, (name) => VARS.get(name), (name) => unset.push(name));
  return { out, unset };
}

Deno.test("interpolate: every form", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["${SET}", "value"],
    ["$SET", "value"],
    ["a-$SET-b", "a-value-b"],
    ["$SET.x", "value.x"],
    ["${SET}x", "valuex"],
    ["$$", "$"],
    ["$$SET", "$SET"],
    ["cost: $5", "cost: $5"],
    ["trailing $", "trailing $"],
    ["${UNSET:-default}", "default"],
    ["${EMPTY:-default}", "default"],
    ["${SET:-default}", "value"],
    ["${UNSET-default}", "default"],
    ["${EMPTY-default}", ""],
    ["${SET:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${UNSET:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
    ["${SET:?boom}", "value"],
    ["${EMPTY?boom}", ""],
    ["${UNSET:-${B}}", "bee"],
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["${UNSET:-a ${B} c}", "a bee c"],
    ["${UNSET:-{x}}", "{x}"],
    ["${UNSET:-}", ""],
  ];
  for (const [template, expected] of cases) {
    const { out, unset } = run(template);
    assert.equal(out, expected, template);
    assert.deepEqual(unset, [], template);
  }
});

Deno.test("interpolate: unset variables report and become empty", () => {
  assert.deepEqual(run("a${UNSET}b$OTHER"), { out: "ab", unset: ["UNSET", "OTHER"] });
  // Defaults that are not used are not evaluated.
  assert.deepEqual(run("${SET:-${UNUSED}}"), { out: "value", unset: [] });
});

Deno.test("interpolate: errors", () => {
  const fails = (template: string, pattern: RegExp, required = false) => {
    try {
      run(template);
    } catch (error) {
      assert.ok(error instanceof InterpolationError, template);
      assert.match(error.message, pattern, template);
      assert.equal(error.required, required, template);
      return;
    }
    assert.fail(`expected ${template} to fail`);
  };
  fails(
    "${UNSET:?set it please}",
    /^Required variable UNSET is missing a value: set it please$/,
    true,
  );
  fails("${EMPTY:?must not be empty}", /EMPTY is missing a value: must not be empty/, true);
  fails("${UNSET?}", /^Required variable UNSET is missing a value$/, true);
  fails("${UNSET:?${B} missing}", /UNSET is missing a value: bee missing/, true);
  fails("${UNTERMINATED", /without a closing "}"/);
  fails("abc ${A:-${B}", /without a closing "}"/);
  fails("${}", /Invalid interpolation/);
  fails("${1ABC}", /Invalid interpolation/);
  fails("${A B}", /Invalid interpolation/);
  fails("${A:x}", /Invalid interpolation/);
  fails(`${"${X:-".repeat(40)}${"}".repeat(40)}`, /nested more than/);
});

Deno.test("interpolation in a compose file: values only, with warnings and lines", () => {
  const yaml = [
    "services:", // 1
    "  web:", // 2
    "    image: nginx:${TAG:-latest}", // 3
    "    environment:", // 4
    "      ${KEY_NOT_INTERPOLATED}: x", // 5
    "      GREETING: hello $NAME", // 6
    "      PRICE: $$5", // 7
    "      PROJECT: ${COMPOSE_PROJECT_NAME}", // 8
    "    labels:", // 9
    "      a: ${MISSING}", // 10
  ].join("\n");
  const project = parse(yaml, { env: "NAME=world\nTAG=1.27" });
  const spec = project.services[0];
  assert.equal(spec.image, "nginx:1.27");
  assert.deepEqual(spec.environment, {
    "${KEY_NOT_INTERPOLATED}": "x",
    GREETING: "hello world",
    PRICE: "$5",
    PROJECT: "demo",
  });
  assert.deepEqual(spec.labels, { a: "" });
  assert.deepEqual(project.warnings, [{
    line: 10,
    service: "web",
    kind: "interpolation",
    message:
      'Service "web": The "MISSING" variable is not set (labels.a). Defaulting to a blank string.',
  }]);
});

Deno.test("interpolation: a missing :? or ? variable is a 400 with its message and line", () => {
  const error = rejects(
    () => service(web("environment:\n  DB_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD in .env}")),
    /Required variable DB_PASSWORD is missing a value: set DB_PASSWORD in \.env/,
  );
  assert.equal(error.line, 5);
  assert.match(error.message, /\(line 5\)$/);
  rejects(() => service(web("user: ${U?}")), /Required variable U is missing a value/);
  assert.equal(service(web("user: ${U?}"), "web", { env: "U=" }).user, "");
  rejects(() => service(web("user: ${U:?}"), "web", { env: "U=" }), /U is missing a value/);
});

Deno.test("interpolation: an unterminated ${ is a 400", () => {
  const error = rejects(() => service(web("command: echo ${oops")), /without a closing "}"/);
  assert.equal(error.line, 4);
});

Deno.test("interpolation: dropped sections are not interpolated", () => {
  const project = parse([
    "x-extra: ${MUST:?never evaluated}",
    "services:",
    "  web:",
    "    image: nginx",
    "    x-note: ${ALSO:?never}",
    "    logging:",
    '      options: ["${NOPE:?no}"]',
  ].join("\n"));
  assert.equal(project.services[0].image, "nginx");
});

Deno.test("interpolation never reads the panel's own environment", () => {
  const name = "CM_COMPOSE_TEST_SECRET_VALUE";
  Deno.env.set(name, "server-secret");
  try {
    const project = parse(web([
      "environment:", // line 4
      `  LEAK: \${${name}}`, // line 5
      `  LEAK2: $${name}`, // line 6
      `user: "\${${name}:-fallback}"`,
    ].join("\n")));
    const spec = project.services[0];
    assert.deepEqual(spec.environment, { LEAK: "", LEAK2: "" });
    assert.equal(spec.user, "fallback");
    const warning = findWarning(project.warnings, "interpolation", new RegExp(name));
    assert.equal(warning.line, 5);
    // A bare KEY in environment does not fall back to the process environment either.
    const bare = parse(web(`environment:\n  - ${name}`));
    assert.deepEqual(bare.services[0].environment, {});
    findWarning(bare.warnings, "interpolation", new RegExp(name));
    assert.ok(!JSON.stringify(project).includes("server-secret"));
    assert.ok(!JSON.stringify(bare).includes("server-secret"));
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test(".env: every syntax form", () => {
  const text = [
    "# a comment",
    "",
    "PLAIN=value",
    "export EXPORTED=yes",
    "SPACED = padded   ",
    "INLINE=value # a comment",
    "HASH=abc#def",
    "SINGLE='literal $PLAIN \\n'",
    'DOUBLE="line1\\nline2 \\"q\\" ${PLAIN}"',
    'DOLLAR="\\$PLAIN"',
    "EXPANDED=${PLAIN}-x",
    "DEFAULTED=${NOPE:-dflt}",
    "EMPTY=",
    "YAML_STYLE: colon",
    "MULTI='a",
    "b'",
    "QUOTED_COMMENT='v' # trailing",
    "WINDOWS=crlf\r",
    "INHERITED",
    "LAST=end",
  ].join("\n");
  const unset: string[] = [];
  const values = parseDotenv(text, { onUnset: (name) => unset.push(name) });
  assert.deepEqual(Object.fromEntries(values), {
    PLAIN: "value",
    EXPORTED: "yes",
    SPACED: "padded",
    INLINE: "value",
    HASH: "abc#def",
    SINGLE: "literal $PLAIN \\n",
    DOUBLE: 'line1\nline2 "q" value',
    DOLLAR: "$PLAIN",
    EXPANDED: "value-x",
    DEFAULTED: "dflt",
    EMPTY: "",
    YAML_STYLE: "colon",
    MULTI: "a\nb",
    QUOTED_COMMENT: "v",
    WINDOWS: "crlf",
    LAST: "end",
  });
  assert.deepEqual(unset, []);
  // A bare KEY takes its value from the lookup when there is one.
  assert.deepEqual(
    Object.fromEntries(
      parseDotenv("INHERITED\n", { lookup: (n) => n === "INHERITED" ? "x" : undefined }),
    ),
    { INHERITED: "x" },
  );
});

Deno.test(".env: errors and warnings in the compose import", () => {
  rejects(
    () => parse(web(""), { env: "GOOD=1\nBAD KEY=1\n" }),
    /\.env line 2: unexpected character/,
  );
  rejects(
    () => parse(web(""), { env: 'A="open\n' }),
    /\.env line 1: the quoted value of A is not terminated/,
  );
  rejects(() => parse(web(""), { env: "A=${B:?needed}" }), /\.env line 1: Required variable B/);
  rejects(() => parse(web(""), { env: "A='x' junk" }), /unexpected text after the quoted value/);
  const project = parse(web(""), { env: "\n\nA=${NOT_SET}\n" });
  findWarning(
    project.warnings,
    "interpolation",
    /^\.env line 3: the "NOT_SET" variable is not set/,
  );
  assert.equal(project.warnings[0].line, null);
  const error = rejects(() => parse(web(""), { env: "=x" }));
  assert.equal(error.field, "env");
});
