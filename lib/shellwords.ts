/**
 * Splits a command line into words the way go-shellwords does for compose `command:` and
 * the Run dialog: whitespace separates words, single quotes keep everything literal,
 * double quotes keep spaces and allow \" and \\, a backslash outside quotes escapes the
 * next character. No expansion of any kind: the result is an argv, never a shell string.
 */
export class ShellwordsError extends Error {
  override name = "ShellwordsError";
}

export function splitShellwords(input: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && (input[i + 1] === '"' || input[i + 1] === "\\")) word += input[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\") {
      if (i + 1 < input.length) word += input[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new ShellwordsError(`Unterminated ${quote === "'" ? "single" : "double"} quote`);
  if (inWord) words.push(word);
  return words;
}
