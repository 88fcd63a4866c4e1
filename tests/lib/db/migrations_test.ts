import assert from "node:assert/strict";
import { DatabaseCorruptError, openDatabase } from "../../../lib/db/db.ts";
import { type Migration, MIGRATIONS, schemaVersion } from "../../../lib/db/migrations.ts";

const V1: Migration = {
  version: 1,
  name: "items",
  sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT) STRICT",
};
const V2: Migration = {
  version: 2,
  name: "items_note",
  sql: "ALTER TABLE items ADD COLUMN note TEXT",
};

async function tempDbPath() {
  const dir = await Deno.makeTempDir({ prefix: "cm-db-test-" });
  return { dir, path: `${dir}/test.db` };
}

Deno.test("a database at version N is upgraded to N+1 and keeps its rows", async () => {
  const { dir, path } = await tempDbPath();
  try {
    const first = openDatabase(path, { migrations: [V1] });
    assert.equal(schemaVersion(first), 1);
    first.prepare("INSERT INTO items (name) VALUES (?)").run("kept");
    first.close();

    const second = openDatabase(path, { migrations: [V1, V2] });
    assert.equal(schemaVersion(second), 2);
    const row = second.prepare("SELECT name, note FROM items").get() as {
      name: string;
      note: null;
    };
    assert.deepEqual({ ...row }, { name: "kept", note: null });
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrating twice is a no-op", async () => {
  const { dir, path } = await tempDbPath();
  try {
    openDatabase(path, { migrations: [V1, V2] }).close();
    const again = openDatabase(path, { migrations: [V1, V2] });
    const rows = again.prepare("SELECT version FROM schema_migrations ORDER BY version").all();
    assert.deepEqual(rows.map((row) => row.version), [1, 2]);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing migration rolls back as a whole", async () => {
  const { dir, path } = await tempDbPath();
  try {
    openDatabase(path, { migrations: [V1] }).close();
    const broken: Migration = { version: 3, name: "broken", sql: "THIS IS NOT SQL" };
    assert.throws(() => openDatabase(path, { migrations: [V1, V2, broken] }));
    const db = openDatabase(path, { migrations: [V1] });
    assert.equal(schemaVersion(db), 1, "version 2 was not recorded");
    const columns = db.prepare("PRAGMA table_info(items)").all().map((c) => c.name);
    assert.ok(!columns.includes("note"), "version 2's column was rolled back too");
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the connection uses WAL, foreign keys, NORMAL sync and a busy timeout", async () => {
  const { dir, path } = await tempDbPath();
  try {
    const db = openDatabase(path);
    const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma("journal_mode"), "wal");
    assert.equal(pragma("foreign_keys"), 1);
    assert.equal(pragma("synchronous"), 1);
    assert.ok(Number(pragma("busy_timeout")) >= 1000);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt file refuses to start and is left as it was", async () => {
  const { dir, path } = await tempDbPath();
  try {
    const garbage = new TextEncoder().encode("this is not a sqlite database at all ".repeat(200));
    await Deno.writeFile(path, garbage);
    assert.throws(() => openDatabase(path), (error: unknown) => {
      assert.ok(error instanceof DatabaseCorruptError);
      assert.match(error.message, /corrupt|integrity/);
      assert.match(error.message, /Refusing to start/);
      return true;
    });
    assert.deepEqual(await Deno.readFile(path), garbage, "the file was not recreated");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a database with damaged pages fails the integrity check", async () => {
  const { dir, path } = await tempDbPath();
  try {
    const db = openDatabase(path, { migrations: [V1] });
    db.exec("PRAGMA journal_mode = DELETE");
    const insert = db.prepare("INSERT INTO items (name) VALUES (?)");
    for (let i = 0; i < 2000; i++) insert.run(`row ${i} ${"x".repeat(100)}`);
    db.exec("CREATE INDEX items_name ON items (name)");
    db.close();
    // Overwrite the middle of the file (table and index pages) but keep the header.
    const bytes = await Deno.readFile(path);
    for (let i = 8192; i < bytes.length - 4096; i += 4096) bytes.fill(0xa5, i + 100, i + 900);
    await Deno.writeFile(path, bytes);
    assert.throws(() => openDatabase(path, { migrations: [V1] }), DatabaseCorruptError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a schema newer than this build refuses to start", async () => {
  const { dir, path } = await tempDbPath();
  try {
    openDatabase(path, { migrations: [V1, V2] }).close();
    assert.throws(() => openDatabase(path, { migrations: [V1] }), /newer than this build knows/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
