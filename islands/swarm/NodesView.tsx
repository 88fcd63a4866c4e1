/**
 * Swarm nodes: hostname, role, availability, state, address, Engine version and labels.
 * Admins drain, pause or activate a node, promote or demote it, edit its labels and
 * remove a node that is down.
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ConfirmDialog } from "../shared/ConfirmDialog.tsx";
import { TitledModal } from "../shared/TitledModal.tsx";
import { keyValues, labelsText } from "./format.ts";
import type { SwarmNode } from "./types.ts";

const AVAILABILITY = ["active", "pause", "drain"] as const;

export function NodesView(
  { nodes, isAdmin, onChanged }: {
    nodes: SwarmNode[];
    isAdmin: boolean;
    /** Reloads the list; `text` is what to say about the change (or the failure). */
    onChanged: (text: string, ok: boolean) => Promise<void>;
  },
) {
  const [busy, setBusy] = useState<string | null>(null);
  const [labelling, setLabelling] = useState<SwarmNode | null>(null);
  const [removing, setRemoving] = useState<SwarmNode | null>(null);

  async function patch(node: SwarmNode, body: Record<string, unknown>, done: string) {
    setBusy(node.id);
    try {
      await api("PATCH", `/api/swarm/nodes/${encodeURIComponent(node.id)}`, body);
      await onChanged(done, true);
    } catch (e) {
      await onChanged(`${node.hostname}: ${(e as Error).message}`, false);
    } finally {
      setBusy(null);
    }
  }

  if (nodes.length === 0) {
    return <p class="muted sw-empty">The swarm lists no nodes.</p>;
  }
  return (
    <>
      <div class="sw-table-wrap">
        <table class="table sw-table sw-nodes">
          <thead>
            <tr>
              <th class="sw-col-host">Hostname</th>
              <th class="sw-col-role">Role</th>
              <th class="sw-col-avail">Availability</th>
              <th class="sw-col-state">State</th>
              <th class="sw-col-addr">Address</th>
              <th class="sw-col-version">Engine</th>
              <th>Labels</th>
              {isAdmin && (
                <th class="sw-col-actions">
                  <span class="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => {
              const down = node.state !== "ready";
              return (
                <tr key={node.id} data-node={node.hostname} data-availability={node.availability}>
                  <td class="sw-col-host">
                    <span class="sw-strong truncate" title={`${node.hostname} (${node.id})`}>
                      {node.hostname}
                    </span>
                    {node.leader && <span class="sw-badge is-leader">leader</span>}
                  </td>
                  <td class="sw-col-role">
                    {node.role}
                    {node.manager_reachability && node.manager_reachability !== "reachable" && (
                      <span class="sw-note">{node.manager_reachability}</span>
                    )}
                  </td>
                  <td class="sw-col-avail">
                    {isAdmin
                      ? (
                        <select
                          aria-label={`Availability of ${node.hostname}`}
                          value={node.availability}
                          disabled={busy === node.id}
                          onChange={(e) => {
                            const availability = (e.target as HTMLSelectElement).value;
                            void patch(
                              node,
                              { availability },
                              availability === "drain"
                                ? `Draining ${node.hostname}: its tasks move to other nodes.`
                                : `${node.hostname} is now ${availability}.`,
                            );
                          }}
                        >
                          {AVAILABILITY.map((a) => <option key={a} value={a}>{a}</option>)}
                        </select>
                      )
                      : <span class={`sw-avail is-${node.availability}`}>{node.availability}</span>}
                  </td>
                  <td class="sw-col-state">
                    <span class={`sw-state ${down ? "is-down" : "is-up"}`}>{node.state}</span>
                  </td>
                  <td class="sw-col-addr mono truncate" data-label="Address" title={node.address}>
                    {node.address}
                  </td>
                  <td class="sw-col-version mono" data-label="Engine">
                    {node.engine_version || "—"}
                  </td>
                  <td class="sw-labels" data-label="Labels">
                    {labelsText(node.labels).map((label) => (
                      <span key={label} class="sw-chip mono" title={label}>{label}</span>
                    ))}
                    {Object.keys(node.labels).length === 0 && <span class="muted">—</span>}
                  </td>
                  {isAdmin && (
                    <td class="sw-col-actions">
                      <span class="inline-form">
                        <button
                          type="button"
                          class="btn small"
                          disabled={busy === node.id}
                          onClick={() =>
                            patch(
                              node,
                              { role: node.role === "manager" ? "worker" : "manager" },
                              node.role === "manager"
                                ? `${node.hostname} is now a worker.`
                                : `${node.hostname} is now a manager.`,
                            )}
                        >
                          {node.role === "manager" ? "Demote" : "Promote"}
                        </button>
                        <button
                          type="button"
                          class="btn small"
                          onClick={() => setLabelling(node)}
                        >
                          Labels
                        </button>
                        {down && (
                          <button
                            type="button"
                            class="btn small danger-outline"
                            onClick={() => setRemoving(node)}
                          >
                            Remove
                          </button>
                        )}
                      </span>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {labelling && (
        <LabelsDialog
          node={labelling}
          onClose={() => setLabelling(null)}
          onSave={async (body) => {
            await api("PATCH", `/api/swarm/nodes/${encodeURIComponent(labelling.id)}`, body);
            setLabelling(null);
            await onChanged(`Saved the labels of ${labelling.hostname}.`, true);
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          id="sw-node-remove"
          title="Remove node"
          action="Remove node"
          busyText="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            try {
              await api("DELETE", `/api/swarm/nodes/${encodeURIComponent(removing.id)}`);
            } catch (e) {
              return (e as Error).message;
            }
            setRemoving(null);
            await onChanged(`Removed ${removing.hostname} from the swarm.`, true);
            return null;
          }}
        >
          <p class="im-confirm-what">
            <strong class="im-break">{removing.hostname}</strong>
            <span class="mono muted im-small">{removing.address}</span>
          </p>
          <p class="im-small">
            The node is{" "}
            {removing.state}. It leaves the swarm's node list; to come back it has to join again
            with a join token.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function LabelsDialog(
  { node, onClose, onSave }: {
    node: SwarmNode;
    onClose: () => void;
    onSave: (body: Record<string, unknown>) => Promise<void>;
  },
) {
  const [text, setText] = useState(labelsText(node.labels).join("\n"));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const parsed = keyValues(
      text.split("\n").map((l) => (l.trim() && !l.includes("=") ? `${l.trim()}=` : l)).join(
        "\n",
      ),
      "Label",
    );
    if (typeof parsed === "string") return setError(parsed);
    const labels_add: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (node.labels[k] !== v) labels_add[k] = v;
    const labels_remove = Object.keys(node.labels).filter((k) => !(k in parsed));
    if (!Object.keys(labels_add).length && !labels_remove.length) return onClose();
    setBusy(true);
    setError("");
    try {
      await onSave({
        ...(Object.keys(labels_add).length ? { labels_add } : {}),
        ...(labels_remove.length ? { labels_remove } : {}),
      });
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <TitledModal
      id="sw-labels"
      title={`Labels of ${node.hostname}`}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose}>Cancel</button>
          <button type="submit" form="sw-labels-form" class="btn primary" disabled={busy}>
            {busy ? "Saving…" : "Save labels"}
          </button>
        </div>
      }
    >
      <form id="sw-labels-form" class="im-form" onSubmit={submit} noValidate>
        <label>
          One label per line, KEY=value
          <textarea
            class="mono sw-textarea"
            rows={6}
            spellcheck={false}
            value={text}
            data-autofocus
            aria-invalid={error ? true : undefined}
            onInput={(e) => {
              setText((e.target as HTMLTextAreaElement).value);
              setError("");
            }}
          />
          {error && <span class="im-field-error" role="alert">{error}</span>}
          <span class="muted im-small">
            Services place tasks with constraints such as node.labels.zone==east.
          </span>
        </label>
      </form>
    </TitledModal>
  );
}
