import assert from "node:assert/strict";
import {
  EMPTY_FORM,
  environmentBody,
  fieldOf,
  missingField,
  pemFromText,
} from "../../islands/environments/form.ts";
import type { EnvironmentView } from "../../islands/environments/types.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
const existing: EnvironmentView = {
  id: "edge",
  name: "edge",
  url: "tcp://10.0.0.5:2376",
  tls: true,
  state: { status: "up" },
};

Deno.test("a new TLS environment sends name, url and the three PEMs", () => {
  const body = environmentBody(
    { name: " edge ", url: "tcp://10.0.0.5:2376", ca: PEM, cert: PEM, key: PEM },
    null,
  );
  assert.deepEqual(body, {
    name: "edge",
    url: "tcp://10.0.0.5:2376",
    tls: { ca: `${PEM}\n`, cert: `${PEM}\n`, key: `${PEM}\n` },
  });
});

Deno.test("a unix environment sends no TLS even when PEMs were pasted", () => {
  const body = environmentBody({ ...EMPTY_FORM, name: "s", url: "unix:///x.sock", ca: PEM }, null);
  assert.deepEqual(body, { name: "s", url: "unix:///x.sock" });
});

Deno.test("an edit sends only what changed, and keeps the stored key unless replaced", () => {
  assert.deepEqual(
    environmentBody({ ...EMPTY_FORM, name: "edge-2", url: existing.url }, existing),
    { name: "edge-2" },
  );
  assert.deepEqual(
    environmentBody({ ...EMPTY_FORM, name: "edge", url: existing.url, ca: PEM }, existing),
    { tls: { ca: `${PEM}\n` } },
  );
});

Deno.test("missingField names the first field to fix", () => {
  assert.equal(missingField(EMPTY_FORM, null)?.field, "name");
  assert.equal(missingField({ ...EMPTY_FORM, name: "a" }, null)?.field, "url");
  assert.equal(missingField({ ...EMPTY_FORM, name: "a", url: "http://x" }, null)?.field, "url");
  assert.equal(
    missingField({ ...EMPTY_FORM, name: "a", url: "tcp://h:2376", ca: PEM, cert: PEM }, null)
      ?.field,
    "key",
  );
  assert.equal(missingField({ ...EMPTY_FORM, name: "a", url: "tcp://127.0.0.1:2375" }, null), null);
  assert.equal(
    missingField({ ...EMPTY_FORM, name: "a", url: existing.url, ca: PEM }, existing),
    null,
  );
});

Deno.test("fieldOf maps the server's field names to the form's", () => {
  assert.equal(fieldOf("tls.ca"), "ca");
  assert.equal(fieldOf("ca"), "ca");
  assert.equal(fieldOf("tls.key"), "key");
  assert.equal(fieldOf("tls.cert"), "cert");
  assert.equal(fieldOf("url"), "url");
  assert.equal(fieldOf("name"), "name");
  assert.equal(fieldOf("other"), undefined);
  assert.equal(fieldOf(undefined), undefined);
});

Deno.test("pemFromText accepts PEM text only", () => {
  assert.equal(pemFromText(`\n${PEM}\n`), PEM);
  assert.equal(pemFromText("\x00\x01binary"), null);
});
