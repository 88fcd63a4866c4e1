import { readNdjson, StreamClosedError } from "./ndjson.ts";
import { enginePath } from "./env.ts";

/** The islands' one way to call the panel's JSON API. Errors carry the server's message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(enginePath(path), {
    method,
    headers: body === undefined ? { Accept: "application/json" } : {
      Accept: "application/json",
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  return await answerOf<T>(response, path);
}

/**
 * Like `api`, for a route that may stream progress (NDJSON) before its answer: each
 * `{progress}` line goes to `onProgress`, and the final line is returned or thrown like a
 * JSON answer would be.
 */
export async function apiWithProgress<T = unknown>(
  method: string,
  path: string,
  body: unknown,
  onProgress: (event: unknown) => void,
): Promise<T> {
  const response = await fetch(enginePath(path), {
    method,
    headers: {
      Accept: "application/x-ndjson, application/json",
      "Content-Type": "application/json",
    },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-ndjson") || !response.body) {
    return await answerOf<T>(response, path);
  }
  let final: Record<string, unknown> | undefined;
  try {
    await readNdjson<Record<string, unknown>>(
      response.body,
      (lines) => {
        for (const line of lines) {
          if (typeof line.done === "boolean") final = line;
          else if ("progress" in line) onProgress(line.progress);
        }
      },
      (text) => ({ progress: { status: text } }),
    );
  } catch (error) {
    if (!(error instanceof StreamClosedError)) throw error;
    throw new ApiError(
      0,
      `${error.message}. The server carries on by itself: check the list in a moment.`,
    );
  }
  if (!final) {
    throw new ApiError(
      0,
      "The connection closed before the panel answered; the server may still finish: check the list in a moment.",
    );
  }
  const { done, status, error, field, ...result } = final;
  if (!done) {
    throw new ApiError(
      typeof status === "number" ? status : 500,
      typeof error === "string" ? error : "The request failed",
      typeof field === "string" ? field : undefined,
    );
  }
  return result as T;
}

async function answerOf<T>(response: Response, path: string): Promise<T> {
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  if (!response.ok) {
    const error = data as { error?: string; field?: string } | undefined;
    if (response.status === 401 && !path.startsWith("/api/auth/")) {
      location.href = `/login?${new URLSearchParams({
        next: location.pathname + location.search,
      })}`;
    }
    throw new ApiError(
      response.status,
      error?.error ?? `Request failed (${response.status})`,
      error?.field,
    );
  }
  return data as T;
}
