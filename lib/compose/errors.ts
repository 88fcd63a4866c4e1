import { ValidationError } from "../errors.ts";

/**
 * A compose file (or its .env, or the project name) that cannot be imported: always a 400.
 * The message says what and where; `line` is the 1-based YAML line when it is known.
 */
export class ComposeError extends ValidationError {
  override name = "ComposeError";
  readonly line: number | null;
  constructor(message: string, field = "yaml", line: number | null = null) {
    super(line === null ? message : `${message} (line ${line})`, field);
    this.line = line;
  }
}

/** Shortens a value for an error message. */
export function shown(value: string, max = 60): string {
  const text = value.length > max ? `${value.slice(0, max - 3)}...` : value;
  return JSON.stringify(text);
}
