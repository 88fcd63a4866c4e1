import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { safeNextPath } from "../lib/auth/next.ts";

export interface LoginFormProps {
  next?: string;
}

export function LoginForm({ next }: LoginFormProps) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
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
    <form class="card form" onSubmit={submit} method="post" action="/api/auth/login">
      <h1>Sign in</h1>
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
