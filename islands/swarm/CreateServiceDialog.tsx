/**
 * Create a swarm service: name, image, mode and replicas, command, ports, env, placement,
 * limits, and (folded) secrets, update policy and restart policy.
 */
import { useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { EMPTY_SERVICE, serviceBody, serviceFieldOf, type ServiceForm } from "./format.ts";

type Field = keyof ServiceForm;

export function CreateServiceDialog(
  { onClose, onCreated }: { onClose: () => void; onCreated: (name: string) => Promise<void> },
) {
  const [form, setForm] = useState<ServiceForm>(EMPTY_SERVICE);
  const [error, setError] = useState<{ field?: Field; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (field: Field) => (e: Event) => {
    setForm({ ...form, [field]: (e.target as HTMLInputElement).value });
    if (error?.field === field || (error && !error.field)) setError(null);
  };

  async function submit(event: Event) {
    event.preventDefault();
    const result = serviceBody(form);
    if ("field" in result) return setError(result);
    setBusy(true);
    setError(null);
    try {
      await api("POST", "/api/swarm/services", result.body);
      await onCreated(form.name.trim());
    } catch (e) {
      const field = e instanceof ApiError ? serviceFieldOf(e.field) : undefined;
      setError({ field, text: (e as Error).message });
      setBusy(false);
    }
  }

  const invalid = (field: Field) => error?.field === field ? true : undefined;
  const fieldError = (field: Field) =>
    error?.field === field && <span class="im-field-error" role="alert">{error.text}</span>;
  /** A labelled one-line input of the form, with its error (called, not a component). */
  const text = (field: Field, label: string, options: {
    hint?: string;
    placeholder?: string;
    /** A name, reference or command: monospace, no autocomplete or spell check. */
    code?: boolean;
    /** A name: no autocomplete or spell check, proportional. */
    word?: boolean;
    inputMode?: "numeric" | "decimal";
    autofocus?: boolean;
  } = {}) => (
    <label>
      {label}
      {options.hint && (
        <>
          {" "}
          <span class="muted im-small">{options.hint}</span>
        </>
      )}
      <input
        name={field}
        class={options.code ? "mono" : undefined}
        autocomplete={options.code || options.word ? "off" : undefined}
        spellcheck={options.code || options.word ? false : undefined}
        inputMode={options.inputMode}
        placeholder={options.placeholder}
        value={form[field]}
        data-autofocus={options.autofocus}
        aria-invalid={invalid(field)}
        onInput={set(field)}
      />
      {fieldError(field)}
    </label>
  );

  return (
    <TitledModal
      id="sw-create"
      class="sw-create-modal"
      title="Create service"
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form="sw-create-form" class="btn primary" disabled={busy}>
            {busy ? "Creating…" : "Create service"}
          </button>
        </div>
      }
    >
      <form id="sw-create-form" class="im-form sw-create-form" onSubmit={submit} noValidate>
        <div class="sw-row">
          {text("name", "Name", { placeholder: "web", word: true, autofocus: true })}
          {text("image", "Image", { placeholder: "nginx:1.27", code: true })}
        </div>
        <div class="sw-row">
          <label>
            Mode
            <select name="mode" value={form.mode} onChange={set("mode")}>
              <option value="replicated">replicated</option>
              <option value="global">global (one task per node)</option>
            </select>
          </label>
          <label>
            Replicas
            <input
              name="replicas"
              inputMode="numeric"
              value={form.mode === "global" ? "" : form.replicas}
              disabled={form.mode === "global"}
              aria-invalid={invalid("replicas")}
              onInput={set("replicas")}
            />
            {fieldError("replicas")}
          </label>
        </div>
        {text("command", "Command", {
          hint: "optional, as a shell would split it",
          placeholder: "httpd -f -p 80",
          code: true,
        })}
        {text("ports", "Published ports", {
          hint: "published:target, comma or line",
          placeholder: "8080:80",
          code: true,
        })}
        <label>
          Environment <span class="muted im-small">KEY=value, one per line</span>
          <textarea
            name="env"
            class="mono sw-textarea"
            rows={2}
            spellcheck={false}
            value={form.env}
            aria-invalid={invalid("env")}
            onInput={set("env")}
          />
          {fieldError("env")}
        </label>
        <label>
          Placement constraints <span class="muted im-small">one per line</span>
          <textarea
            name="constraints"
            class="mono sw-textarea"
            rows={2}
            spellcheck={false}
            placeholder="node.role==worker"
            value={form.constraints}
            aria-invalid={invalid("constraints")}
            onInput={set("constraints")}
          />
          {fieldError("constraints")}
        </label>
        <div class="sw-row">
          {text("cpus", "CPU limit", { placeholder: "0.5", inputMode: "decimal" })}
          {text("memory", "Memory limit", { placeholder: "256m" })}
        </div>
        <details
          class="sw-more"
          open={!!error?.field && /^(secrets|update_|restart_)/.test(error.field)}
        >
          <summary>Secrets, update and restart policy</summary>
          {text("secrets", "Secrets", {
            hint: "names, comma or line; read at /run/secrets/NAME",
            placeholder: "db_password",
            code: true,
          })}
          <div class="sw-row">
            {text("update_parallelism", "Update parallelism", {
              placeholder: "1",
              inputMode: "numeric",
            })}
            {text("update_delay", "Update delay", { placeholder: "10s" })}
          </div>
          <div class="sw-row">
            <label>
              When an update fails
              <select
                name="update_failure_action"
                value={form.update_failure_action}
                onChange={set("update_failure_action")}
              >
                <option value="">pause (default)</option>
                <option value="rollback">roll back</option>
                <option value="continue">continue</option>
              </select>
            </label>
            <label>
              Update order
              <select name="update_order" value={form.update_order} onChange={set("update_order")}>
                <option value="">stop first (default)</option>
                <option value="start-first">start first</option>
              </select>
            </label>
          </div>
          <div class="sw-row">
            <label>
              Restart
              <select
                name="restart_condition"
                value={form.restart_condition}
                onChange={set("restart_condition")}
              >
                <option value="">always (default)</option>
                <option value="on-failure">on failure</option>
                <option value="none">never</option>
              </select>
            </label>
            {text("restart_max_attempts", "Restart attempts", {
              placeholder: "unlimited",
              inputMode: "numeric",
            })}
          </div>
        </details>
        {error && !error.field && (
          <div class="notice error im-inline-error" role="alert">{error.text}</div>
        )}
      </form>
    </TitledModal>
  );
}
