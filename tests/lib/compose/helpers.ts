import assert from "node:assert/strict";
import { ComposeError, parseCompose } from "../../../lib/compose/parse.ts";
import type {
  ComposeInput,
  ComposeProject,
  ComposeWarning,
  ServiceSpec,
} from "../../../lib/compose/types.ts";

/** Parses with the project name "demo" unless the input says otherwise. */
export function parse(yaml: string, extra: Partial<ComposeInput> = {}): ComposeProject {
  return parseCompose({ project: "demo", yaml, ...extra });
}

/** The one service called `name` (default "web"). */
export function service(
  yaml: string,
  name = "web",
  extra: Partial<ComposeInput> = {},
): ServiceSpec {
  const found = parse(yaml, extra).services.find((s) => s.name === name);
  assert.ok(found, `service ${name} not found`);
  return found;
}

/** A one-service file: `body` is indented under `services: web:` (4 spaces per line). */
export function web(body: string, tail = ""): string {
  const lines = body.split("\n").map((line) => (line === "" ? line : `    ${line}`));
  return `services:\n  web:\n    image: nginx\n${lines.join("\n")}\n${tail}`;
}

/** Asserts that `fn` throws a ComposeError (status 400) whose message matches `pattern`. */
export function rejects(fn: () => unknown, pattern?: RegExp): ComposeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ComposeError, `expected a ComposeError, got ${error}`);
    assert.equal(error.status, 400);
    if (pattern) assert.match(error.message, pattern);
    return error;
  }
  assert.fail("expected a ComposeError");
}

/** The warnings reduced to [line, service, kind] plus a message pattern check. */
export function findWarning(
  warnings: ComposeWarning[],
  kind: ComposeWarning["kind"],
  pattern: RegExp,
): ComposeWarning {
  const found = warnings.find((w) => w.kind === kind && pattern.test(w.message));
  assert.ok(
    found,
    `no ${kind} warning matching ${pattern} in ${JSON.stringify(warnings, null, 1)}`,
  );
  return found;
}
