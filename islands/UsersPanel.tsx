/** Users page: everyone changes their own password; admins manage every account. */
import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { ConfirmDialog } from "./shared/ConfirmDialog.tsx";

interface UserRow {
  id: number;
  username: string;
  role: "admin" | "viewer";
  created_at: string;
}

export interface UsersPanelProps {
  me: { id: number; username: string; role: "admin" | "viewer" };
  users: UserRow[];
}

export function UsersPanel({ me, users: initial }: UsersPanelProps) {
  const [users, setUsers] = useState(initial);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const isAdmin = me.role === "admin";

  async function run(action: () => Promise<unknown>, success: string) {
    setMessage(null);
    try {
      await action();
      if (isAdmin) setUsers((await api<{ users: UserRow[] }>("GET", "/api/users")).users);
      setMessage({ kind: "ok", text: success });
      return true;
    } catch (e) {
      setMessage({ kind: "error", text: (e as Error).message });
      return false;
    }
  }

  return (
    <div class="stack">
      {message && (
        <div class={`notice ${message.kind === "error" ? "error" : "ok"}`} role="status">
          {message.text}
        </div>
      )}
      <OwnPassword
        onSubmit={(current, next) =>
          run(
            () =>
              api("POST", "/api/auth/password", { current_password: current, new_password: next }),
            "Your password was changed. Your other sessions were signed out.",
          )}
      />
      {isAdmin && (
        <>
          <section class="card">
            <h2>Accounts</h2>
            <table class="table compact">
              <thead>
                <tr>
                  <th>Username</th>
                  <th>Role</th>
                  <th>Created</th>
                  <th class="actions-col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.map((user) => (
                  <UserRowView
                    key={user.id}
                    user={user}
                    self={user.id === me.id}
                    onRole={(role) =>
                      run(
                        () => api("PATCH", `/api/users/${user.id}`, { role }),
                        `${user.username} is now ${role}.`,
                      )}
                    onReset={(password) =>
                      run(
                        () => api("PATCH", `/api/users/${user.id}`, { password }),
                        `Password of ${user.username} was reset.`,
                      )}
                    onDelete={async () => {
                      try {
                        await api("DELETE", `/api/users/${user.id}`);
                      } catch (e) {
                        return (e as Error).message;
                      }
                      await run(() => Promise.resolve(), `${user.username} was deleted.`);
                      return null;
                    }}
                  />
                ))}
              </tbody>
            </table>
          </section>
          <NewUser
            onCreate={(username, password, role) =>
              run(
                () => api("POST", "/api/users", { username, password, role }),
                `${username} was created.`,
              )}
          />
        </>
      )}
    </div>
  );
}

function UserRowView(
  { user, self, onRole, onReset, onDelete }: {
    user: UserRow;
    self: boolean;
    onRole: (role: string) => void;
    onReset: (password: string) => Promise<boolean>;
    /** Resolves to the error to show, or null once deleted. */
    onDelete: () => Promise<string | null>;
  },
) {
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const [confirming, setConfirming] = useState(false);
  return (
    <tr>
      <td class="name" title={user.username}>
        {user.username}
        {self && <span class="muted">(you)</span>}
      </td>
      <td>
        <select
          aria-label={`Role of ${user.username}`}
          value={user.role}
          disabled={self}
          onChange={(e) => onRole((e.target as HTMLSelectElement).value)}
        >
          <option value="admin">admin</option>
          <option value="viewer">viewer</option>
        </select>
      </td>
      <td class="muted">{new Date(user.created_at).toLocaleString()}</td>
      <td class="actions-col">
        {resetting
          ? (
            <form
              class="inline-form"
              onSubmit={async (e) => {
                e.preventDefault();
                if (await onReset(password)) {
                  setResetting(false);
                  setPassword("");
                }
              }}
            >
              <input
                type="password"
                placeholder="New password"
                autocomplete="new-password"
                aria-label={`New password for ${user.username}`}
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
              <button type="submit" class="btn small">Set</button>
              <button
                type="button"
                class="btn small ghost-dark"
                onClick={() => setResetting(false)}
              >
                Cancel
              </button>
            </form>
          )
          : (
            <span class="inline-form">
              {!self && (
                <button type="button" class="btn small" onClick={() => setResetting(true)}>
                  Reset password
                </button>
              )}
              {!self && (
                <button
                  type="button"
                  class="btn small danger-outline"
                  onClick={() => setConfirming(true)}
                >
                  Delete
                </button>
              )}
              {self && <span class="muted">Change yours above</span>}
            </span>
          )}
        {confirming && (
          <ConfirmDialog
            id="users-delete"
            title="Delete user"
            action="Delete user"
            busyText="Deleting…"
            onClose={() => setConfirming(false)}
            onConfirm={onDelete}
          >
            <p class="im-confirm-what">
              <span class="im-break">{user.username}</span>
              <span class="muted im-small">{user.role}</span>
            </p>
            <p class="im-small">
              They are signed out at once. This cannot be undone.
            </p>
          </ConfirmDialog>
        )}
      </td>
    </tr>
  );
}

function NewUser(
  { onCreate }: {
    onCreate: (username: string, password: string, role: string) => Promise<boolean>;
  },
) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("viewer");
  return (
    <form
      class="card form-row"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await onCreate(username, password, role)) {
          setUsername("");
          setPassword("");
        }
      }}
    >
      <h2>Add a user</h2>
      <div class="row">
        <label>
          Username
          <input
            required
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            required
            autocomplete="new-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option value="viewer">viewer (read-only)</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" class="btn primary">Add user</button>
      </div>
    </form>
  );
}

function OwnPassword(
  { onSubmit }: { onSubmit: (current: string, next: string) => Promise<boolean> },
) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  return (
    <form
      class="card form-row"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await onSubmit(current, next)) {
          setCurrent("");
          setNext("");
        }
      }}
    >
      <h2>Your password</h2>
      <div class="row">
        <label>
          Current password
          <input
            type="password"
            required
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          New password
          <input
            type="password"
            required
            autocomplete="new-password"
            value={next}
            onInput={(e) => setNext((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="btn primary">Change password</button>
      </div>
    </form>
  );
}
