/**
 * The per-row action menu: a fixed-position list under (or above) its button, so the
 * table's borders never clip it. Esc or a click elsewhere close it; when the page scrolls or
 * resizes it follows its button (rows arriving live above it move it, and the browser's scroll
 * anchoring scrolls), and it closes once the button is off screen or gone. Arrow keys move
 * between items.
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

  /** Puts the menu beside its button; false when the button is off screen or gone. */
  const place = (): boolean => {
    const menu = ref.current;
    if (!menu || !anchor.isConnected) return false;
    const rect = anchor.getBoundingClientRect();
    if (rect.bottom < 0 || rect.top > innerHeight) return false;
    const height = menu.offsetHeight;
    const width = menu.offsetWidth;
    const below = rect.bottom + 4 + height <= innerHeight;
    // Styles set through the CSSOM from script are allowed by `style-src 'self'`.
    menu.style.top = `${below ? rect.bottom + 4 : Math.max(4, rect.top - height - 4)}px`;
    menu.style.left = `${Math.max(4, Math.min(rect.right - width, innerWidth - width - 4))}px`;
    return true;
  };

  useLayoutEffect(() => {
    place();
    ref.current!.querySelector<HTMLButtonElement>("button:not(:disabled)")?.focus();
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
    const follow = (e: Event) => {
      if (ref.current?.contains(e.target as Node)) return;
      if (!place()) onClose();
    };
    document.addEventListener("mousedown", onPointer);
    document.addEventListener("keydown", onKey);
    addEventListener("scroll", follow, true);
    addEventListener("resize", follow);
    return () => {
      document.removeEventListener("mousedown", onPointer);
      document.removeEventListener("keydown", onKey);
      removeEventListener("scroll", follow, true);
      removeEventListener("resize", follow);
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
