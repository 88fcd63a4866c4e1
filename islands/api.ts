/** The islands' one way to call the panel's JSON API. Errors carry the server's message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? { Accept: "application/json" } : {
      Accept: "application/json",
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
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

/** Only same-site paths are followed after sign-in ("/x", never "//evil" or "http:"). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![\/\\])/.test(next) ? next : "/containers";
}
