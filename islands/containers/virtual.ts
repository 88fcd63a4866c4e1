/**
 * Row virtualisation for the Containers table: which items of a long list to render for the
 * part of the page on screen. Items have their own heights (measured once rendered, estimated
 * before); the table renders items [start, end) between two spacer rows of the heights of
 * what is left out.
 */

/** Below this many items every row is rendered (nothing to gain, and find-in-page works). */
export const VIRTUAL_MIN = 200;
/** Items rendered before the first measurement (the server's render and the first paint). */
export const FIRST_WINDOW = 40;
/** Pixels rendered beyond each edge of the viewport, so scrolling and Tab find rows there. */
export const OVERSCAN_PX = 800;

export interface Range {
  start: number;
  end: number;
}

/** offsets[i] is the top of item i, offsets[n] the total height. */
export function prefixOffsets(heights: readonly number[]): number[] {
  const offsets = new Array<number>(heights.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = offsets[i] + heights[i];
  return offsets;
}

/** The first item whose bottom is below `y` (n when none). */
function firstBelow(offsets: readonly number[], y: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (offsets[mid + 1] > y) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The items that intersect [top, bottom) (list coordinates), at least one when any. */
export function rangeFor(offsets: readonly number[], top: number, bottom: number): Range {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const start = Math.min(firstBelow(offsets, Math.max(0, top)), n - 1);
  let end = firstBelow(offsets, Math.max(top, bottom));
  if (end < n && offsets[end] < bottom) end++;
  return { start, end: Math.max(end, start + 1) };
}

/** Whether `inner` lies within `outer`. */
export function covers(outer: Range, inner: Range): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** The range clamped to n items, keeping its size where it can (the list got shorter). */
export function clampRange(range: Range, n: number): Range {
  const size = Math.max(1, range.end - range.start);
  const end = Math.min(n, Math.max(range.end, size));
  return { start: Math.max(0, Math.min(range.start, end - size)), end };
}
