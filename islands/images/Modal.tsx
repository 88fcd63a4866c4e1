/**
 * A real <dialog> opened with showModal(): focus is trapped, Esc closes it, the page behind
 * is inert. Mount it to open, unmount it to close. `onClose` fires on Esc and on a click on
 * the backdrop; focus returns to whatever opened it.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

export interface ModalProps {
  title: string;
  /** Used for the heading id (aria-labelledby). */
  id: string;
  class?: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
}

export function Modal({ title, id, class: className, onClose, children, footer }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const pressedOnBackdrop = useRef(false);

  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    if (!dialog.open) dialog.showModal();
    dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    const onCancel = (event: Event) => {
      event.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => {
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const headingId = `${id}-title`;
  return (
    <dialog
      ref={ref}
      id={id}
      class={`im-modal${className ? ` ${className}` : ""}`}
      aria-labelledby={headingId}
      onMouseDown={(e) => pressedOnBackdrop.current = e.target === ref.current}
      onClick={(e) => {
        if (e.target === ref.current && pressedOnBackdrop.current) onCloseRef.current();
      }}
    >
      <div class="im-modal-inner">
        <div class="im-modal-head">
          <h2 id={headingId}>{title}</h2>
          <button
            type="button"
            class="im-close"
            aria-label="Close"
            title="Close"
            onClick={() => onCloseRef.current()}
          >
            ×
          </button>
        </div>
        <div class="im-modal-body">{children}</div>
        {footer && <div class="im-modal-foot">{footer}</div>}
      </div>
    </dialog>
  );
}
