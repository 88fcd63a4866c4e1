/**
 * xterm.js for the exec terminal, made to live under the panel's CSP. Only Terminal.tsx
 * imports this file, and only with a dynamic import() when the terminal opens, so xterm.js
 * and its fit addon are a chunk of their own that the Containers page never loads before.
 *
 * The CSP has `style-src 'self'`. xterm's DOM renderer writes its theme, its row layout
 * and its scrollbar colours into <style> elements, which that policy blocks (with a console
 * error each, whatever the element's type). Here xterm gets a hidden inert element in place
 * of each <style> (it only ever sets their text and removes them) and that text is mirrored
 * into constructed style sheets (CSSOM, which the CSP allows); 24-bit colours, which xterm
 * sets through the style attribute, go through CSSOM too. The static rules from xterm's
 * css/xterm.css are in static/containers.css.
 */
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";

export type { Terminal };

export interface XtermHandle {
  term: Terminal;
  /** Fits the terminal to its element; the terminal fires onResize if the size changed. */
  fit(): void;
  dispose(): void;
}

const THEME = {
  background: "#0f141c",
  foreground: "#d5dde8",
  cursor: "#e8edf5",
  cursorAccent: "#0f141c",
  selectionBackground: "#35507f",
  selectionInactiveBackground: "#2a3650",
  scrollbarSliderBackground: "rgba(160, 174, 196, 0.25)",
  scrollbarSliderHoverBackground: "rgba(160, 174, 196, 0.4)",
  scrollbarSliderActiveBackground: "rgba(160, 174, 196, 0.55)",
  black: "#1c2330",
  red: "#f0624d",
  green: "#3fc98a",
  yellow: "#e5b744",
  blue: "#5b9bff",
  magenta: "#c58af9",
  cyan: "#3ec1d3",
  white: "#d5dde8",
  brightBlack: "#667085",
  brightRed: "#ff8a78",
  brightGreen: "#6fe0ad",
  brightYellow: "#ffd36b",
  brightBlue: "#8bb8ff",
  brightMagenta: "#dcb1ff",
  brightCyan: "#7adbe8",
  brightWhite: "#ffffff",
};

export function createXterm(element: HTMLElement): XtermHandle {
  const term = new Terminal({
    fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace',
    fontSize: 13,
    lineHeight: 1.15,
    cursorBlink: true,
    cursorStyle: "block",
    cursorInactiveStyle: "outline",
    scrollback: 5000,
    theme: THEME,
  });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  const styles = openWithoutInlineStyles(term, element);
  routeAttributeStylesThroughCssom(term);
  return {
    term,
    fit() {
      // Throws while the element has no size (a closing dialog): keep the last size then.
      try {
        fitAddon.fit();
      } catch {
        // not laid out
      }
    },
    dispose() {
      term.dispose();
      styles.dispose();
    },
  };
}

/**
 * term.open() with every <style> xterm creates during it (all three are created there)
 * replaced by a hidden <cm-xterm-style>, whose text is mirrored into a constructed sheet,
 * now and whenever xterm rewrites it (theme or font changes).
 */
function openWithoutInlineStyles(term: Terminal, element: HTMLElement) {
  const doc = element.ownerDocument;
  const inert: HTMLElement[] = [];
  const createElement = doc.createElement;
  doc.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
    if (tag.toLowerCase() !== "style") return createElement.call(this, tag, options);
    const standIn = createElement.call(this, "cm-xterm-style");
    standIn.hidden = true;
    inert.push(standIn);
    return standIn;
  } as typeof doc.createElement;
  try {
    term.open(element);
  } finally {
    // Back to Document.prototype.createElement.
    delete (doc as { createElement?: unknown }).createElement;
    if (doc.createElement !== createElement) doc.createElement = createElement;
  }

  const sheets = inert.map(() => new CSSStyleSheet());
  const texts = inert.map(() => "");
  const sync = () => {
    inert.forEach((style, i) => {
      const text = style.textContent ?? "";
      if (text === texts[i]) return;
      texts[i] = text;
      try {
        sheets[i].replaceSync(text);
      } catch {
        // keep the previous rules
      }
    });
  };
  sync();
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, ...sheets];
  const observer = new MutationObserver(sync);
  for (const style of inert) {
    observer.observe(style, { childList: true, characterData: true, subtree: true });
  }
  return {
    dispose() {
      observer.disconnect();
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((sheet) => !sheets.includes(sheet));
    },
  };
}

interface RowFactory {
  _addStyle?: (element: HTMLElement, style: string) => void;
}

/**
 * The DOM renderer sets 24-bit colours with setAttribute("style", …), which the CSP blocks;
 * the same declarations through element.style are allowed. xterm has no option for this,
 * so its (unminified) private row factory gets a CSSOM version of that one method; if a
 * later xterm renames it, 24-bit colours fall back to the default colour and nothing else
 * changes.
 */
function routeAttributeStylesThroughCssom(term: Terminal) {
  const core = (term as unknown as {
    _core?: { _renderService?: { _renderer?: { value?: { _rowFactory?: RowFactory } } } };
  })._core;
  const factory = core?._renderService?._renderer?.value?._rowFactory;
  if (!factory || typeof factory._addStyle !== "function") return;
  factory._addStyle = (element, style) => {
    const colon = style.indexOf(":");
    if (colon > 0) element.style.setProperty(style.slice(0, colon), style.slice(colon + 1));
  };
}
