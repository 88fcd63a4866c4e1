import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { safeNextPath } from "../lib/auth/next.ts";

export interface LoginFormProps {
  next?: string;
  /** Set when the plain form post (no scripts) was refused and the page is shown again. */
  username?: string;
  error?: string;
}

/**
 * Posts as JSON once hydrated; before that (or without scripts) the browser posts the form
 * itself and the server answers a redirect or this page again with the error.
 */
export function LoginForm({ next, username: given, error: refused }: LoginFormProps) {
  const [username, setUsername] = useState(given ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(refused ?? "");
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await api("POST", "/api/auth/login", { username, password });
      // Checked again here: the page's props are the server's word, the redirect is ours.
      location.href = safeNextPath(next) ?? "/containers";
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <form class="card form" onSubmit={submit} method="post" action="/login">
      <h1>Sign in</h1>
      {next && <input type="hidden" name="next" value={next} />}
      <label>
        Username
        <input
          name="username"
          autocomplete="username"
          required
          value={username}
          onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
      </label>
      {error && <p class="form-error" role="alert">{error}</p>}
      <button type="submit" class="btn primary wide" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
