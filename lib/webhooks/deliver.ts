/**
 * Webhook deliveries: each event is POSTed as JSON (lib/webhooks/payload.ts) to every
 * configured receiver, in the background (a check never waits for a receiver). A delivery
 * that fails (no answer within the timeout, a non-2xx status, a redirect) is tried again
 * after each wait in `backoffMs`; when the last attempt fails, one audit row records it
 * (action webhook.delivery, the receiver's origin only: paths often carry tokens).
 *
 * With a secret, the body is signed: `X-CM-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 */
import type { Db } from "../db/db.ts";
import { appendAudit } from "../sysctl/audit.ts";
import type { PanelAddress } from "../registries.ts";
import type { UpdateEvent, WebhookPayload } from "./payload.ts";
import { checkWebhookUrl, webhookOrigin, webhooksForDelivery } from "./store.ts";

export const DEFAULT_BACKOFF_MS = [2_000, 10_000, 60_000];
const MAX_PENDING = 200;

export interface WebhookNotifierOptions {
  db: Db;
  secretKey: CryptoKey;
  log: (message: string) => void;
  panel?: PanelAddress;
  /** Waits before the 2nd, 3rd, … attempt. */
  backoffMs?: readonly number[];
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WebhookNotifier {
  /** Starts delivering the event to every receiver; returns at once. */
  notify(event: UpdateEvent): void;
  /** Resolves when no delivery is running (tests, shutdown). */
  idle(): Promise<void>;
}

export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const pending = new Set<Promise<void>>();

  async function attempt(url: string, body: string, headers: Headers): Promise<string | undefined> {
    try {
      checkWebhookUrl(url, options.panel);
      const response = await doFetch(url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return undefined;
      return `the receiver answered ${response.status}`;
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return `no answer within ${timeoutMs / 1000} s`;
      }
      return `the receiver could not be reached (${
        error instanceof Error ? error.message.slice(0, 200) : String(error)
      })`;
    }
  }

  async function deliver(
    hook: { id: string; url: string; secret?: string; secretError?: boolean },
    event: UpdateEvent,
  ) {
    const started = performance.now();
    const delivery = crypto.randomUUID();
    const payload: WebhookPayload = {
      ...event,
      sent_at: new Date().toISOString(),
      source: "container-manager",
      delivery,
    };
    const body = JSON.stringify(payload);
    const headers = new Headers({
      "Content-Type": "application/json",
      "User-Agent": "container-manager",
      "X-CM-Event": event.event,
      "X-CM-Delivery": delivery,
    });
    let failure: string | undefined;
    if (hook.secretError) {
      failure = "its secret cannot be decrypted (was the key file replaced?); enter it again";
    } else {
      if (hook.secret) headers.set("X-CM-Signature", `sha256=${await hmac(hook.secret, body)}`);
      let attempts = 0;
      for (;;) {
        attempts++;
        failure = await attempt(hook.url, body, headers);
        if (failure === undefined || attempts > backoff.length) break;
        await new Promise((resolve) => setTimeout(resolve, backoff[attempts - 1]));
      }
      if (failure) failure = `${failure} (${attempts} attempts)`;
    }
    if (failure === undefined) return;
    const target = webhookOrigin(hook.url);
    try {
      appendAudit(options.db, {
        actor: "system",
        action: "webhook.delivery",
        target,
        params: { webhook: hook.id, event: event.event, delivery },
        exitCode: 502,
        durationMs: performance.now() - started,
        stderr: `Delivering ${event.event} to webhook ${target} failed: ${failure}`,
      });
    } catch (error) {
      options.log(`Could not audit a failed webhook delivery: ${(error as Error).message}`);
    }
  }

  function track(work: Promise<void>) {
    pending.add(work);
    work.catch((error) => options.log(`Webhook delivery failed: ${(error as Error).message}`))
      .finally(() => pending.delete(work));
  }

  return {
    notify(event) {
      track((async () => {
        const hooks = await webhooksForDelivery(options.db, options.secretKey);
        for (const hook of hooks) {
          if (pending.size >= MAX_PENDING) {
            options.log(`Webhook ${webhookOrigin(hook.url)} skipped: too many deliveries pending`);
            continue;
          }
          track(deliver(hook, event));
        }
      })());
    },
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

async function hmac(secret: string, body: string): Promise<string> {
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
