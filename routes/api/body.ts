import type { Context } from "hono";
import { ValidationError } from "../../lib/errors.ts";

/**
 * How deeply objects and arrays may nest in a request body. The panel's own bodies need
 * four or five levels; a body nested thousands deep would cost every recursive walk after
 * the parse (redaction, audit, validation) a stack overflow.
 */
export const MAX_JSON_DEPTH = 32;

/** Parses a JSON object body or throws a 400 saying what is wrong. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new ValidationError("Send the body as JSON (Content-Type: application/json)");
  }
  const text = await c.req.text();
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new ValidationError(
      `The request body is nested more than ${MAX_JSON_DEPTH} levels deep`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError("The request body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ValidationError("The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

export function stringField(
  body: Record<string, unknown>,
  field: string,
  options: { max?: number } = {},
): string {
  const value = body[field];
  if (typeof value !== "string" || value.length === 0) {
    throw new ValidationError(`${field} is required`, field);
  }
  if (value.length > (options.max ?? 1024)) {
    throw new ValidationError(`${field} is too long`, field);
  }
  return value;
}

/**
 * The deepest nesting of `[` and `{` in JSON text, outside strings, found in one pass
 * without parsing (so a hostile body is refused before it becomes a deep object graph).
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}

/** A JSON object body, or {} when the request has none. */
export async function optionalJsonObject(c: Context): Promise<Record<string, unknown>> {
  if (!c.req.header("content-type") && (c.req.header("content-length") ?? "0") === "0") {
    return {};
  }
  return await readJsonObject(c);
}
