/** A titled dialog with one field (scale to N, update to image X); errors show under it. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { TitledModal } from "../shared/TitledModal.tsx";

export function PromptDialog(
  { id, title, label, initial, action, busyText, inputMode, onClose, onSubmit, children }: {
    id: string;
    title: string;
    label: string;
    initial: string;
    action: string;
    busyText: string;
    inputMode?: "numeric" | "text";
    onClose: () => void;
    /** Resolves to an error message to show, or null when done. */
    onSubmit: (value: string) => Promise<string | null>;
    children?: ComponentChildren;
  },
) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError("");
    const failure = await onSubmit(value.trim());
    if (failure !== null) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <TitledModal
      id={id}
      title={title}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form={`${id}-form`} class="btn primary" disabled={busy}>
            {busy ? busyText : action}
          </button>
        </div>
      }
    >
      <form id={`${id}-form`} class="im-form" onSubmit={submit} noValidate>
        <label>
          {label}
          <input
            class={inputMode === "numeric" ? undefined : "mono"}
            inputMode={inputMode}
            autocomplete="off"
            spellcheck={false}
            value={value}
            data-autofocus
            aria-invalid={error ? true : undefined}
            onInput={(e) => {
              setValue((e.target as HTMLInputElement).value);
              setError("");
            }}
          />
          {error && <span class="im-field-error" role="alert">{error}</span>}
        </label>
        {children}
      </form>
    </TitledModal>
  );
}
