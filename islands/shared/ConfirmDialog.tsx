/**
 * The one confirmation for deletions outside the Containers table (images, registry
 * credentials, users): a titled modal whose default focus is Cancel, so Enter deletes
 * nothing. `onConfirm` resolves to an error message to show in the dialog, or null when done.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { TitledModal } from "./TitledModal.tsx";

export function ConfirmDialog(
  { id, title, action, busyText, onClose, onConfirm, children }: {
    id: string;
    title: string;
    /** The destructive button's text ("Delete user"). */
    action: string;
    busyText: string;
    onClose: () => void;
    onConfirm: () => Promise<string | null>;
    children: ComponentChildren;
  },
) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  return (
    <TitledModal
      id={id}
      class="im-confirm"
      title={title}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            class="btn danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError("");
              const failure = await onConfirm();
              if (failure !== null) {
                setError(failure);
                setBusy(false);
              }
            }}
          >
            {busy ? busyText : action}
          </button>
        </div>
      }
    >
      {children}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}
