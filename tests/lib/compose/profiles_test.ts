import assert from "node:assert/strict";
import { parse, rejects } from "./helpers.ts";

const FILE = `
services:
  web:
    image: nginx
  debug:
    image: busybox
    profiles: [debug]
  tools:
    image: busybox
    profiles: [tools, debug]
    depends_on:
      db: {condition: service_started, required: false}
  db:
    image: postgres
    profiles: [db]
`;

Deno.test("profiles: services of inactive profiles are skipped, as the CLI skips them", () => {
  const project = parse(FILE);
  assert.deepEqual(project.services.map((s) => s.name), ["web"]);
  assert.deepEqual(project.profiles, ["db", "debug", "tools"]);
  assert.deepEqual(project.disabled_services, ["db", "debug", "tools"]);
  assert.ok(!project.warnings.some((w) => /profiles/.test(w.message)));
});

Deno.test("profiles: an active profile enables its services; * enables all", () => {
  const debug = parse(FILE, { profiles: ["debug"] });
  assert.deepEqual(debug.services.map((s) => s.name), ["debug", "tools", "web"]);
  assert.deepEqual(debug.active_profiles, ["debug"]);
  // tools' optional dependency on the disabled db is dropped, as compose-go drops it.
  assert.deepEqual(debug.services.find((s) => s.name === "tools")!.depends_on, {});
  const all = parse(FILE, { profiles: ["*"] });
  assert.deepEqual(all.services.map((s) => s.name), ["db", "debug", "tools", "web"]);
  assert.deepEqual(Object.keys(all.services.find((s) => s.name === "tools")!.depends_on), ["db"]);
});

Deno.test("profiles: a required dependency on a disabled service is a 400 naming it", () => {
  const yaml = "services:\n  web:\n    image: nginx\n    depends_on: [db]\n" +
    "  db:\n    image: postgres\n    profiles: [db]\n";
  const error = rejects(
    () => parse(yaml),
    /depends on "db", which is in an inactive profile \(db\)/,
  );
  assert.equal(error.line, 4);
  assert.equal(parse(yaml, { profiles: ["db"] }).services.length, 2);
  rejects(
    () => parse("services:\n  web:\n    image: nginx\n    profiles: [bad/name]\n"),
    /not a valid profile name/,
  );
  rejects(
    () => parse(FILE, { profiles: "debug" as unknown as string[] }),
    /profiles must be a list/,
  );
});
