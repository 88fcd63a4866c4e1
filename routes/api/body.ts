import type { Context } from "hono";
import { ValidationError } from "../../lib/errors.ts";

/** Parses a JSON object body or throws a 400 saying what is wrong. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new ValidationError("Send the body as JSON (Content-Type: application/json)");
  }
  let body: unknown;
  try {
    body = await c.req.json();
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
