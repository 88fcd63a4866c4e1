/**
 * Swarm secrets or configs: list, create, inspect (a config's data; never a secret's) and
 * remove (the server refuses while a service uses one and names the service).
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { ConfirmDialog } from "../shared/ConfirmDialog.tsx";
import { TitledModal } from "../shared/TitledModal.tsx";
import { keyValues, labelsText, since } from "./format.ts";
import type { SwarmObject } from "./types.ts";

export function ObjectsView(
  { kind, isAdmin, onChanged }: {
    kind: "secrets" | "configs";
    isAdmin: boolean;
    onChanged: (text: string, ok: boolean) => Promise<void>;
  },
) {
  const one = kind === "secrets" ? "secret" : "config";
  const base = `/api/swarm/${kind}`;
  const [items, setItems] = useState<SwarmObject[] | null>(null);
  const [error, setError] = useState("");
  const [creating, setCreating] = useState(false);
  const [viewing, setViewing] = useState<SwarmObject | null>(null);
  const [removing, setRemoving] = useState<SwarmObject | null>(null);

  async function load() {
    try {
      const answer = await api<Record<string, SwarmObject[]>>("GET", base);
      setItems(answer[kind] ?? []);
      setError("");
    } catch (e) {
      setError((e as Error).message);
    }
  }
  useEffect(() => {
    void load();
  }, [kind]);

  async function changed(text: string) {
    await load();
    await onChanged(text, true);
  }

  return (
    <section class="sw-objects" aria-labelledby={`sw-${kind}-title`}>
      <div class="sw-objects-head">
        <h2 id={`sw-${kind}-title`}>{kind === "secrets" ? "Secrets" : "Configs"}</h2>
        <span class="muted im-small">
          {kind === "secrets"
            ? "Encrypted in the swarm; services read them from /run/secrets. Values are never shown."
            : "Files for services, stored in the swarm."}
        </span>
        {isAdmin && (
          <button
            type="button"
            class="btn small sw-objects-add"
            onClick={() => setCreating(true)}
          >
            Create {one}
          </button>
        )}
      </div>
      {error && <div class="notice error" role="alert">{error}</div>}
      {items === null && !error && <p class="muted">Loading…</p>}
      {items?.length === 0 && <p class="muted sw-empty">No {kind}.</p>}
      {items && items.length > 0 && (
        <table class="table compact sw-table">
          <thead>
            <tr>
              <th>Name</th>
              <th class="sw-col-created">Created</th>
              <th>Used by</th>
              <th class="sw-col-obj-actions">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} data-object={item.name}>
                <td class="mono truncate" title={`${item.name} (${item.id})`}>{item.name}</td>
                <td class="muted" title={item.created_at}>{since(item.created_at)}</td>
                <td class="truncate" title={item.used_by?.join(", ")}>
                  {item.used_by?.length ? item.used_by.join(", ") : <span class="muted">—</span>}
                </td>
                <td class="sw-col-obj-actions">
                  <span class="inline-form">
                    <button type="button" class="btn small" onClick={() => setViewing(item)}>
                      Inspect
                    </button>
                    {isAdmin && (
                      <button
                        type="button"
                        class="btn small danger-outline"
                        onClick={() => setRemoving(item)}
                      >
                        Remove
                      </button>
                    )}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateObjectDialog
          kind={kind}
          onClose={() => setCreating(false)}
          onCreated={async (name) => {
            setCreating(false);
            await changed(`Created ${one} ${name}.`);
          }}
        />
      )}
      {viewing && (
        <InspectDialog
          base={base}
          kind={kind}
          item={viewing}
          onClose={() => setViewing(null)}
        />
      )}
      {removing && (
        <ConfirmDialog
          id={`sw-${one}-remove`}
          title={`Remove ${one}`}
          action={`Remove ${one}`}
          busyText="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            try {
              await api("DELETE", `${base}/${encodeURIComponent(removing.id)}`);
            } catch (e) {
              return (e as Error).message;
            }
            setRemoving(null);
            await changed(`Removed ${one} ${removing.name}.`);
            return null;
          }}
        >
          <p class="im-confirm-what">
            <strong class="mono im-break">{removing.name}</strong>
          </p>
          <p class="im-small">
            Refused while a service uses it. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function CreateObjectDialog(
  { kind, onClose, onCreated }: {
    kind: "secrets" | "configs";
    onClose: () => void;
    onCreated: (name: string) => Promise<void>;
  },
) {
  const one = kind === "secrets" ? "secret" : "config";
  const [name, setName] = useState("");
  const [data, setData] = useState("");
  const [labels, setLabels] = useState("");
  const [error, setError] = useState<{ field?: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (!name.trim()) return setError({ field: "name", text: `Enter the ${one}'s name` });
    if (!data) return setError({ field: "data", text: `Enter the ${one}'s content` });
    const parsed = keyValues(labels, "Label");
    if (typeof parsed === "string") return setError({ field: "labels", text: parsed });
    setBusy(true);
    setError(null);
    try {
      await api("POST", `/api/swarm/${kind}`, {
        name: name.trim(),
        data,
        ...(Object.keys(parsed).length ? { labels: parsed } : {}),
      });
      await onCreated(name.trim());
    } catch (e) {
      setError({ field: e instanceof ApiError ? e.field : undefined, text: (e as Error).message });
      setBusy(false);
    }
  }

  const fieldError = (field: string) =>
    error?.field === field && <span class="im-field-error" role="alert">{error.text}</span>;

  return (
    <TitledModal
      id={`sw-${one}-create`}
      title={`Create ${one}`}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form={`sw-${one}-form`} class="btn primary" disabled={busy}>
            {busy ? "Creating…" : `Create ${one}`}
          </button>
        </div>
      }
    >
      <form id={`sw-${one}-form`} class="im-form" onSubmit={submit} noValidate>
        <label>
          Name
          <input
            name="name"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            value={name}
            data-autofocus
            aria-invalid={error?.field === "name" ? true : undefined}
            onInput={(e) => {
              setName((e.target as HTMLInputElement).value);
              setError(null);
            }}
          />
          {fieldError("name")}
        </label>
        <label>
          {kind === "secrets" ? "Secret value" : "Content"}
          <textarea
            name="data"
            class="mono sw-textarea"
            rows={5}
            spellcheck={false}
            autocomplete="off"
            value={data}
            aria-invalid={error?.field === "data" ? true : undefined}
            onInput={(e) => {
              setData((e.target as HTMLTextAreaElement).value);
              setError(null);
            }}
          />
          {fieldError("data")}
          {kind === "secrets" && (
            <span class="muted im-small">
              Sent once to the swarm; the panel never stores, logs or shows it again.
            </span>
          )}
        </label>
        <label>
          Labels <span class="muted im-small">KEY=value, one per line (optional)</span>
          <textarea
            name="labels"
            class="mono sw-textarea"
            rows={2}
            spellcheck={false}
            value={labels}
            aria-invalid={error?.field === "labels" ? true : undefined}
            onInput={(e) => {
              setLabels((e.target as HTMLTextAreaElement).value);
              setError(null);
            }}
          />
          {fieldError("labels")}
        </label>
        {error && error.field !== "name" && error.field !== "data" && error.field !== "labels" && (
          <div class="notice error im-inline-error" role="alert">{error.text}</div>
        )}
      </form>
    </TitledModal>
  );
}

function InspectDialog(
  { base, kind, item, onClose }: {
    base: string;
    kind: "secrets" | "configs";
    item: SwarmObject;
    onClose: () => void;
  },
) {
  const [detail, setDetail] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api<Record<string, unknown>>("GET", `${base}/${encodeURIComponent(item.id)}`)
      .then((answer) => setDetail(answer), (e) => setError((e as Error).message));
  }, [item.id]);
  const shown = (detail?.[kind === "secrets" ? "secret" : "config"] ?? detail) as
    | SwarmObject
    | null;
  return (
    <TitledModal id="sw-inspect" title={item.name} onClose={onClose}>
      {error && <div class="notice error" role="alert">{error}</div>}
      {!detail && !error && <p class="muted">Loading…</p>}
      {shown && (
        <dl class="sw-facts">
          <dt>Id</dt>
          <dd class="mono im-break">{shown.id}</dd>
          <dt>Created</dt>
          <dd>{shown.created_at ?? "—"}</dd>
          <dt>Labels</dt>
          <dd class="mono">{labelsText(shown.labels ?? {}).join(", ") || "—"}</dd>
          <dt>Used by</dt>
          <dd>{shown.used_by?.length ? shown.used_by.join(", ") : "No service"}</dd>
          {kind === "configs" && typeof shown.data === "string" && (
            <>
              <dt>Content</dt>
              <dd>
                <pre class="sw-logs mono">{shown.data}</pre>
              </dd>
            </>
          )}
          {kind === "secrets" && (
            <>
              <dt>Value</dt>
              <dd class="muted">Never shown: only services that use it can read it.</dd>
            </>
          )}
        </dl>
      )}
    </TitledModal>
  );
}
