/** Compact rows (issue 14's density): one line of about 32 px per container. */

/** Where the browser remembers the choice: "1" compact, "0" not. */
export const COMPACT_KEY = "cm.containers.compact";
/** Without a remembered choice, rows are compact above this many containers. */
export const COMPACT_ABOVE = 1000;

/** The stored choice: true, false, or null when none (or an unreadable value) is stored. */
export function parseCompactChoice(stored: string | null): boolean | null {
  return stored === "1" ? true : stored === "0" ? false : null;
}

/** The user's choice when there is one, else compact above COMPACT_ABOVE containers. */
export function compactRows(choice: boolean | null, containers: number): boolean {
  return choice ?? containers > COMPACT_ABOVE;
}
