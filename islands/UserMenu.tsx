import { useState } from "preact/hooks";
import { api } from "./api.ts";

export interface UserMenuProps {
  username: string;
  role: "admin" | "viewer";
}

export function UserMenu({ username, role }: UserMenuProps) {
  const [busy, setBusy] = useState(false);
  async function signOut() {
    setBusy(true);
    try {
      await api("POST", "/api/auth/logout");
    } finally {
      location.href = "/login";
    }
  }
  return (
    <div class="user-menu">
      <a href="/users" class="user-name" title={`Signed in as ${username} (${role})`}>
        {username}
        <span class={`role role-${role}`}>{role}</span>
      </a>
      <button type="button" class="btn ghost" onClick={signOut} disabled={busy}>Sign out</button>
    </div>
  );
}
