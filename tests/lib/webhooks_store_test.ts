/** The webhook store: a secret is sealed to its row and counts as a sealed secret at startup. */
import assert from "node:assert/strict";
import { openDatabase } from "../../lib/db/db.ts";
import { countSealedRows, loadOrCreateKey } from "../../lib/secrets.ts";
import { addWebhook, webhooksForDelivery } from "../../lib/webhooks/store.ts";

Deno.test("a webhook secret is sealed to its row and counts as a sealed secret at startup", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cm-webhook-store-" });
  const db = openDatabase(`${dir}/db.sqlite`);
  try {
    const key = await loadOrCreateKey(`${dir}/secret.key`, { encryptedRowsExist: false });
    assert.equal(countSealedRows(db), 0);
    await addWebhook(db, key, { url: "http://127.0.0.1:9/plain", createdBy: "admin" });
    assert.equal(countSealedRows(db), 0, "a webhook without a secret seals nothing");
    const signed = await addWebhook(db, key, {
      url: "http://127.0.0.1:9/signed",
      secret: "the-signing-secret",
      createdBy: "admin",
    });
    assert.equal(countSealedRows(db), 1, "a missing key file would lose the signing secret");

    // Bound to its row: moved to another row, it no longer opens.
    const hooks = await webhooksForDelivery(db, key);
    assert.equal(hooks.find((h) => h.id === signed.id)?.secret, "the-signing-secret");
    db.prepare(
      "UPDATE webhooks SET secret_sealed = (SELECT secret_sealed FROM webhooks WHERE id = ?) WHERE url = ?",
    )
      .run(signed.id, "http://127.0.0.1:9/plain");
    const moved = (await webhooksForDelivery(db, key)).find((h) => h.url.endsWith("/plain"));
    assert.equal(moved?.secret, undefined);
    assert.equal(moved?.secretError, true);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
