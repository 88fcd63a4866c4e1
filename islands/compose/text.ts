/** Pure text helpers for the Compose tab's editor: project names, lines, indentation. */

/** A project name as the server accepts it (it lowercases it, as the compose CLI does). */
export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Files larger than this are refused before upload (the server caps the file at 1 MiB). */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The project name a file sets with a top-level `name:` (quoted or not, a comment after it
 * allowed), or null. A name with `${…}` interpolation is left to the server.
 */
export function nameFromYaml(yaml: string): string | null {
  const match = yaml.match(
    /^name[ \t]*:[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#"']+))[ \t]*(?:#.*)?$/m,
  );
  if (!match) return null;
  const name = (match[1] ?? match[2] ?? match[3] ?? "").trim();
  return name && !name.includes("$") ? name : null;
}

/** Number of lines as an editor counts them (an empty text has one line). */
export function lineCount(text: string): number {
  let count = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

/** [start, end) offsets of a 1-based line (clamped to the text), without its newline. */
export function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf("\n", start);
    if (next === -1) break;
    start = next + 1;
  }
  const end = text.indexOf("\n", start);
  return [start, end === -1 ? text.length : end];
}

/** The 1-based line an offset is on. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A line number an error message names ("… at line 12, column 3"), or null. */
export function lineOfMessage(message: string): number | null {
  const match = message.match(/\bline[: ]+(\d+)/i);
  const line = match ? Number(match[1]) : NaN;
  return Number.isInteger(line) && line > 0 ? line : null;
}

/** How many variables a .env text sets (non-empty, non-comment lines with "="). */
export function countEnvVars(env: string): number {
  return env.split("\n").filter((line) => /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line))
    .length;
}

/** Whether a dropped or picked file is a .env file rather than a compose file. */
export function isEnvFile(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ".env" || lower.endsWith(".env") || lower.startsWith(".env.");
}

export interface Edit {
  text: string;
  /** Replace [from, to) with `insert`, then select [selStart, selEnd). */
  from: number;
  to: number;
  insert: string;
  selStart: number;
  selEnd: number;
}

export const INDENT = "  ";

/**
 * Tab / Shift+Tab in the editor. A caret or a selection within one line gets two spaces
 * (Tab) or loses up to two before the caret's line (Shift+Tab); a selection over several
 * lines indents or outdents every line it touches.
 */
export function indentEdit(
  text: string,
  selStart: number,
  selEnd: number,
  outdent: boolean,
): Edit | null {
  const first = text.lastIndexOf("\n", selStart - 1) + 1;
  const multiline = text.slice(selStart, selEnd).includes("\n");
  if (!multiline && !outdent) {
    return {
      text,
      from: selStart,
      to: selEnd,
      insert: INDENT,
      selStart: selStart + INDENT.length,
      selEnd: selStart + INDENT.length,
    };
  }
  // Whole lines from the first selected line to the last (a selection ending at the start
  // of a line does not take that line).
  const lastOffset = multiline && selEnd > selStart && text[selEnd - 1] === "\n"
    ? selEnd - 1
    : selEnd;
  let last = text.indexOf("\n", lastOffset);
  if (last === -1) last = text.length;
  const block = text.slice(first, last);
  const lines = block.split("\n");
  let removedBeforeStart = 0;
  const changed = lines.map((line, i) => {
    if (!outdent) return INDENT + line;
    const strip = line.startsWith(INDENT)
      ? 2
      : line.startsWith(" ") || line.startsWith("\t")
      ? 1
      : 0;
    if (i === 0) removedBeforeStart = Math.min(strip, selStart - first);
    return line.slice(strip);
  });
  const insert = changed.join("\n");
  if (insert === block) return null;
  if (!multiline) {
    const start = Math.max(first, selStart - removedBeforeStart);
    const end = Math.max(first, selEnd - (block.length - insert.length));
    return { text, from: first, to: last, insert, selStart: start, selEnd: end };
  }
  return { text, from: first, to: last, insert, selStart: first, selEnd: first + insert.length };
}

/** The text after an edit: what the textarea must hold once the edit is applied. */
export function applyEdit(edit: Edit): string {
  return edit.text.slice(0, edit.from) + edit.insert + edit.text.slice(edit.to);
}

/** Enter keeps the current line's indentation (and adds a level after a trailing ":"). */
export function newlineEdit(text: string, selStart: number, selEnd: number): Edit {
  const first = text.lastIndexOf("\n", selStart - 1) + 1;
  const before = text.slice(first, selStart);
  let indent = before.match(/^[ \t]*/)![0];
  const trimmed = before.replace(/\s+#.*$/, "").trimEnd();
  if (trimmed.endsWith(":") && !trimmed.trimStart().startsWith("#")) indent += INDENT;
  const insert = `\n${indent}`;
  return {
    text,
    from: selStart,
    to: selEnd,
    insert,
    selStart: selStart + insert.length,
    selEnd: selStart + insert.length,
  };
}
