/**
 * The one confirmation for deletions outside the Containers table (images, volumes,
 * networks, registry credentials, users...): a titled modal whose default focus is Cancel, so
 * Enter deletes nothing. `onConfirm` resolves to an error message to show in the dialog, or
 * null when done. With `empty` (a prune with nothing to remove) it only says so, with Close.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { TitledModal } from "./TitledModal.tsx";

export function ConfirmDialog(
  { id, title, action, busyText, onClose, onConfirm, children, empty, class: className }: {
    id: string;
    title: string;
    /** Shown instead of `children`, with only a Close button: there is nothing to confirm. */
    empty?: ComponentChildren;
    class?: string;
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
      class={className ?? "im-confirm"}
      title={title}
      onClose={onClose}
      footer={empty !== undefined
        ? (
          <div class="im-modal-actions">
            <button type="button" class="btn" data-autofocus onClick={onClose}>Close</button>
          </div>
        )
        : (
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
        )}
    >
      {empty ?? children}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}

/** `onConfirm` for an action that throws on failure: its message, or null when it worked. */
export async function attempt(action: () => Promise<unknown>): Promise<string | null> {
  try {
    await action();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
