/**
 * The Environments tab: every Docker Engine the panel manages with its state (up or down,
 * latency, Engine version, containers, images, swarm role), re-read every few seconds from
 * the panel's own monitor (it never waits on a slow Engine). Admins add, edit and remove.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import { LOCAL_ENV, pagePathFor } from "./env.ts";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { ConfirmDialog } from "./shared/ConfirmDialog.tsx";
import { EnvironmentDialog } from "./environments/EnvironmentDialog.tsx";
import {
  containersText,
  latencyText,
  statusLabel,
  swarmText,
  transportLabel,
} from "./environments/format.ts";
import type { EnvironmentView, Role } from "./environments/types.ts";

export interface EnvironmentsPanelProps {
  role: Role;
  /** The list as the server read it, or null when the page leaves it to the island. */
  initial: EnvironmentView[] | null;
}

const REFRESH_MS = 4_000;

export function EnvironmentsPanel({ role, initial }: EnvironmentsPanelProps) {
  const isAdmin = role === "admin";
  const [environments, setEnvironments] = useState<EnvironmentView[] | null>(initial);
  const [loadError, setLoadError] = useState("");
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [editing, setEditing] = useState<EnvironmentView | "new" | null>(null);
  const [removing, setRemoving] = useState<EnvironmentView | null>(null);

  async function load() {
    try {
      const answer = await api<{ environments: EnvironmentView[] }>("GET", "/api/environments");
      setEnvironments(answer.environments);
      setLoadError("");
    } catch (e) {
      setLoadError(`The environments did not load: ${(e as Error).message}`);
    }
  }

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  async function remove(env: EnvironmentView): Promise<string | null> {
    try {
      await api("DELETE", `/api/environments/${encodeURIComponent(env.id)}`);
    } catch (e) {
      return (e as Error).message;
    }
    setRemoving(null);
    setNotice({
      kind: "ok",
      text: `Removed ${env.name}. Its Engine and containers are untouched.`,
    });
    await load();
    return null;
  }

  const onlyLocal = environments !== null && environments.every((e) => e.id === LOCAL_ENV);

  return (
    <section class="env-panel">
      <div class="section-head">
        <h1>Environments</h1>
        <span class="muted">The Docker Engines this panel manages.</span>
        {isAdmin && (
          <button
            type="button"
            class="btn primary env-add"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          >
            Add environment
          </button>
        )}
      </div>
      {notice && <Notice notice={notice} class="env-notice" onDismiss={() => setNotice(null)} />}
      {loadError && <div class="notice error env-notice" role="alert">{loadError}</div>}
      {environments === null
        ? !loadError && <p class="muted">Loading environments…</p>
        : (
          <div class="env-table-wrap">
            <table class="table env-table">
              <thead>
                <tr>
                  <th class="env-col-name">Name</th>
                  <th class="env-col-state">State</th>
                  <th class="env-col-num">Latency</th>
                  <th class="env-col-version">Engine</th>
                  <th class="env-col-num">Containers</th>
                  <th class="env-col-num">Images</th>
                  <th class="env-col-swarm">Swarm</th>
                  {isAdmin && (
                    <th class="env-col-actions">
                      <span class="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {environments.map((env) => (
                  <EnvironmentRow
                    key={env.id}
                    env={env}
                    isAdmin={isAdmin}
                    onEdit={() => {
                      setNotice(null);
                      setEditing(env);
                    }}
                    onRemove={() => setRemoving(env)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      {onlyLocal && (
        <div class="im-empty-small env-empty">
          <p class="empty-title">Only this machine's Engine so far.</p>
          <p class="muted">
            {isAdmin
              ? "Add a remote Engine reached over mutual TLS (tcp://host:2376) or another Engine's unix socket. The README shows how to make the certificates."
              : "An admin can add remote Engines here."}
          </p>
        </div>
      )}
      {editing && (
        <EnvironmentDialog
          existing={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={async (env, created) => {
            setEditing(null);
            setNotice({
              kind: "ok",
              text: created ? `Added ${env.name}; its Engine answered.` : `Saved ${env.name}.`,
            });
            await load();
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          id="env-remove"
          title="Remove environment"
          action="Remove environment"
          busyText="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={() => remove(removing)}
        >
          <p class="im-confirm-what">
            <strong class="im-break">{removing.name}</strong>
            <span class="mono muted im-small im-break">{removing.url}</span>
          </p>
          <p class="im-small">
            The panel forgets this Engine and its stored certificates and closes its open streams.
            Nothing on the Engine is stopped or removed; its stored compose files stay on the
            panel's disk.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function EnvironmentRow(
  { env, isAdmin, onEdit, onRemove }: {
    env: EnvironmentView;
    isAdmin: boolean;
    onEdit: () => void;
    onRemove: () => void;
  },
) {
  const { state } = env;
  const up = state.status === "up";
  return (
    <tr data-env-id={env.id} data-status={state.status}>
      <td class="env-col-name">
        <a class="env-name truncate" href={pagePathFor(env.id, "/containers")} title={env.name}>
          {env.name}
        </a>
        <span class="env-url">
          <span class="mono truncate" title={env.url}>{env.url}</span>
          <span class={`env-badge${env.tls ? " is-tls" : ""}`}>
            {transportLabel(env)}
          </span>
        </span>
        {env.warning && <span class="env-warning im-small">{env.warning}</span>}
      </td>
      <td class="env-col-state">
        <span class={`env-state is-${state.status}`}>
          <span class={`env-dot is-${state.status}`} aria-hidden="true" />
          {statusLabel(state)}
        </span>
        {!up && state.error && (
          <span class="env-error im-small" title={state.error}>{state.error}</span>
        )}
      </td>
      <td class="env-col-num" data-label="Latency">{latencyText(state)}</td>
      <td class="env-col-version mono" data-label="Engine">
        {up ? state.engine_version ?? "—" : "—"}
      </td>
      <td class="env-col-num" data-label="Containers" title={up ? "Running / total" : undefined}>
        {containersText(state)}
      </td>
      <td class="env-col-num" data-label="Images">
        {up && state.images !== undefined ? state.images : "—"}
      </td>
      <td class="env-col-swarm" data-label="Swarm">
        {up && state.swarm?.manager
          ? <a href={pagePathFor(env.id, "/swarm")}>{swarmText(state)}</a>
          : up
          ? swarmText(state)
          : "—"}
      </td>
      {isAdmin && (
        <td class="env-col-actions">
          {env.id === LOCAL_ENV
            ? <span class="muted im-small">Built in</span>
            : (
              <span class="inline-form">
                <button type="button" class="btn small" onClick={onEdit}>Edit</button>
                <button type="button" class="btn small danger-outline" onClick={onRemove}>
                  Remove
                </button>
              </span>
            )}
        </td>
      )}
    </tr>
  );
}
