import assert from "node:assert/strict";
import { parse, rejects } from "./helpers.ts";

const DB =
  "services:\n  db:\n    image: postgres\n    volumes: [./data:/var/lib/postgresql/data]\n" +
  "    networks: [back]\nnetworks:\n  back: {}\n";

Deno.test("include: services, networks and volumes of other stack files join the project", () => {
  const project = parse(
    "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: nginx\n    depends_on: [db]\n",
    { files: { "db/compose.yaml": DB } },
  );
  assert.deepEqual(project.services.map((s) => s.name), ["db", "web"]);
  const db = project.services.find((s) => s.name === "db")!;
  assert.deepEqual(db.volumes.map((v) => "source" in v && v.source), ["./db/data"]);
  assert.deepEqual(project.networks.back, { name: "demo_back", external: false });
  // A file with only include: is a project too.
  const only = parse("include:\n  - path: [db/compose.yaml]\n", {
    files: { "db/compose.yaml": DB },
  });
  assert.deepEqual(only.services.map((s) => s.name), ["db"]);
});

Deno.test("include: a conflicting name, a missing file or a cycle is a 400", () => {
  rejects(
    () =>
      parse("include: [db.yml]\nservices:\n  db:\n    image: mysql\n", {
        files: { "db.yml": DB },
      }),
    /services\.db from "db.yml" conflicts/,
  );
  rejects(() => parse("include: [db.yml]\n"), /"db.yml" is not in the stack directory/);
  rejects(
    () =>
      parse("include: [a.yml]\n", {
        files: { "a.yml": "include: [b.yml]\n", "b.yml": "include: [a.yml]\n" },
      }),
    /makes a cycle/,
  );
});
