/**
 * The rendered window of a long table body (virtual.ts does the arithmetic): which lines to
 * render for the part of the page on screen, their offsets for the spacer rows, and the
 * measuring of rendered lines. The page (window) is the scroller.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  clampRange,
  covers,
  FIRST_WINDOW,
  OVERSCAN_PX,
  prefixOffsets,
  type Range,
  rangeFor,
} from "./virtual.ts";

export interface WindowLine {
  /** Stable across renders; the rendered <tr> carries it as data-vkey. */
  key: string;
  /** Lines of a kind share an estimate until measured; the <tr> carries it as data-vkind. */
  kind: string;
}

export interface RowWindow {
  /** The <tbody> whose direct <tr data-vkey> children are the rendered lines. */
  body: { current: HTMLTableSectionElement | null };
  /** offsets[i] is the top of line i within the body; offsets[n] the body's height. */
  offsets: number[];
  /** The lines to render: every line when not enabled. */
  windowed: Range;
  /** For the <tbody>: focus moving into a line near an edge renders the lines past it. */
  onFocusIn: (e: FocusEvent) => void;
}

/**
 * `enabled`: window the lines (else all render). `mode`: measured heights are dropped when it
 * changes (compact rows). `estimate`: a line's height before one of its kind was measured.
 */
export function useRowWindow<L extends WindowLine>(
  lines: readonly L[],
  { enabled, mode, estimate }: { enabled: boolean; mode: unknown; estimate: (line: L) => number },
): RowWindow {
  const body = useRef<HTMLTableSectionElement>(null);
  /** Measured heights by line key, for the current mode. */
  const heights = useRef(new Map<string, number>());
  /** The last measured height of each kind, the estimate for those not measured yet. */
  const typical = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const measuredMode = useRef(mode);
  if (measuredMode.current !== mode) {
    measuredMode.current = mode;
    heights.current.clear();
    typical.current.clear();
  }
  const offsets = useMemo(
    () =>
      prefixOffsets(
        lines.map((line) =>
          heights.current.get(line.key) ?? typical.current.get(line.kind) ?? estimate(line)
        ),
      ),
    [lines, measured, mode],
  );
  const [range, setRange] = useState<Range>({ start: 0, end: FIRST_WINDOW });
  const windowed = enabled ? clampRange(range, lines.length) : { start: 0, end: lines.length };
  const offsetsRef = useRef(offsets);
  offsetsRef.current = offsets;

  /** Renders the lines on screen and OVERSCAN_PX around, unless those rendered cover it. */
  const followScroll = useCallback(() => {
    const tbody = body.current;
    if (!tbody) return;
    const top = -tbody.getBoundingClientRect().top;
    const bottom = top + innerHeight;
    const at = offsetsRef.current;
    const need = rangeFor(at, top, bottom);
    const wide = rangeFor(at, top - OVERSCAN_PX, bottom + OVERSCAN_PX);
    setRange((current) =>
      covers(current, need) && current.end - current.start <= 2 * (wide.end - wide.start)
        ? current
        : wide
    );
  }, []);

  useEffect(() => {
    if (!enabled) return;
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        followScroll();
      });
    };
    addEventListener("scroll", onScroll, { passive: true });
    addEventListener("resize", onScroll);
    return () => {
      cancelAnimationFrame(frame);
      removeEventListener("scroll", onScroll);
      removeEventListener("resize", onScroll);
    };
  }, [enabled]);

  // After each render: measure the rendered lines, and follow the scroll position (the list
  // or the heights may have changed under it).
  useLayoutEffect(() => {
    const tbody = body.current;
    if (!tbody || !enabled) return;
    let changed = false;
    for (const tr of tbody.querySelectorAll<HTMLElement>(":scope > tr[data-vkey]")) {
      const height = tr.getBoundingClientRect().height;
      if (height <= 0) continue;
      const key = tr.dataset.vkey!;
      typical.current.set(tr.dataset.vkind ?? "", height);
      if (Math.abs((heights.current.get(key) ?? -1) - height) > 0.5) {
        heights.current.set(key, height);
        changed = true;
      }
    }
    if (changed) setMeasured((n) => n + 1);
    else followScroll();
  });

  const onFocusIn = (e: FocusEvent) => {
    if (!enabled) return;
    const key = (e.target as HTMLElement).closest<HTMLElement>("tr[data-vkey]")?.dataset.vkey;
    const at = key === undefined ? -1 : lines.findIndex((line) => line.key === key);
    if (at < 0) return;
    const margin = 5;
    if (at - margin < windowed.start || at + margin >= windowed.end) {
      setRange({
        start: Math.max(0, Math.min(windowed.start, at - margin)),
        end: Math.min(lines.length, Math.max(windowed.end, at + margin + 1)),
      });
    }
  };

  return { body, offsets, windowed, onFocusIn };
}
