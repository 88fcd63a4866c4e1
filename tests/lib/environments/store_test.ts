/**
 * The environments store and its checks: addresses, names and ids, the client key sealed
 * (never stored in the clear, bound to its row), and startup knowing a sealed key exists.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../../../lib/db/db.ts";
import { countSealedRows, loadOrCreateKey } from "../../../lib/secrets.ts";
import {
  engineHostOf,
  idForName,
  parseAddress,
  PLAIN_TCP_WARNING,
  validateName,
} from "../../../lib/environments/address.ts";
import {
  deleteEnvironment,
  getEnvironment,
  insertEnvironment,
  listEnvironments,
  tlsMaterialOf,
} from "../../../lib/environments/store.ts";
import { ValidationError } from "../../../lib/errors.ts";

const PEM = (label: string, body: string) =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

Deno.test("addresses: unix paths and tcp host:port; plain tcp only on 127.0.0.1, with a warning", () => {
  assert.deepEqual(parseAddress("unix:///run/x.sock"), { kind: "unix", path: "/run/x.sock" });
  assert.deepEqual(parseAddress("tcp://10.0.0.5:2376"), {
    kind: "tcp",
    hostname: "10.0.0.5",
    port: 2376,
  });
  assert.deepEqual(parseAddress("tcp://[::1]:2376"), { kind: "tcp", hostname: "::1", port: 2376 });
  for (
    const bad of [
      "unix://run/x",
      "unix:///a/../b",
      "tcp://host",
      "tcp://h:0",
      "tcp://h:70000",
      "ssh://h",
    ]
  ) {
    assert.throws(() => parseAddress(bad), ValidationError, bad);
  }
  assert.equal(
    engineHostOf(parseAddress("tcp://127.0.0.1:2375"), undefined).warning,
    PLAIN_TCP_WARNING,
  );
  assert.throws(() => engineHostOf(parseAddress("tcp://10.0.0.5:2375"), undefined), /mutual TLS/);
  assert.throws(
    () => engineHostOf(parseAddress("unix:///x.sock"), { ca: "a", cert: "b", key: "c" }),
    /only to tcp/,
  );
  const host = engineHostOf(parseAddress("tcp://10.0.0.5:2376"), { ca: "a", cert: "b", key: "c" });
  assert.equal(host.host.kind, "tls");
});

Deno.test("names and ids: local is reserved, ids are slugs made unique", () => {
  assert.throws(() => validateName("Local"), /own Engine/);
  assert.throws(() => validateName("  "), /required/);
  assert.throws(() => validateName("a\u0007b"), /control/);
  assert.equal(validateName("  Prod EU  "), "Prod EU");
  const taken = new Set(["prod-eu"]);
  assert.equal(idForName("Prod EU", (id) => taken.has(id)), "prod-eu-2");
  assert.equal(idForName("Local", () => false), "local-2");
  assert.equal(idForName("???", () => false), "env");
});

Deno.test("the client key is sealed to its row and counts as a sealed secret at startup", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-env-store-" });
  const db = openDatabase(`${dir}/db.sqlite`);
  try {
    const key = await loadOrCreateKey(`${dir}/secret.key`, { encryptedRowsExist: false });
    const tls = {
      ca: PEM("CERTIFICATE", "Q0E="),
      cert: PEM("CERTIFICATE", "Q0VSVA=="),
      key: PEM("PRIVATE KEY", "c2VjcmV0LWtleS1ieXRlcw=="),
    };
    assert.equal(countSealedRows(db), 0);
    await insertEnvironment(db, key, {
      id: "node-1",
      name: "Node 1",
      url: "tcp://10.0.0.5:2376",
      tls,
    });
    await insertEnvironment(db, key, {
      id: "sock",
      name: "Sock",
      url: "unix:///x.sock",
      tls: undefined,
    });
    assert.equal(countSealedRows(db), 1, "a missing key file would lose the client key");
    const raw = db.prepare("SELECT * FROM environments WHERE id = 'node-1'").get() as Record<
      string,
      unknown
    >;
    assert.ok(!new TextDecoder().decode(raw.key_sealed as Uint8Array).includes("PRIVATE KEY"));
    assert.ok(!JSON.stringify(listEnvironments(db)).includes("PRIVATE KEY"));
    assert.deepEqual(await tlsMaterialOf(db, key, "node-1"), tls);
    assert.equal(await tlsMaterialOf(db, key, "sock"), undefined);
    // Bound to its row: copied to another id, it does not open.
    db.prepare(
      `INSERT INTO environments (id, name, url, tls_ca, tls_cert, key_sealed, created_at, updated_at)
       SELECT 'copy', 'Copy', url, tls_ca, tls_cert, key_sealed, created_at, updated_at
       FROM environments WHERE id = 'node-1'`,
    ).run();
    await assert.rejects(tlsMaterialOf(db, key, "copy"));
    await assert.rejects(
      insertEnvironment(db, key, { id: "other", name: "node 1", url: "unix:///y", tls: undefined }),
      /already exists/,
    );
    assert.equal(deleteEnvironment(db, "node-1"), true);
    assert.equal(getEnvironment(db, "node-1"), undefined);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
