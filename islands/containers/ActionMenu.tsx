/**
 * The per-row action menu: a fixed-position list under (or above) its button, so the
 * table's borders never clip it. Esc, a click elsewhere, scrolling or resizing close it;
 * arrow keys move between items.
 */
import { useLayoutEffect, useRef } from "preact/hooks";

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
  disabled?: boolean;
  /** Draws a separator above the item. */
  separated?: boolean;
}

export interface ActionMenuProps {
  anchor: HTMLElement;
  label: string;
  items: MenuItem[];
  onClose: () => void;
}

export function ActionMenu({ anchor, label, items, onClose }: ActionMenuProps) {
  const ref = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const menu = ref.current!;
    const rect = anchor.getBoundingClientRect();
    const height = menu.offsetHeight;
    const width = menu.offsetWidth;
    const below = rect.bottom + 4 + height <= innerHeight;
    // Styles set through the CSSOM from script are allowed by `style-src 'self'`.
    menu.style.top = `${below ? rect.bottom + 4 : Math.max(4, rect.top - height - 4)}px`;
    menu.style.left = `${Math.max(4, Math.min(rect.right - width, innerWidth - width - 4))}px`;
    menu.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
  }, [anchor]);

  // A layout effect, not useEffect: the listeners are in place as soon as the menu is on
  // screen, so an Esc pressed right after opening it (a fast user, or a test) is not lost.
  useLayoutEffect(() => {
    const onPointer = (e: MouseEvent) => {
      const target = e.target as Node;
      if (!ref.current?.contains(target) && !anchor.contains(target)) onClose();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        onClose();
        anchor.focus();
      }
    };
    const onScroll = (e: Event) => {
      if (!ref.current?.contains(e.target as Node)) onClose();
    };
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    addEventListener("scroll", onScroll, true);
    addEventListener("resize", onClose);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
      removeEventListener("scroll", onScroll, true);
      removeEventListener("resize", onClose);
    };
  }, [anchor, onClose]);

  const move = (e: KeyboardEvent) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Home" && e.key !== "End") {
      return;
    }
    e.preventDefault();
    const buttons = [...ref.current!.querySelectorAll<HTMLButtonElement>("button:not(:disabled)")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = e.key === "Home"
      ? 0
      : e.key === "End"
      ? buttons.length - 1
      : (at + (e.key === "ArrowDown" ? 1 : -1) + buttons.length) % buttons.length;
    buttons[next]?.focus();
  };

  return (
    <div ref={ref} class="ct-menu" role="menu" aria-label={label} onKeyDown={move}>
      {items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          class={`ct-menu-item${item.danger ? " danger" : ""}${item.separated ? " separated" : ""}`}
          disabled={item.disabled}
          onClick={() => {
            onClose();
            // The menu is about to go: the dialog an item opens returns focus to the button.
            anchor.focus();
            item.onSelect();
          }}
        >
          {item.label}
        </button>
      ))}
    </div>
  );
}
