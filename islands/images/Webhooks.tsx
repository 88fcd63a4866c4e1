/**
 * Update notifications (admins): the webhook URLs the panel POSTs to when a check finds
 * updates or an automatic update fails (README "Webhooks"). A signing secret is write-only:
 * the list says only whether one is set.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";
import { ConfirmDialog } from "../shared/ConfirmDialog.tsx";
import { formatDate, formatSince, parseTimestamp } from "./format.ts";

interface WebhookView {
  id: string;
  url: string;
  has_secret: boolean;
  created_at: string;
  created_by: string;
}

export function Webhooks({ now }: { now: number }) {
  const [hooks, setHooks] = useState<WebhookView[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<{ field?: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [confirming, setConfirming] = useState<WebhookView | null>(null);

  async function load() {
    try {
      setHooks((await api<{ webhooks: WebhookView[] }>("GET", "/api/webhooks")).webhooks);
      setLoadError(null);
    } catch (e) {
      setLoadError((e as Error).message);
    }
  }
  useEffect(() => void load(), []);

  async function add(event: Event) {
    event.preventDefault();
    if (!url.trim()) {
      setError({ field: "url", text: "Enter the URL to POST to" });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const added = await api<WebhookView>("POST", "/api/webhooks", {
        url: url.trim(),
        ...(secret ? { secret } : {}),
      });
      setUrl("");
      setSecret("");
      setNotice({ kind: "ok", text: `Added ${added.url}.` });
      await load();
    } catch (e) {
      setError({ field: e instanceof ApiError ? e.field : undefined, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  }

  async function remove(hook: WebhookView): Promise<string | null> {
    try {
      await api("DELETE", `/api/webhooks/${encodeURIComponent(hook.id)}`);
    } catch (e) {
      return (e as Error).message;
    }
    setConfirming(null);
    setNotice({ kind: "ok", text: `Removed ${hook.url}.` });
    await load();
    return null;
  }

  return (
    <section class="card im-webhooks" aria-labelledby="im-webhooks-title">
      <div class="im-card-head">
        <h2 id="im-webhooks-title">Update notifications</h2>
        <span class="muted im-small">
          The panel POSTs JSON here when a check finds updates and when an automatic update is
          applied or fails.
        </span>
      </div>
      {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}
      {loadError && <div class="notice error" role="alert">{loadError}</div>}
      {hooks && hooks.length === 0 && (
        <div class="im-empty-small">
          <p class="empty-title">No webhooks.</p>
          <p class="muted">Add a URL below, e.g. a chat integration or your own receiver.</p>
        </div>
      )}
      {hooks && hooks.length > 0 && (
        <ul class="im-hook-list" aria-label="Webhooks">
          {hooks.map((hook) => (
            <li key={hook.id} class="im-hook" data-webhook={hook.id}>
              <span class="mono im-hook-url" title={hook.url}>{hook.url}</span>
              <span class="muted im-small im-hook-meta">
                {hook.has_secret ? "signed · " : ""}added by {hook.created_by}{" "}
                <span title={formatDate(parseTimestamp(hook.created_at))}>
                  {formatSince(hook.created_at, now)}
                </span>
              </span>
              <button
                type="button"
                class="btn small danger-outline"
                aria-label={`Remove ${hook.url}`}
                onClick={() => setConfirming(hook)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="im-hook-form" onSubmit={add} noValidate>
        <label class="im-hook-field">
          <span class="im-small muted">URL</span>
          <input
            class="mono"
            type="url"
            placeholder="https://hooks.example.com/container-manager"
            autocomplete="off"
            spellcheck={false}
            value={url}
            aria-invalid={error?.field === "url" ? "true" : undefined}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="im-hook-secret">
          <span class="im-small muted">Signing secret (optional)</span>
          <input
            type="password"
            autocomplete="new-password"
            value={secret}
            aria-invalid={error?.field === "secret" ? "true" : undefined}
            onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="btn" disabled={busy}>
          {busy ? "Adding…" : "Add webhook"}
        </button>
      </form>
      {error && <p class="im-field-error" role="alert">{error.text}</p>}
      {confirming && (
        <ConfirmDialog
          id="im-webhook-delete"
          title="Remove webhook"
          action="Remove webhook"
          busyText="Removing…"
          onClose={() => setConfirming(null)}
          onConfirm={() => remove(confirming)}
        >
          <p class="mono im-break">{confirming.url}</p>
          <p class="im-small">It gets no more notifications.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
