/**
 * Private registries: saved credentials the server uses for pulls. No password is ever
 * shown or sent back: the field is write-only, and empty on edit keeps the stored one.
 */
import { useState } from "preact/hooks";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";
import { api, ApiError } from "../api.ts";
import { formatDate, formatSince, parseTimestamp } from "./format.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { ConfirmDialog } from "../shared/ConfirmDialog.tsx";
import { PULL_IMAGE, type RegistryView } from "./types.ts";
import { RegistryBrowser } from "./RegistryBrowser.tsx";

const SUGGESTED: { host: string; hint: string }[] = [
  {
    host: "ghcr.io",
    hint: "GitHub: your user name and a personal access token with read:packages.",
  },
  {
    host: "registry.gitlab.com",
    hint: "GitLab: a deploy token or personal access token with read_registry.",
  },
  {
    host: "docker.io",
    hint: "Docker Hub: your user name and a personal access token (Account settings → Security).",
  },
];

export interface RegistriesProps {
  registries: RegistryView[];
  isAdmin: boolean;
  now: number;
  /** Reads the list again after a change. */
  reload: () => Promise<void>;
}

export function Registries({ registries, isAdmin, now, reload }: RegistriesProps) {
  const [editing, setEditing] = useState<RegistryView | "new" | null>(null);
  const [confirming, setConfirming] = useState<RegistryView | null>(null);
  const [browsing, setBrowsing] = useState<RegistryView | null>(null);
  const [notice, setNotice] = useState<NoticeValue | null>(null);

  async function changed(message: string) {
    setNotice({ kind: "ok", text: message });
    try {
      await reload();
    } catch (e) {
      setNotice({ kind: "error", text: (e as Error).message });
    }
  }

  async function remove(registry: RegistryView): Promise<string | null> {
    try {
      await api("DELETE", `/api/containers/registries/${registry.id}`);
    } catch (e) {
      return (e as Error).message;
    }
    setConfirming(null);
    await changed(`Removed the credentials for ${registry.server_address}.`);
    return null;
  }

  return (
    <section class="card im-registries" aria-labelledby="im-registries-title">
      <div class="im-card-head">
        <h2 id="im-registries-title">Private registries</h2>
        <span class="muted im-small">
          Credentials the panel uses to pull. Passwords are stored encrypted and never shown.
        </span>
        {isAdmin && (
          <button
            type="button"
            class="btn primary im-card-action"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            Add registry
          </button>
        )}
      </div>
      {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}
      {registries.length === 0
        ? (
          <div class="im-empty-small">
            <p class="empty-title">No private registries.</p>
            <p class="muted">
              {isAdmin
                ? "Public images pull without a login. Add ghcr.io, GitLab, Docker Hub or your own registry to pull private images."
                : "Public images pull without a login; an admin can add credentials for private registries."}
            </p>
          </div>
        )
        : (
          <table class="table compact im-reg-table">
            <thead>
              <tr>
                <th class="im-reg-address">Address</th>
                <th class="im-reg-user">Username</th>
                <th class="im-reg-used">Last used</th>
                <th class="im-reg-updated">Updated</th>
                {isAdmin && (
                  <th class="im-reg-actions">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {registries.map((registry) => (
                <tr key={registry.id} data-registry={registry.server_address}>
                  <td class="mono truncate im-reg-address" title={registry.server_address}>
                    {registry.server_address}
                  </td>
                  <td class="truncate" title={registry.username}>{registry.username}</td>
                  <td
                    class={registry.last_used_at ? "im-reg-used" : "im-reg-used muted"}
                    title={registry.last_used_at
                      ? formatDate(parseTimestamp(registry.last_used_at))
                      : "Not used for a pull yet"}
                  >
                    {formatSince(registry.last_used_at, now)}
                  </td>
                  <td class="muted" title={formatDate(parseTimestamp(registry.updated_at))}>
                    {formatSince(registry.updated_at, now)}
                  </td>
                  {isAdmin && (
                    <td class="im-reg-actions">
                      <span class="inline-form">
                        <button
                          type="button"
                          class="btn small"
                          title="List its repositories and tags, and pull from them"
                          onClick={() => setBrowsing(registry)}
                        >
                          Browse
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          onClick={() => {
                            setNotice(null);
                            setEditing(registry);
                          }}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="btn small danger-outline"
                          onClick={() =>
                            setConfirming(registry)}
                        >
                          Delete
                        </button>
                      </span>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      {browsing && (
        <RegistryBrowser
          registry={browsing}
          onClose={() => setBrowsing(null)}
          onPull={(reference) => {
            setBrowsing(null);
            dispatchEvent(new CustomEvent(PULL_IMAGE, { detail: { reference } }));
          }}
        />
      )}
      {editing && (
        <RegistryDialog
          existing={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async (registry, created) => {
            setEditing(null);
            await changed(
              created
                ? `Saved the credentials for ${registry.server_address}; the registry accepted them.`
                : `Updated the credentials for ${registry.server_address}.`,
            );
          }}
        />
      )}
      {confirming && (
        <ConfirmDialog
          id="im-registry-delete"
          title="Delete registry credentials"
          action="Delete credentials"
          busyText="Deleting…"
          onClose={() => setConfirming(null)}
          onConfirm={() => remove(confirming)}
        >
          <p class="im-confirm-what">
            <span class="mono im-break">{confirming.server_address}</span>
            <span class="muted im-small">{confirming.username}</span>
          </p>
          <p class="im-small">
            Pulls from this registry go without a login afterwards. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

type Field = "server_address" | "username" | "password";
const FIELDS: Field[] = ["server_address", "username", "password"];

function RegistryDialog(
  { existing, onClose, onSaved }: {
    existing: RegistryView | null;
    onClose: () => void;
    onSaved: (registry: RegistryView, created: boolean) => Promise<void>;
  },
) {
  const [address, setAddress] = useState(existing?.server_address ?? "");
  const [username, setUsername] = useState(existing?.username ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field?: Field; text: string } | null>(null);
  const suggestion = SUGGESTED.find((s) => s.host === address.trim().toLowerCase());

  async function submit(event: Event) {
    event.preventDefault();
    const missing: [Field, string][] = [
      ["server_address", address.trim() ? "" : "Enter the registry's address"],
      ["username", username.trim() ? "" : "Enter the user name"],
      ["password", existing || password ? "" : "Enter the password or token"],
    ];
    const first = missing.find(([, text]) => text);
    if (first) {
      setError({ field: first[0], text: first[1] });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, string> = {
        server_address: address.trim(),
        username: username.trim(),
      };
      if (password) body.password = password;
      const answer = await api<{ registry: RegistryView }>(
        "POST",
        "/api/containers/registries",
        body,
      );
      await onSaved(answer.registry, !existing);
    } catch (e) {
      const field = e instanceof ApiError ? e.field as Field | undefined : undefined;
      setError({ field, text: (e as Error).message });
      setBusy(false);
    }
  }

  const invalid = (field: Field) => error?.field === field ? "true" : undefined;
  const fieldError = (field: Field) =>
    error?.field === field && (
      <span class="im-field-error" id={`im-reg-${field}-error`} role="alert">{error.text}</span>
    );

  return (
    <TitledModal
      id="im-registry"
      class="im-registry-modal"
      title={existing ? `Edit ${existing.server_address}` : "Add registry"}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form="im-registry-form" class="btn primary" disabled={busy}>
            {busy ? "Checking with the registry…" : existing ? "Save" : "Add registry"}
          </button>
        </div>
      }
    >
      <form id="im-registry-form" class="im-form" onSubmit={submit} noValidate>
        {!existing && (
          <div class="im-suggest">
            <span class="muted im-small">Common:</span>
            {SUGGESTED.map((s) => (
              <button
                key={s.host}
                type="button"
                class={`im-chip${address.trim().toLowerCase() === s.host ? " active" : ""}`}
                onClick={() => {
                  setAddress(s.host);
                  if (error?.field === "server_address") setError(null);
                }}
              >
                {s.host}
              </button>
            ))}
          </div>
        )}
        <label>
          Server address
          <input
            name="server_address"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="ghcr.io or registry.example.com:5000"
            value={address}
            readOnly={!!existing}
            data-autofocus={existing ? undefined : true}
            aria-invalid={invalid("server_address")}
            onInput={(e) => {
              setAddress((e.target as HTMLInputElement).value);
              if (error?.field === "server_address") setError(null);
            }}
          />
          {fieldError("server_address")}
          {existing && (
            <span class="muted im-small">
              To use another address, add it as a new registry.
            </span>
          )}
        </label>
        <label>
          Username
          <input
            name="username"
            autocomplete="off"
            spellcheck={false}
            value={username}
            data-autofocus={existing ? true : undefined}
            aria-invalid={invalid("username")}
            onInput={(e) => {
              setUsername((e.target as HTMLInputElement).value);
              if (error?.field === "username") setError(null);
            }}
          />
          {fieldError("username")}
        </label>
        <label>
          {existing ? "Password or token" : "Password or access token"}
          <input
            name="password"
            type="password"
            autocomplete="new-password"
            placeholder={existing ? "unchanged" : ""}
            value={password}
            aria-invalid={invalid("password")}
            onInput={(e) => {
              setPassword((e.target as HTMLInputElement).value);
              if (error?.field === "password") setError(null);
            }}
          />
          {fieldError("password")}
          <span class="muted im-small">
            {existing
              ? "Leave empty to keep the stored password. It is never shown."
              : suggestion?.hint ?? "Stored encrypted; never shown again."}
          </span>
        </label>
        <p class="muted im-small">
          The panel signs in to the registry before saving; credentials it rejects are not stored.
        </p>
        {error && !FIELDS.includes(error.field as Field) && (
          <div class="notice error im-inline-error" role="alert">{error.text}</div>
        )}
      </form>
    </TitledModal>
  );
}
