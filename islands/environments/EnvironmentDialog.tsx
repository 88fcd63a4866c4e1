/**
 * Add or edit an environment: name, address, and for tcp:// the CA, client certificate and
 * client key, each pasted as PEM or loaded from a file. The stored key is never shown; an edit
 * keeps each certificate unless a new one is given. The server connects before saving, and
 * its refusal (wrong CA, refused, ...) shows next to the field it names.
 */
import { useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import {
  EMPTY_FORM,
  environmentBody,
  type Field,
  fieldOf,
  type FormValues,
  missingField,
  needsTls,
  PEM_LABELS,
  pemFromText,
} from "./form.ts";
import type { EnvironmentView } from "./types.ts";

const MAX_PEM_FILE = 64 * 1024;

export function EnvironmentDialog(
  { existing, onClose, onSaved }: {
    existing: EnvironmentView | null;
    onClose: () => void;
    onSaved: (env: EnvironmentView, created: boolean) => Promise<void> | void;
  },
) {
  const [values, setValues] = useState<FormValues>(
    existing ? { ...EMPTY_FORM, name: existing.name, url: existing.url } : EMPTY_FORM,
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field?: Field; text: string } | null>(null);
  const tls = needsTls(values.url);

  function set(field: Field, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (error?.field === field || (error && !error.field)) setError(null);
  }

  async function submit(event: Event) {
    event.preventDefault();
    const missing = missingField(values, existing);
    if (missing) return setError(missing);
    const body = environmentBody(values, existing);
    if (existing && Object.keys(body).length === 0) return onClose();
    setBusy(true);
    setError(null);
    try {
      const answer = existing
        ? await api<EnvironmentView | { environment: EnvironmentView }>(
          "PATCH",
          `/api/environments/${encodeURIComponent(existing.id)}`,
          body,
        )
        : await api<EnvironmentView | { environment: EnvironmentView }>(
          "POST",
          "/api/environments",
          body,
        );
      const saved = "environment" in answer ? answer.environment : answer;
      await onSaved(saved, !existing);
    } catch (e) {
      const field = e instanceof ApiError ? fieldOf(e.field) : undefined;
      setError({ field, text: (e as Error).message });
      setBusy(false);
    }
  }

  const invalid = (field: Field) => error?.field === field ? true : undefined;
  const fieldError = (field: Field) =>
    error?.field === field && (
      <span class="im-field-error" id={`env-${field}-error`} role="alert">{error.text}</span>
    );

  return (
    <TitledModal
      id="env-dialog"
      class="env-modal"
      title={existing ? `Edit ${existing.name}` : "Add environment"}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form="env-form" class="btn primary" disabled={busy}>
            {busy ? "Connecting…" : existing ? "Save" : "Add environment"}
          </button>
        </div>
      }
    >
      <form id="env-form" class="im-form env-form" onSubmit={submit} noValidate>
        <label>
          Name
          <input
            name="name"
            autocomplete="off"
            spellcheck={false}
            maxLength={64}
            placeholder="edge-1"
            value={values.name}
            data-autofocus
            aria-invalid={invalid("name")}
            onInput={(e) => set("name", (e.target as HTMLInputElement).value)}
          />
          {fieldError("name")}
        </label>
        <label>
          Engine address
          <input
            name="url"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="tcp://10.0.0.5:2376 or unix:///run/other/docker.sock"
            value={values.url}
            aria-invalid={invalid("url")}
            onInput={(e) => set("url", (e.target as HTMLInputElement).value)}
          />
          {fieldError("url")}
          <span class="muted im-small">
            A tcp:// Engine is reached over mutual TLS; plain tcp:// only works for 127.0.0.1.
          </span>
        </label>
        {tls && (
          <fieldset class="env-tls">
            <legend>Mutual TLS</legend>
            {(["ca", "cert", "key"] as const).map((part) => (
              <PemField
                key={part}
                part={part}
                value={values[part]}
                stored={!!existing?.tls}
                invalid={invalid(part)}
                error={fieldError(part)}
                onChange={(text) => set(part, text)}
                onBadFile={(text) => setError({ field: part, text })}
              />
            ))}
          </fieldset>
        )}
        {error && !error.field && (
          <div class="notice error im-inline-error" role="alert">{error.text}</div>
        )}
      </form>
    </TitledModal>
  );
}

function PemField(
  { part, value, stored, invalid, error, onChange, onBadFile }: {
    part: "ca" | "cert" | "key";
    value: string;
    stored: boolean;
    invalid: boolean | undefined;
    error: preact.ComponentChildren;
    onChange: (text: string) => void;
    onBadFile: (text: string) => void;
  },
) {
  const label = PEM_LABELS[part];
  const inputId = `env-${part}`;
  const placeholder = stored
    ? part === "key"
      ? "Stored (never shown). Paste or load a new key to replace it."
      : "Stored. Paste or load a new one to replace it."
    : `-----BEGIN ${part === "key" ? "PRIVATE KEY" : "CERTIFICATE"}-----`;

  async function load(event: Event) {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    if (file.size > MAX_PEM_FILE) return onBadFile(`${file.name} is too large for a PEM file.`);
    const pem = pemFromText(await file.text());
    if (!pem) return onBadFile(`${file.name} is not a PEM file (-----BEGIN ...-----).`);
    onChange(pem);
  }

  return (
    <div class="env-pem">
      <div class="env-pem-head">
        <label for={inputId}>{label}</label>
        <label class="btn small env-file">
          Load file…
          <input
            type="file"
            class="sr-only"
            name={`${part}-file`}
            accept=".pem,.crt,.cer,.key,text/plain"
            onChange={load}
          />
        </label>
      </div>
      <textarea
        id={inputId}
        name={part}
        class="mono"
        rows={3}
        spellcheck={false}
        autocomplete="off"
        placeholder={placeholder}
        value={value}
        aria-invalid={invalid}
        onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)}
      />
      {error}
    </div>
  );
}
