import assert from "node:assert/strict";
import { type Db, openDatabase } from "../../lib/db/db.ts";
import { ValidationError } from "../../lib/errors.ts";
import {
  credentialsFor,
  deleteRegistry,
  findRegistry,
  listRegistries,
  markRegistryUsed,
  normaliseServerAddress,
  registryAddressProblem,
  registryTarget,
  upsertRegistry,
} from "../../lib/registries.ts";
import { loadOrCreateKey, SecretOpenError } from "../../lib/secrets.ts";

interface Fixture {
  dir: string;
  dbPath: string;
  db: Db;
  key: CryptoKey;
}

async function withStore(fn: (fixture: Fixture) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "cm-registries-test-" });
  const dbPath = `${dir}/cm.db`;
  const db = openDatabase(dbPath);
  try {
    const key = await loadOrCreateKey(`${dir}/secret.key`, { encryptedRowsExist: false });
    await fn({ dir, dbPath, db, key });
  } finally {
    if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function validationError(field: string) {
  return (error: unknown) => error instanceof ValidationError && error.field === field;
}

const SUMMARY_KEYS = [
  "created_at",
  "id",
  "last_used_at",
  "server_address",
  "updated_at",
  "username",
];

Deno.test("server addresses are normalised to host[:port]", () => {
  const cases: [string, string][] = [
    ["https://Index.Docker.io/", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["localhost:5000", "localhost:5000"],
    ["http://LocalHost:5000/", "localhost:5000"],
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["ghcr.io", "ghcr.io"],
    ["my-registry.example.com:443", "my-registry.example.com:443"],
    ["[::1]:5000", "[::1]:5000"],
    ["[0:0:0:0:0:0:0:1]", "[::1]"],
  ];
  for (const [input, expected] of cases) {
    assert.equal(normaliseServerAddress(input), expected, input);
  }
});

Deno.test("invalid server addresses are refused with a ValidationError naming the field", () => {
  const bad = [
    "",
    "https://",
    "host/path",
    "https://host/v2/",
    "a b",
    " host",
    "host\r\nX: y",
    "host\n",
    "host:99999",
    "host:0",
    "host:",
    "host:abc",
    "user@host",
    "user:pass@host:5000",
    "-host",
    "host-.example",
    "under_score.example",
    "a..b",
    "256.1.1.1:5000",
    "1.2.3",
    "::1",
    "[::1",
    "[fe80::1%eth0]",
    "[::1]x",
    "ftp://host",
    "host?x=1",
    `${"a".repeat(64)}.example`,
  ];
  for (const input of bad) {
    assert.throws(
      () => normaliseServerAddress(input),
      (error: unknown) =>
        error instanceof ValidationError && error.field === "server_address" &&
        error.status === 400 && error.message.startsWith("Registry address "),
      JSON.stringify(input),
    );
  }
});

Deno.test("upsert and list never return the password", async () => {
  await withStore(async ({ db, key }) => {
    const saved = await upsertRegistry(db, key, {
      server_address: "https://LOCALHOST:5000/",
      username: "alice",
      password: "hunter2-canary",
    });
    assert.deepEqual(Object.keys(saved).sort(), SUMMARY_KEYS);
    assert.equal(saved.server_address, "localhost:5000");
    assert.equal(saved.username, "alice");
    assert.equal(saved.last_used_at, null);
    const listed = listRegistries(db);
    assert.deepEqual(listed, [saved]);
    assert.ok(!JSON.stringify(listed).includes("hunter2"));
    assert.deepEqual(findRegistry(db, "localhost:5000"), saved);
    assert.deepEqual(await credentialsFor(db, key, "localhost:5000"), {
      username: "alice",
      password: "hunter2-canary",
      serveraddress: "localhost:5000",
    });
  });
});

Deno.test("an update without a password keeps the stored one", async () => {
  await withStore(async ({ db, key }) => {
    const first = await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: "old-password",
    });
    const second = await upsertRegistry(db, key, {
      server_address: "http://localhost:5000",
      username: "bob",
    });
    assert.equal(second.id, first.id);
    assert.equal(second.username, "bob");
    assert.equal(listRegistries(db).length, 1);
    assert.deepEqual(await credentialsFor(db, key, "localhost:5000"), {
      username: "bob",
      password: "old-password",
      serveraddress: "localhost:5000",
    });

    await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "bob",
      password: "new-password",
    });
    assert.equal((await credentialsFor(db, key, "localhost:5000"))?.password, "new-password");
  });
});

Deno.test("inserting without a password or with bad fields is a ValidationError", async () => {
  await withStore(async ({ db, key }) => {
    const base = { server_address: "localhost:5000", username: "alice", password: "pw" };
    await assert.rejects(
      upsertRegistry(db, key, { ...base, password: undefined }),
      validationError("password"),
    );
    await assert.rejects(
      upsertRegistry(db, key, { ...base, password: "" }),
      validationError("password"),
    );
    await assert.rejects(
      upsertRegistry(db, key, { ...base, password: "x".repeat(4097) }),
      validationError("password"),
    );
    for (const username of ["", "a".repeat(256), "al\nice", "al\rice", "al\x00ice", "a:b"]) {
      await assert.rejects(
        upsertRegistry(db, key, { ...base, username }),
        validationError("username"),
      );
    }
    await assert.rejects(
      upsertRegistry(db, key, { ...base, server_address: "host/path" }),
      validationError("server_address"),
    );
    assert.deepEqual(listRegistries(db), []);

    // The limits themselves are accepted.
    await upsertRegistry(db, key, {
      ...base,
      username: "a".repeat(255),
      password: "p".repeat(4096),
    });
    assert.equal((await credentialsFor(db, key, "localhost:5000"))?.password.length, 4096);
  });
});

Deno.test("credentials are only given for the exact normalised address", async () => {
  await withStore(async ({ db, key }) => {
    await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: "pw",
    });
    assert.equal(await credentialsFor(db, key, "localhost:5001"), undefined);
    assert.equal(await credentialsFor(db, key, "localhost"), undefined);
    assert.equal(await credentialsFor(db, key, "127.0.0.1:5000"), undefined);
    assert.equal(await credentialsFor(db, key, "docker.io"), undefined);
    assert.equal((await credentialsFor(db, key, "HTTPS://LocalHost:5000/"))?.password, "pw");

    await upsertRegistry(db, key, {
      server_address: "index.docker.io",
      username: "hub",
      password: "hubpw",
    });
    assert.deepEqual(await credentialsFor(db, key, "https://registry-1.docker.io"), {
      username: "hub",
      password: "hubpw",
      serveraddress: "docker.io",
    });
  });
});

Deno.test("delete and markRegistryUsed", async () => {
  await withStore(async ({ db, key }) => {
    const saved = await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: "pw",
    });
    markRegistryUsed(db, saved.id);
    const used = listRegistries(db)[0];
    assert.ok(used.last_used_at !== null && !Number.isNaN(Date.parse(used.last_used_at)));
    assert.equal(registryTarget(db, String(saved.id)), "localhost:5000");
    assert.equal(registryTarget(db, "999"), "999");
    assert.equal(registryTarget(db, "x".repeat(300)), "x".repeat(200));
    // The deleted registry comes back, so the audit row can say which one went.
    assert.deepEqual(deleteRegistry(db, saved.id), used);
    assert.equal(deleteRegistry(db, saved.id), undefined);
    assert.deepEqual(listRegistries(db), []);
    assert.equal(await credentialsFor(db, key, "localhost:5000"), undefined);
  });
});

Deno.test("concurrent upserts each bind their password to their own row", async () => {
  await withStore(async ({ db, key }) => {
    const ports = Array.from({ length: 25 }, (_, index) => 5000 + index);
    await Promise.all(ports.map((port) =>
      upsertRegistry(db, key, {
        server_address: `localhost:${port}`,
        username: `user${port}`,
        password: `pw${port}`,
      })
    ));
    // Two concurrent inserts of one new address: one inserts, the other updates.
    await Promise.all(["a", "b"].map((suffix) =>
      upsertRegistry(db, key, {
        server_address: "localhost:6000",
        username: `user-${suffix}`,
        password: `pw-${suffix}`,
      })
    ));
    assert.equal(listRegistries(db).length, ports.length + 1);
    for (const port of ports) {
      const credentials = await credentialsFor(db, key, `localhost:${port}`);
      assert.equal(credentials?.password, `pw${port}`);
      assert.equal(credentials?.username, `user${port}`);
    }
    const shared = await credentialsFor(db, key, "localhost:6000");
    assert.ok(
      (shared?.username === "user-a" && shared.password === "pw-a") ||
        (shared?.username === "user-b" && shared.password === "pw-b"),
    );
  });
});

Deno.test("the password never appears in plaintext in the database files", async () => {
  await withStore(async ({ db, dbPath, key }) => {
    const canary = "CANARY-Pa55word-7f3e9c";
    await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: canary,
    });
    await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: `${canary}-2`,
    });
    const needle = new TextEncoder().encode(canary);
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
    const search = async () => {
      let read = 0;
      for (const file of files) {
        let bytes: Uint8Array;
        try {
          bytes = await Deno.readFile(file);
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) continue;
          throw error;
        }
        read++;
        assert.equal(indexOf(bytes, needle), -1, `canary found in ${file}`);
      }
      return read;
    };
    // While open the WAL holds the latest pages; after close they are checkpointed.
    assert.ok(await search() >= 2);
    db.close();
    assert.ok(await search() >= 1);
  });
});

Deno.test("swapping sealed passwords between rows makes credentialsFor fail", async () => {
  await withStore(async ({ db, key }) => {
    await upsertRegistry(db, key, {
      server_address: "localhost:5000",
      username: "alice",
      password: "alice-pw",
    });
    await upsertRegistry(db, key, {
      server_address: "localhost:5001",
      username: "bob",
      password: "bob-pw",
    });
    const rows = db.prepare("SELECT id, password_sealed FROM image_registries ORDER BY id")
      .all() as { id: number; password_sealed: Uint8Array }[];
    assert.equal(rows.length, 2);
    const write = db.prepare("UPDATE image_registries SET password_sealed = ? WHERE id = ?");
    write.run(rows[1].password_sealed, rows[0].id);
    write.run(rows[0].password_sealed, rows[1].id);
    for (const address of ["localhost:5000", "localhost:5001"]) {
      await assert.rejects(
        credentialsFor(db, key, address),
        (error: unknown) =>
          error instanceof SecretOpenError && error.message === "Cannot decrypt a stored secret",
      );
    }
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

Deno.test("registry addresses that are not registries are refused; loopback ones on other ports are not", () => {
  const panel = { hostname: "127.0.0.1", port: 8080 };
  const refused: [string, RegExp, { hostname: string; port: number }?][] = [
    ["169.254.169.254", /link-local/],
    ["169.254.0.1:5000", /link-local/],
    ["[fe80::1]", /link-local/],
    ["[febf::1]:5000", /link-local/],
    ["[::ffff:a9fe:a9fe]", /link-local/],
    ["0.0.0.0", /unspecified/],
    ["0.1.2.3:5000", /unspecified/],
    ["[::]:5000", /unspecified/],
    ["239.1.1.1", /multicast/],
    ["[ff02::1]", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["127.0.0.1:2375", /Docker daemon/],
    ["127.0.0.2:2376", /Docker daemon/],
    ["[::1]:2375", /Docker daemon/],
    ["localhost:2375", /Docker daemon/],
    ["127.0.0.1:8080", /panel's own/, panel],
    ["localhost:8080", /panel's own/, panel],
    ["[::1]:8080", /panel's own/, panel],
    ["10.0.0.5:8080", /panel's own/, { hostname: "0.0.0.0", port: 8080 }],
    ["panel.example:8080", /panel's own/, { hostname: "panel.example", port: 8080 }],
    ["127.0.0.1", /panel's own/, { hostname: "127.0.0.1", port: 443 }],
  ];
  for (const [address, why, listen] of refused) {
    assert.match(registryAddressProblem(address, listen) ?? "", why, address);
  }
  for (
    const address of [
      "127.0.0.1:5000",
      "localhost:5000",
      "[::1]:5000",
      "docker.io",
      "registry.example:8080",
      "10.0.0.5:5000",
      "[2001:db8::1]:5000",
      "169.255.0.1",
    ]
  ) {
    assert.equal(registryAddressProblem(address, panel), undefined, address);
  }
});
