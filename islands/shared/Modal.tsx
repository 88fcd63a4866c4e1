/**
 * A real <dialog> opened with showModal(): the browser traps focus, Esc closes it and the
 * page behind is inert. Mount it to open, unmount it to close; `onClose` fires on Esc, on a
 * click on the backdrop (unless `keepOnBackdrop`) and on the close button of the caller.
 * Focus goes back to whatever opened it.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export interface ModalProps {
  class: string;
  labelledBy: string;
  id?: string;
  onClose: () => void;
  /** A click on the backdrop does not close it (a terminal: a stray click would end the shell). */
  keepOnBackdrop?: boolean;
  children: ComponentChildren;
}

export function Modal(
  { class: className, labelledBy, id, onClose, keepOnBackdrop, children }: ModalProps,
) {
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const pressedOnBackdrop = useRef(false);

  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    // Esc: the owner decides (it unmounts us). The browser may still close the dialog on its
    // own (a second Esc without a click in between), so a close is reported too.
    const onCancel = (event: Event) => {
      event.preventDefault();
      onCloseRef.current();
    };
    const onDialogClose = () => onCloseRef.current();
    dialog.addEventListener("cancel", onCancel);
    dialog.addEventListener("close", onDialogClose);
    return () => {
      dialog.removeEventListener("cancel", onCancel);
      dialog.removeEventListener("close", onDialogClose);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      id={id}
      class={className}
      aria-labelledby={labelledBy}
      onMouseDown={(e) => pressedOnBackdrop.current = e.target === ref.current}
      onClick={(e) => {
        if (e.target === ref.current && pressedOnBackdrop.current && !keepOnBackdrop) {
          onCloseRef.current();
        }
      }}
    >
      {children}
    </dialog>
  );
}
