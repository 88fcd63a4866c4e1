/**
 * /api/webhooks and webhook deliveries to local receivers: the URL validated, the secret
 * sealed and never returned or audited; a delivery carries the documented payload and a
 * signature; a failing receiver is retried with back-off and then audited.
 */
import assert from "node:assert/strict";
import { auditRows, createTestApp } from "../fixtures/app.ts";
import { createWebhookNotifier } from "../../lib/webhooks/deliver.ts";
import type { WebhookPayload } from "../../lib/webhooks/payload.ts";

interface Received {
  payload: WebhookPayload;
  headers: Headers;
  body: string;
}

/** A receiver on 127.0.0.1 that answers each request with the next status of `statuses`. */
function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.text();
      received.push({ payload: JSON.parse(body), headers: request.headers, body });
      return new Response("", { status: statuses[received.length - 1] ?? statuses.at(-1)! });
    },
  );
  return { received, url: `http://127.0.0.1:${server.addr.port}/hooks/t0ken-path`, server };
}

async function hmacHex(secret: string, body: string) {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(body));
  return [...new Uint8Array(signature)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("webhooks API: admins only, URL validated, secret never returned or audited", async () => {
  const app = await createTestApp();
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    const viewer = app.cookieFor(await app.addUser("viewer", "viewer"));
    assert.equal((await app.request("GET", "/api/webhooks", { cookie: viewer })).status, 403);
    assert.equal(
      (await app.request("POST", "/api/webhooks", {
        cookie: viewer,
        json: { url: "http://127.0.0.1:9/x" },
      })).status,
      403,
    );
    for (
      const url of [
        "ftp://127.0.0.1/x",
        "http://user:pw@127.0.0.1:9/x",
        "http://169.254.169.254/latest",
        "http://127.0.0.1:2375/containers/create",
        "not a url",
        "",
      ]
    ) {
      const refused = await app.request("POST", "/api/webhooks", { cookie: admin, json: { url } });
      assert.equal(refused.status, 400, `${url}: ${await refused.clone().text()}`);
      assert.equal((await refused.json()).field, "url");
    }
    const secret = "s3cret-signing-value";
    const added = await app.request("POST", "/api/webhooks", {
      cookie: admin,
      json: { url: "http://127.0.0.1:9/hooks/t0ken-path", secret },
    });
    const addedText = await added.text();
    assert.equal(added.status, 201, addedText);
    const hook = JSON.parse(addedText);
    assert.equal(hook.url, "http://127.0.0.1:9/hooks/t0ken-path");
    assert.equal(hook.has_secret, true);
    assert.equal(hook.created_by, "admin");
    assert.ok(!addedText.includes(secret));
    const duplicate = await app.request("POST", "/api/webhooks", {
      cookie: admin,
      json: { url: "http://127.0.0.1:9/hooks/t0ken-path" },
    });
    assert.equal(duplicate.status, 409);

    const listed = await app.request("GET", "/api/webhooks", { cookie: admin });
    const listText = await listed.text();
    assert.deepEqual(JSON.parse(listText).webhooks.map((w: { id: string }) => w.id), [hook.id]);
    assert.ok(!listText.includes(secret));
    const stored = app.deps.db.prepare("SELECT secret_sealed FROM webhooks").get() as {
      secret_sealed: Uint8Array;
    };
    assert.ok(!new TextDecoder().decode(stored.secret_sealed).includes(secret), "sealed");

    const removed = await app.request("DELETE", `/api/webhooks/${hook.id}`, { cookie: admin });
    assert.equal(removed.status, 200, await removed.text());
    assert.equal(
      (await app.request("DELETE", `/api/webhooks/${hook.id}`, { cookie: admin })).status,
      404,
    );
    const rows = auditRows(app.deps.db).filter((r) => r.action.startsWith("webhook."));
    // Every attempt is audited, refusals included (six invalid URLs, a duplicate).
    assert.deepEqual(rows.map((r) => [r.action, r.exit_code]), [
      ...Array(6).fill(["webhook.add", 400]),
      ["webhook.add", 0],
      ["webhook.add", 409],
      ["webhook.remove", 0],
      ["webhook.remove", 404],
    ]);
    assert.equal(rows[6].target, "http://127.0.0.1:9");
    const all = JSON.stringify(auditRows(app.deps.db));
    assert.ok(!all.includes(secret), "no secret in the audit trail");
    assert.ok(!all.includes("t0ken-path"), "no webhook path in the audit trail");
  } finally {
    await app.close();
  }
});

Deno.test("webhook delivery: the documented payload, signed; a failing receiver is retried, then audited", async () => {
  const app = await createTestApp();
  const good = receiver([500, 200]);
  const bad = receiver([503]);
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    for (const [url, secret] of [[good.url, "sig-secret"], [bad.url, undefined]]) {
      const added = await app.request("POST", "/api/webhooks", {
        cookie: admin,
        json: { url, secret },
      });
      assert.equal(added.status, 201, await added.text());
    }
    const notifier = createWebhookNotifier({
      db: app.deps.db,
      secretKey: app.deps.secretKey,
      log: (message) => app.logs.push(message),
      backoffMs: [50, 100],
    });
    notifier.notify({
      event: "updates.found",
      updates: [{
        container_id: "c".repeat(64),
        name: "web",
        image: "127.0.0.1:5000/priv/app:1",
        local_digest: `sha256:${"a".repeat(64)}`,
        remote_digest: `sha256:${"b".repeat(64)}`,
        versions: { minor: "1.1.0" },
      }],
    });
    await notifier.idle();

    // The good receiver: one failure, then the same delivery again, signed.
    assert.equal(good.received.length, 2);
    const [first, second] = good.received;
    assert.equal(first.payload.delivery, second.payload.delivery);
    const payload = second.payload;
    assert.equal(payload.event, "updates.found");
    assert.equal(payload.source, "container-manager");
    assert.ok(!Number.isNaN(Date.parse(payload.sent_at)));
    if (payload.event !== "updates.found") throw new Error("unreachable");
    assert.deepEqual(payload.updates[0].versions, { minor: "1.1.0" });
    assert.equal(payload.updates[0].name, "web");
    assert.equal(second.headers.get("content-type"), "application/json");
    assert.equal(second.headers.get("x-cm-event"), "updates.found");
    assert.equal(
      second.headers.get("x-cm-signature"),
      `sha256=${await hmacHex("sig-secret", second.body)}`,
    );
    assert.equal(bad.received[0].headers.get("x-cm-signature"), null);

    // The bad receiver: tried three times (two back-offs), then one audit row.
    assert.equal(bad.received.length, 3);
    const failures = auditRows(app.deps.db).filter((r) => r.action === "webhook.delivery");
    assert.equal(failures.length, 1, JSON.stringify(failures));
    assert.equal(failures[0].actor, "system");
    assert.equal(failures[0].exit_code, 502);
    assert.equal(failures[0].target, new URL(bad.url).origin);
    assert.match(failures[0].stderr, /answered 503 \(3 attempts\)/);
    assert.ok(!JSON.stringify(failures).includes("t0ken-path"));
  } finally {
    await good.server.shutdown();
    await bad.server.shutdown();
    await app.close();
  }
});

Deno.test("webhook delivery never blocks: notify returns before a slow receiver answers", async () => {
  const app = await createTestApp();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let asked = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    asked++;
    await gate;
    return new Response("ok");
  });
  try {
    const admin = app.cookieFor(await app.addUser("admin", "admin"));
    await app.request("POST", "/api/webhooks", {
      cookie: admin,
      json: { url: `http://127.0.0.1:${server.addr.port}/slow` },
    });
    const notifier = createWebhookNotifier({
      db: app.deps.db,
      secretKey: app.deps.secretKey,
      log: () => {},
      backoffMs: [],
    });
    let idle = false;
    notifier.notify({ event: "updates.found", updates: [] });
    const waiting = notifier.idle().then(() => idle = true);
    while (asked === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(idle, false, "the delivery is still running while notify has returned");
    release();
    await waiting;
    assert.equal(auditRows(app.deps.db).filter((r) => r.action === "webhook.delivery").length, 0);
  } finally {
    release();
    await server.shutdown();
    await app.close();
  }
});
