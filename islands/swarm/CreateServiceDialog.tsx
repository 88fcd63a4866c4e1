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
          <label>
            Name
            <input
              name="name"
              autocomplete="off"
              spellcheck={false}
              placeholder="web"
              value={form.name}
              data-autofocus
              aria-invalid={invalid("name")}
              onInput={set("name")}
            />
            {fieldError("name")}
          </label>
          <label>
            Image
            <input
              name="image"
              class="mono"
              autocomplete="off"
              spellcheck={false}
              placeholder="nginx:1.27"
              value={form.image}
              aria-invalid={invalid("image")}
              onInput={set("image")}
            />
            {fieldError("image")}
          </label>
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
        <label>
          Command <span class="muted im-small">optional, as a shell would split it</span>
          <input
            name="command"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="httpd -f -p 80"
            value={form.command}
            aria-invalid={invalid("command")}
            onInput={set("command")}
          />
          {fieldError("command")}
        </label>
        <label>
          Published ports <span class="muted im-small">published:target, comma or line</span>
          <input
            name="ports"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="8080:80"
            value={form.ports}
            aria-invalid={invalid("ports")}
            onInput={set("ports")}
          />
          {fieldError("ports")}
        </label>
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
          <label>
            CPU limit
            <input
              name="cpus"
              inputMode="decimal"
              placeholder="0.5"
              value={form.cpus}
              aria-invalid={invalid("cpus")}
              onInput={set("cpus")}
            />
            {fieldError("cpus")}
          </label>
          <label>
            Memory limit
            <input
              name="memory"
              placeholder="256m"
              value={form.memory}
              aria-invalid={invalid("memory")}
              onInput={set("memory")}
            />
            {fieldError("memory")}
          </label>
        </div>
        <details
          class="sw-more"
          open={!!error?.field && /^(secrets|update_|restart_)/.test(error.field)}
        >
          <summary>Secrets, update and restart policy</summary>
          <label>
            Secrets{" "}
            <span class="muted im-small">names, comma or line; read at /run/secrets/NAME</span>
            <input
              name="secrets"
              class="mono"
              autocomplete="off"
              spellcheck={false}
              placeholder="db_password"
              value={form.secrets}
              aria-invalid={invalid("secrets")}
              onInput={set("secrets")}
            />
            {fieldError("secrets")}
          </label>
          <div class="sw-row">
            <label>
              Update parallelism
              <input
                name="update_parallelism"
                inputMode="numeric"
                placeholder="1"
                value={form.update_parallelism}
                aria-invalid={invalid("update_parallelism")}
                onInput={set("update_parallelism")}
              />
              {fieldError("update_parallelism")}
            </label>
            <label>
              Update delay
              <input
                name="update_delay"
                placeholder="10s"
                value={form.update_delay}
                aria-invalid={invalid("update_delay")}
                onInput={set("update_delay")}
              />
              {fieldError("update_delay")}
            </label>
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
            <label>
              Restart attempts
              <input
                name="restart_max_attempts"
                inputMode="numeric"
                placeholder="unlimited"
                value={form.restart_max_attempts}
                aria-invalid={invalid("restart_max_attempts")}
                onInput={set("restart_max_attempts")}
              />
              {fieldError("restart_max_attempts")}
            </label>
          </div>
        </details>
        {error && !error.field && (
          <div class="notice error im-inline-error" role="alert">{error.text}</div>
        )}
      </form>
    </TitledModal>
  );
}
