import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";

export interface UserMenuProps {
  username: string;
  role: "admin" | "viewer";
}

type Theme = "system" | "light" | "dark";
const THEME_KEY = "cm-theme";

function storedTheme(): Theme {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

/** Remembered per browser; static/theme.js applies it before the next page paints. */
function applyTheme(theme: Theme) {
  try {
    if (theme === "system") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function UserMenu({ username, role }: UserMenuProps) {
  const [busy, setBusy] = useState(false);
  // The server renders "system"; the stored choice is read once hydrated.
  const [theme, setTheme] = useState<Theme>("system");
  useEffect(() => setTheme(storedTheme()), []);
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
      <label class="theme-switch" title="Colour theme for this browser">
        <span class="sr-only">Theme</span>
        <select
          value={theme}
          onChange={(event) => {
            const next = (event.target as HTMLSelectElement).value as Theme;
            setTheme(next);
            applyTheme(next);
          }}
        >
          <option value="system">System theme</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      <a href="/users" class="user-name" title={`Signed in as ${username} (${role})`}>
        {username}
        <span class={`role role-${role}`}>{role}</span>
      </a>
      <button type="button" class="btn ghost" onClick={signOut} disabled={busy}>Sign out</button>
    </div>
  );
}
