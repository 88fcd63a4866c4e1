import assert from "node:assert/strict";
import { openDatabase } from "../../lib/db/db.ts";
import {
  countSealedRows,
  loadOrCreateKey,
  openSecret,
  seal,
  SecretKeyError,
  SecretOpenError,
} from "../../lib/secrets.ts";

async function withTempDir(fn: (dir: string) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "cm-secrets-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeKeyFile(path: string, length: number, mode: number) {
  await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(length)), { mode });
  await Deno.chmod(path, mode);
}

function isOpenError(error: unknown) {
  return error instanceof SecretOpenError && error.message === "Cannot decrypt a stored secret";
}

Deno.test("a sealed secret opens with the same key and associated data", async () => {
  await withTempDir(async (dir) => {
    const key = await loadOrCreateKey(`${dir}/key`, { encryptedRowsExist: false });
    const sealed = await seal(key, "pässword ✓", "image_registries:1");
    assert.equal(sealed.length, 12 + new TextEncoder().encode("pässword ✓").length + 16);
    assert.equal(await openSecret(key, sealed, "image_registries:1"), "pässword ✓");
    // A fresh IV every time: the same plaintext never seals to the same bytes.
    const again = await seal(key, "pässword ✓", "image_registries:1");
    assert.notDeepEqual(again, sealed);
  });
});

Deno.test("a wrong key fails with the generic SecretOpenError", async () => {
  await withTempDir(async (dir) => {
    const key = await loadOrCreateKey(`${dir}/a`, { encryptedRowsExist: false });
    const other = await loadOrCreateKey(`${dir}/b`, { encryptedRowsExist: false });
    const sealed = await seal(key, "secret", "image_registries:1");
    await assert.rejects(openSecret(other, sealed, "image_registries:1"), isOpenError);
  });
});

Deno.test("a flipped byte or truncation fails with the generic SecretOpenError", async () => {
  await withTempDir(async (dir) => {
    const key = await loadOrCreateKey(`${dir}/key`, { encryptedRowsExist: false });
    const sealed = await seal(key, "secret", "image_registries:1");
    for (const index of [0, 11, 12, sealed.length - 1]) {
      const flipped = sealed.slice();
      flipped[index] ^= 0x01;
      await assert.rejects(openSecret(key, flipped, "image_registries:1"), isOpenError);
    }
    await assert.rejects(openSecret(key, sealed.slice(0, -1), "image_registries:1"), isOpenError);
    await assert.rejects(openSecret(key, sealed.slice(0, 20), "image_registries:1"), isOpenError);
    await assert.rejects(openSecret(key, new Uint8Array(), "image_registries:1"), isOpenError);
  });
});

Deno.test("a ciphertext moved to another row (other associated data) fails", async () => {
  await withTempDir(async (dir) => {
    const key = await loadOrCreateKey(`${dir}/key`, { encryptedRowsExist: false });
    const first = await seal(key, "first", "image_registries:1");
    const second = await seal(key, "second", "image_registries:2");
    await assert.rejects(openSecret(key, first, "image_registries:2"), isOpenError);
    await assert.rejects(openSecret(key, second, "image_registries:1"), isOpenError);
  });
});

Deno.test("a key file readable by group or others is refused", async () => {
  await withTempDir(async (dir) => {
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const path = `${dir}/key-${mode.toString(8)}`;
      await writeKeyFile(path, 32, mode);
      await assert.rejects(
        loadOrCreateKey(path, { encryptedRowsExist: true }),
        (error: unknown) =>
          error instanceof SecretKeyError && error.message.includes("chmod 600") &&
          error.message.includes(mode.toString(8)),
      );
    }
  });
});

Deno.test("a key file that is not exactly 32 bytes is refused", async () => {
  await withTempDir(async (dir) => {
    for (const length of [0, 31, 33]) {
      const path = `${dir}/key-${length}`;
      await writeKeyFile(path, length, 0o600);
      await assert.rejects(
        loadOrCreateKey(path, { encryptedRowsExist: false }),
        (error: unknown) =>
          error instanceof SecretKeyError && error.message.includes(`is ${length} bytes long`),
      );
    }
  });
});

Deno.test("a missing key file with encrypted rows is refused and not created", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/sub/key`;
    await assert.rejects(
      loadOrCreateKey(path, { encryptedRowsExist: true }),
      (error: unknown) => error instanceof SecretKeyError && error.message.includes("backup"),
    );
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("a missing key file without encrypted rows is created 0600, 32 bytes, and reused", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/sub/key`;
    const key = await loadOrCreateKey(path, { encryptedRowsExist: false });
    const info = await Deno.stat(path);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal(info.size, 32);
    assert.equal((await Deno.stat(`${dir}/sub`)).mode! & 0o077, 0);
    assert.equal(key.extractable, false);

    const sealed = await seal(key, "kept", "image_registries:7");
    const reloaded = await loadOrCreateKey(path, { encryptedRowsExist: true });
    assert.equal(await openSecret(reloaded, sealed, "image_registries:7"), "kept");
    assert.equal(info.size, (await Deno.stat(path)).size);
  });
});

Deno.test("countSealedRows counts the image_registries rows", async () => {
  await withTempDir((dir) => {
    const db = openDatabase(`${dir}/cm.db`);
    try {
      assert.equal(countSealedRows(db), 0);
      db.prepare(
        `INSERT INTO image_registries
           (server_address, username, password_sealed, created_at, updated_at)
         VALUES ('localhost:5000', 'u', x'00', '', '')`,
      ).run();
      assert.equal(countSealedRows(db), 1);
    } finally {
      db.close();
    }
  });
});
