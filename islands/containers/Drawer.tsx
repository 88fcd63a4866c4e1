/** The side panel that holds a container's Inspect, Stats and Logs views, with tabs between them. */
import type { ComponentChildren } from "preact";
import { Modal } from "../shared/Modal.tsx";
import type { ContainerView } from "./types.ts";
import { pillClass, stateLabel } from "./format.ts";

export type DrawerKind = "inspect" | "logs" | "stats";

const TAB_TEXT: Record<DrawerKind, string> = { inspect: "Inspect", stats: "Stats", logs: "Logs" };

export interface DrawerProps {
  name: string;
  container: ContainerView | undefined;
  kind: DrawerKind;
  onKind: (kind: DrawerKind) => void;
  onClose: () => void;
  children: ComponentChildren;
}

export function Drawer({ name, container, kind, onKind, onClose, children }: DrawerProps) {
  return (
    <Modal class={`ct-drawer ct-drawer-${kind}`} labelledBy="ct-drawer-title" onClose={onClose}>
      <div class="ct-drawer-inner">
        <header class="ct-drawer-head">
          <div class="ct-drawer-title">
            <h2 id="ct-drawer-title" title={name}>{name}</h2>
            {container
              ? <span class={pillClass(container)}>{stateLabel(container)}</span>
              : <span class="pill state-removed">removed</span>}
          </div>
          <nav class="ct-drawer-tabs" role="tablist" aria-label="Container views">
            {(["inspect", "stats", "logs"] as const).map((tab) => (
              <button
                key={tab}
                type="button"
                role="tab"
                aria-selected={tab === kind}
                class={`ct-drawer-tab${tab === kind ? " active" : ""}`}
                onClick={() => onKind(tab)}
              >
                {TAB_TEXT[tab]}
              </button>
            ))}
          </nav>
          <button
            type="button"
            class="ct-close"
            aria-label="Close"
            title="Close (Esc)"
            onClick={onClose}
            data-autofocus
          >
            ×
          </button>
        </header>
        <div class="ct-drawer-body">{children}</div>
      </div>
    </Modal>
  );
}
