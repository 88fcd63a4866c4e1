/**
 * The Images and Compose tabs' dialog: a titled <dialog> (see Modal.tsx) with a
 * close button, a body and an optional footer of actions.
 */
import type { ComponentChildren } from "preact";
import { Modal } from "../shared/Modal.tsx";

export interface TitledModalProps {
  title: string;
  /** The dialog's id; the heading's is derived from it (aria-labelledby). */
  id: string;
  class?: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
}

export function TitledModal(
  { title, id, class: className, onClose, children, footer }: TitledModalProps,
) {
  const headingId = `${id}-title`;
  return (
    <Modal
      id={id}
      class={`im-modal${className ? ` ${className}` : ""}`}
      labelledBy={headingId}
      onClose={onClose}
    >
      <div class="im-modal-inner">
        <div class="im-modal-head">
          <h2 id={headingId}>{title}</h2>
          <button type="button" class="im-close" aria-label="Close" title="Close" onClick={onClose}>
            ×
          </button>
        </div>
        <div class="im-modal-body">{children}</div>
        {footer && <div class="im-modal-foot">{footer}</div>}
      </div>
    </Modal>
  );
}
