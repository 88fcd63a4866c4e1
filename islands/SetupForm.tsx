import { useState } from "preact/hooks";
import { api } from "./api.ts";

export interface SetupFormProps {
  /** Set when the plain form post (no scripts) was refused and the page is shown again. */
  username?: string;
  error?: string;
}

/** Posts as JSON once hydrated; without scripts the browser posts the form itself. */
export function SetupForm({ username, error: refused }: SetupFormProps) {
  const [fields, setFields] = useState({
    token: "",
    username: username ?? "admin",
    password: "",
    confirm: "",
  });
  const [error, setError] = useState(refused ?? "");
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof fields) => (e: Event) =>
    setFields({ ...fields, [name]: (e.target as HTMLInputElement).value });

  async function submit(event: Event) {
    event.preventDefault();
    if (fields.password !== fields.confirm) {
      setError("The two passwords do not match");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await api("POST", "/api/auth/setup", {
        token: fields.token.trim(),
        username: fields.username,
        password: fields.password,
      });
      location.href = "/containers";
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <form class="card form" onSubmit={submit} method="post" action="/setup">
      <h1>Set up Container Manager</h1>
      <p class="muted">
        Create the first admin. The setup token is printed in the panel's log when it starts without
        any user.
      </p>
      <label>
        Setup token
        <input
          name="token"
          autocomplete="off"
          required
          value={fields.token}
          onInput={set("token")}
          class="mono"
        />
      </label>
      <label>
        Admin username
        <input
          name="username"
          autocomplete="username"
          required
          value={fields.username}
          onInput={set("username")}
        />
      </label>
      <label>
        <span>
          Password <span class="muted">(at least 10 characters)</span>
        </span>
        <input
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={10}
          value={fields.password}
          onInput={set("password")}
        />
      </label>
      <label>
        Repeat the password
        <input
          name="confirm"
          type="password"
          autocomplete="new-password"
          required
          value={fields.confirm}
          onInput={set("confirm")}
        />
      </label>
      {error && <p class="form-error" role="alert">{error}</p>}
      <button type="submit" class="btn primary wide" disabled={busy}>
        {busy ? "Creating…" : "Create admin"}
      </button>
    </form>
  );
}
