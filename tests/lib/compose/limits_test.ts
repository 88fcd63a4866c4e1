import assert from "node:assert/strict";
import { MAX_COMPOSE_BYTES, parseCompose } from "../../../lib/compose/parse.ts";
import { MAX_ALIASES, MAX_ANCHORS, MAX_FLOW_COLLECTIONS } from "../../../lib/compose/yaml.ts";
import { HttpError } from "../../../lib/errors.ts";
import { parse, rejects } from "./helpers.ts";

/** Runs `fn`, expecting a 400 ComposeError matching `pattern` within one second. */
function refusedQuickly(fn: () => unknown, pattern: RegExp, limitMs = 1000) {
  const start = performance.now();
  const error = rejects(fn, pattern);
  const elapsed = performance.now() - start;
  assert.ok(elapsed < limitMs, `took ${elapsed.toFixed(0)} ms`);
  return error;
}

Deno.test("limits: a billion-laughs document is refused within 1 s", () => {
  let yaml = 'lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i <= 9; i++) {
    yaml += `lol${i}: &lol${i} [${Array(10).fill(`*lol${i - 1}`).join(",")}]\n`;
  }
  yaml += "services:\n  web:\n    image: nginx\n    command: *lol9\n";
  refusedQuickly(() => parse(yaml), /would expand to more than \d+ values once its aliases/);

  // The same through a merge key and inside an extension field nobody reads.
  const merged = yaml.replace(
    "services:\n  web:\n    image: nginx\n    command: *lol9\n",
    "x-bomb: *lol9\nservices:\n  web: {image: nginx}\n",
  );
  refusedQuickly(() => parse(merged), /would expand/);

  // Many aliases of one big string.
  const chars = `x-s: &s ${"y".repeat(600_000)}\nx-t: [${
    Array(20).fill("*s").join(",")
  }]\nservices: {web: {image: nginx}}\n`;
  refusedQuickly(() => parse(chars), /would expand to more than \d+ characters/);
});

Deno.test("limits: 10,000-deep nesting is refused within 1 s, without a stack overflow", () => {
  const depth = 10_000;
  refusedQuickly(
    () => parse(`services: ${"[".repeat(depth)}${"]".repeat(depth)}\n`),
    /nested more than 64 levels deep/,
  );
  refusedQuickly(
    () => parse(`services: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`),
    /nested more than 64 levels deep/,
  );
  refusedQuickly(() => parse(`services:\n${"- ".repeat(depth)}x\n`), /nested more than 64/);
  let block = "services:\n";
  for (let i = 1; i <= 1000; i++) block += `${" ".repeat(i)}a:\n`;
  refusedQuickly(() => parse(block), /nested more than 64/);
  // Depth reached through a chain of aliases counts too.
  let chain = "x-0: &a0 [1]\n";
  for (let i = 1; i <= 100; i++) chain += `x-${i}: &a${i} [*a${i - 1}]\n`;
  refusedQuickly(
    () => parse(`${chain}services: {web: {image: nginx}}\n`),
    /nested more than 64 levels deep \(aliases included\)/,
  );
  // 60 levels are fine.
  const ok = parse(`x-deep: ${"[".repeat(60)}${"]".repeat(60)}\nservices: {web: {image: nginx}}\n`);
  assert.equal(ok.services.length, 1);
});

Deno.test("limits: an alias that contains itself or names no anchor is a 400", () => {
  refusedQuickly(() => parse("x-a: &a [*a]\nservices: {web: {image: nginx}}\n"), /contains it/);
  refusedQuickly(() => parse("x-a: *b\nservices: {web: {image: nginx}}\n"), /not defined before/);
});

Deno.test("limits: input larger than 1 MiB is a 413", () => {
  const yaml = `services: {web: {image: nginx}}\n#${"x".repeat(MAX_COMPOSE_BYTES)}\n`;
  for (const input of [{ yaml }, { yaml: "services: {web: {image: nginx}}\n", env: yaml }]) {
    try {
      parseCompose({ project: "p", ...input });
      assert.fail("expected a 413");
    } catch (error) {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 413);
    }
  }
  // Multi-byte characters count as bytes: 400,000 × "é" (2 bytes) is over the limit.
  try {
    parseCompose({
      project: "p",
      yaml: `services: {web: {image: nginx}}\n#${"é".repeat(600_000)}`,
    });
    assert.fail("expected a 413");
  } catch (error) {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 413);
  }
});

Deno.test("limits: a huge number of tiny values is refused quickly", () => {
  const yaml = `x-list: [${"1,".repeat(400_000)}1]\nservices: {web: {image: nginx}}\n`;
  // The cap trips after MAX_TOKENS tokens (about 0.4 s here); not one of the 1 s promises.
  refusedQuickly(() => parse(yaml), /too many values/, 3000);
});

Deno.test("limits: too many anchors, aliases or flow collections, or a second document, are refused early", () => {
  let anchors = "x-a:\n";
  for (let i = 0; i <= MAX_ANCHORS; i++) anchors += `  - &a${i} v\n`;
  refusedQuickly(
    () => parse(`${anchors}services: {web: {image: nginx}}\n`),
    /more than 1000 anchors/,
  );
  const aliases = `x-v: &v 1\nx-l: [${
    "*v,".repeat(MAX_ALIASES)
  }*v]\nservices: {web: {image: nginx}}\n`;
  refusedQuickly(() => parse(aliases), /more than 1000 aliases/);
  const flows = `x-l: [${"[],".repeat(MAX_FLOW_COLLECTIONS)}1]\nservices: {web: {image: nginx}}\n`;
  refusedQuickly(() => parse(flows), /more than 3000 \[ \] and \{ \} collections/);
  // 100,000 documents stop at the second one, not after lexing them all.
  const documents = `services: {web: {image: nginx}}\n${"---\n".repeat(100_000)}`;
  refusedQuickly(() => parse(documents), /exactly one YAML document.*\(line 2\)/, 200);
});

Deno.test("limits: a large but ordinary file parses", () => {
  let yaml = "services:\n";
  for (let i = 0; i < 120; i++) {
    yaml += `  svc${i}:\n    image: nginx\n    environment:\n`;
    for (let j = 0; j < 20; j++) yaml += `      VAR_${j}: value-${i}-${j}\n`;
  }
  const start = performance.now();
  const project = parse(yaml);
  assert.equal(project.services.length, 120);
  assert.ok(performance.now() - start < 5000);
});
