/**
 * The compose stacks on the host, the panel's own and those made with the docker compose
 * CLI: services, running/containers, and (for admins) Start / Stop / Restart / Down, with a
 * confirmation for Down that can also remove the project's named volumes, and Update (the
 * services whose images changed, pulled and recreated). An update badge names the services
 * the last check found behind. The panel's own stacks open in the editor.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";
import { api } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import type { StackSummary } from "./types.ts";
import { useUpdates } from "../updates/useUpdates.ts";
import { StackUpdateDialog, stackUpdates } from "../updates/StackUpdate.tsx";
import { stackUpdatedText } from "../updates/text.ts";
import type { UpdateResult } from "../updates/types.ts";

export type StackAction = "start" | "stop" | "restart" | "down" | "forget";

export interface StacksProps {
  stacks: StackSummary[];
  isAdmin: boolean;
  /** The stack the editor holds. */
  current: string | null;
  refreshing: boolean;
  /** The outcome of the last action, shown above the table. */
  notice: NoticeValue | null;
  onDismissNotice: () => void;
  onRefresh: () => void;
  onOpen: (name: string) => void;
  /** Called after an action succeeded, with words for the notice. */
  onDone: (text: string) => void;
  onError: (text: string) => void;
}

const VERB: Record<StackAction, [string, string]> = {
  start: ["Start", "Starting…"],
  stop: ["Stop", "Stopping…"],
  restart: ["Restart", "Restarting…"],
  down: ["Down", "Removing…"],
  forget: ["Forget", "Forgetting…"],
};

interface ActionResult {
  project: string;
  containers: string[];
  networks?: string[];
  volumes?: string[];
}

function resultText(action: StackAction, name: string, result: ActionResult): string {
  const n = result.containers?.length ?? 0;
  const containers = `${n} ${n === 1 ? "container" : "containers"}`;
  switch (action) {
    case "start":
      return `Started ${name} (${containers}).`;
    case "stop":
      return `Stopped ${name} (${containers}).`;
    case "restart":
      return `Restarted ${name} (${containers}).`;
    case "forget":
      return `Forgot ${name}: its stored compose file was deleted.`;
    case "down": {
      const extra = [
        result.networks?.length ? `${result.networks.length} network(s)` : "",
        result.volumes?.length ? `${result.volumes.length} volume(s)` : "",
      ].filter(Boolean);
      return `Brought ${name} down: removed ${containers}${
        extra.length ? ` and ${extra.join(" and ")}` : ""
      }.`;
    }
  }
}

export function Stacks(props: StacksProps) {
  const { stacks, isAdmin, current } = props;
  const [busy, setBusy] = useState<{ name: string; action: StackAction } | null>(null);
  const [downing, setDowning] = useState<StackSummary | null>(null);
  const [forgetting, setForgetting] = useState<StackSummary | null>(null);
  const [updatingStack, setUpdatingStack] = useState<StackSummary | null>(null);
  const updates = useUpdates();

  async function run(stack: StackSummary, action: StackAction, body?: unknown) {
    setBusy({ name: stack.name, action });
    try {
      const path = `/api/containers/compose/stacks/${encodeURIComponent(stack.name)}`;
      const result = action === "forget"
        ? await api<ActionResult>("DELETE", path)
        : await api<ActionResult>("POST", `${path}/${action}`, body);
      props.onDone(resultText(action, stack.name, result));
      return null;
    } catch (error) {
      const message = (error as Error).message;
      // Down reports in its dialog; the others above the table.
      if (action !== "down" && action !== "forget") {
        props.onError(`${VERB[action][0]} ${stack.name}: ${message}`);
      }
      return message;
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="card cp-stacks" aria-labelledby="cp-stacks-title">
      <div class="cp-card-title">
        <h2 id="cp-stacks-title">Stacks</h2>
        <span class="muted cp-small">
          {stacks.length} {stacks.length === 1 ? "stack" : "stacks"} on this host
        </span>
        <button
          type="button"
          class="btn small cp-card-action"
          disabled={props.refreshing}
          onClick={props.onRefresh}
        >
          {props.refreshing ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {props.notice && (
        <Notice notice={props.notice} class="cp-notice" onDismiss={props.onDismissNotice} />
      )}
      {stacks.length === 0
        ? (
          <div class="cp-empty-small">
            <p class="cp-empty-title">No compose stacks on this host yet.</p>
            <p class="muted cp-small">
              {isAdmin
                ? "Paste or drop a compose file below and deploy it. Stacks started with the docker compose CLI show up here too."
                : "Stacks appear here once an admin deploys one, or one is started with the docker compose CLI."}
            </p>
          </div>
        )
        : (
          <table class="table cp-stack-table">
            <thead>
              <tr>
                <th class="cp-col-name">Name</th>
                <th class="cp-col-services">Services</th>
                <th class="cp-col-state">Containers</th>
                {isAdmin && (
                  <th class="cp-col-actions">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {stacks.map((stack) => (
                <StackRow
                  key={stack.name}
                  stack={stack}
                  isAdmin={isAdmin}
                  current={current === stack.name}
                  busy={busy}
                  onOpen={() => props.onOpen(stack.name)}
                  updates={stackUpdates(updates.byId.values(), stack.name)}
                  onUpdate={() => setUpdatingStack(stack)}
                  onAction={(action) =>
                    action === "down"
                      ? setDowning(stack)
                      : action === "forget"
                      ? setForgetting(stack)
                      : run(stack, action)}
                />
              ))}
            </tbody>
          </table>
        )}
      {updatingStack && (
        <StackUpdateDialog
          project={updatingStack.name}
          results={stackUpdates(updates.byId.values(), updatingStack.name)}
          onClose={() => setUpdatingStack(null)}
          onDone={(answer) => {
            const text = stackUpdatedText(answer);
            if (answer.rolled_back) props.onError(text);
            else props.onDone(text);
            // The recreated containers get fresh results (the old ones are gone).
            const ids = answer.updated.flatMap((s) => s.containers.map((c) => c.id));
            void (ids.length ? updates.check(ids) : Promise.resolve()).then(updates.reload);
          }}
        />
      )}
      {downing && (
        <DownDialog
          stack={downing}
          onClose={() => setDowning(null)}
          onConfirm={async (volumes) => {
            const error = await run(downing, "down", { volumes });
            if (error === null) setDowning(null);
            return error;
          }}
        />
      )}
      {forgetting && (
        <ForgetDialog
          stack={forgetting}
          onClose={() => setForgetting(null)}
          onConfirm={async () => {
            const error = await run(forgetting, "forget");
            if (error === null) setForgetting(null);
            return error;
          }}
        />
      )}
    </section>
  );
}

function ForgetDialog(
  { stack, onClose, onConfirm }: {
    stack: StackSummary;
    onClose: () => void;
    /** Resolves to the error, or null once the file is gone. */
    onConfirm: () => Promise<string | null>;
  },
) {
  return (
    <ConfirmDialog
      id="cp-forget"
      title={`Forget ${stack.name}`}
      confirmLabel={(busy) => busy ? "Forgetting…" : "Forget"}
      onClose={onClose}
      onConfirm={onConfirm}
    >
      {() => (
        <p>
          Deletes the compose file (and <span class="mono">.env</span>) the panel stored for{" "}
          <strong class="im-break">{stack.name}</strong>. It has no containers; its named volumes,
          if any, stay.
        </p>
      )}
    </ConfirmDialog>
  );
}

/**
 * A destructive action's confirmation: Cancel, the danger button, and the server's error
 * under the text when it fails (the dialog stays open then).
 */
function ConfirmDialog(
  { id, title, confirmLabel, onClose, onConfirm, children }: {
    id: string;
    title: string;
    confirmLabel: (busy: boolean) => string;
    onClose: () => void;
    /** Resolves to the error, or null when done (the owner closes the dialog). */
    onConfirm: () => Promise<string | null>;
    children: (busy: boolean) => ComponentChildren;
  },
) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  return (
    <TitledModal
      id={id}
      class="im-confirm"
      title={title}
      onClose={() => !busy && onClose()}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" disabled={busy} onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            class="btn danger"
            data-autofocus
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError("");
              const failed = await onConfirm();
              if (failed !== null) {
                setError(failed);
                setBusy(false);
              }
            }}
          >
            {confirmLabel(busy)}
          </button>
        </div>
      }
    >
      {children(busy)}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}

function StackRow(
  { stack, isAdmin, current, busy, onOpen, onAction, updates, onUpdate }: {
    stack: StackSummary;
    isAdmin: boolean;
    current: boolean;
    busy: { name: string; action: StackAction } | null;
    onOpen: () => void;
    onAction: (action: StackAction) => void;
    /** Services the last update check found behind. */
    updates: Map<string, UpdateResult[]>;
    onUpdate: () => void;
  },
) {
  const behind = [...updates.keys()].sort();
  const state = stack.containers === 0
    ? "down"
    : stack.running === stack.containers
    ? "running"
    : stack.running === 0
    ? "stopped"
    : "partial";
  const mine = busy?.name === stack.name ? busy.action : null;
  const disabled: Record<StackAction, boolean> = {
    start: stack.containers === 0 || stack.running === stack.containers,
    stop: stack.running === 0,
    restart: stack.containers === 0,
    down: stack.containers === 0,
    forget: stack.containers !== 0,
  };
  // A stack of ours that is down offers Forget (delete its stored file) in place of Down.
  const actions: StackAction[] = stack.ours && stack.containers === 0
    ? ["start", "stop", "restart", "forget"]
    : ["start", "stop", "restart", "down"];
  const services = stack.services.join(", ");
  return (
    <tr
      class={`cp-stack${current ? " is-current" : ""}`}
      data-stack={stack.name}
      aria-busy={mine ? "true" : undefined}
    >
      <td class="cp-col-name">
        <div class="cp-stack-name">
          {stack.ours && isAdmin
            ? (
              <button
                type="button"
                class="cp-name-btn truncate"
                title={`Open ${stack.name} in the editor`}
                onClick={onOpen}
              >
                {stack.name}
              </button>
            )
            : <span class="cp-name truncate" title={stack.name}>{stack.name}</span>}
          {stack.ours
            ? (
              <span
                class="cp-badge badge-ours"
                title="Deployed from this panel: its compose file is stored here"
              >
                ours
              </span>
            )
            : (
              <span
                class="cp-badge badge-external"
                title="Made outside the panel (e.g. docker compose): it can be started, stopped and brought down here; its file is not stored"
              >
                external/CLI
              </span>
            )}
          {current && <span class="cp-badge badge-editing">in editor</span>}
          {behind.length > 0 && (
            <span
              class="badge badge-update up-stack-badge"
              data-update-services={behind.join(",")}
              title={`The last update check found newer images for: ${behind.join(", ")}`}
            >
              update: {behind.join(", ")}
            </span>
          )}
        </div>
        {stack.working_dir && !stack.ours && (
          <div class="mono muted cp-small truncate" title={stack.working_dir}>
            {stack.working_dir}
          </div>
        )}
      </td>
      <td class="cp-col-services">
        <span class="truncate cp-services" title={services}>
          {services || <span class="muted">—</span>}
        </span>
      </td>
      <td class="cp-col-state">
        <span class={`cp-state state-${state}`} data-state={state}>
          <span class="cp-dot" aria-hidden="true" />
          {stack.containers === 0
            ? "no containers"
            : `${stack.running}/${stack.containers} running`}
        </span>
      </td>
      {isAdmin && (
        <td class="cp-col-actions">
          <div class="cp-actions">
            {stack.ours && (
              <button
                type="button"
                class="btn small"
                disabled={mine !== null}
                onClick={onOpen}
              >
                Open
              </button>
            )}
            {stack.containers > 0 && (
              <button
                type="button"
                class={`btn small${behind.length ? " up-has-update" : ""}`}
                data-action="update"
                disabled={busy !== null}
                aria-label={`Update ${stack.name}`}
                title={behind.length
                  ? `Pull and recreate ${behind.join(", ")} (newer images found)`
                  : "Pull the stack's images and recreate the services whose image changed"}
                onClick={onUpdate}
              >
                Update
              </button>
            )}
            {actions.map((action) => (
              <button
                key={action}
                type="button"
                class={`btn small${
                  action === "down" || action === "forget" ? " danger-outline" : ""
                }`}
                data-action={action}
                disabled={disabled[action] || busy !== null}
                aria-label={`${VERB[action][0]} ${stack.name}`}
                onClick={() => onAction(action)}
              >
                {mine === action ? VERB[action][1] : VERB[action][0]}
              </button>
            ))}
          </div>
        </td>
      )}
    </tr>
  );
}

function DownDialog(
  { stack, onClose, onConfirm }: {
    stack: StackSummary;
    onClose: () => void;
    /** Resolves to the error, or null once the stack is down. */
    onConfirm: (volumes: boolean) => Promise<string | null>;
  },
) {
  const [volumes, setVolumes] = useState(false);
  return (
    <ConfirmDialog
      id="cp-down"
      title={`Bring ${stack.name} down`}
      confirmLabel={(busy) => busy ? "Removing…" : volumes ? "Down and remove volumes" : "Down"}
      onClose={onClose}
      onConfirm={() => onConfirm(volumes)}
    >
      {(busy) => (
        <>
          <p>
            Stops and removes the {stack.containers}{" "}
            {stack.containers === 1 ? "container" : "containers"} of{" "}
            <strong class="im-break">{stack.name}</strong> and its networks, like{" "}
            <span class="mono">docker compose down</span>.
            {stack.ours &&
              " The compose file stays in the panel, so the stack can be deployed again."}
          </p>
          {stack.services.length > 0 && (
            <p class="muted im-small">
              Services: <span class="mono im-break">{stack.services.join(", ")}</span>
            </p>
          )}
          <label class="im-check">
            <input
              type="checkbox"
              name="volumes"
              checked={volumes}
              disabled={busy}
              onChange={(e) => setVolumes((e.target as HTMLInputElement).checked)}
            />
            Also remove the project's named volumes (their data is lost)
          </label>
          {volumes && (
            <div class="notice im-warn">
              <p>The volumes' data cannot be recovered.</p>
            </div>
          )}
        </>
      )}
    </ConfirmDialog>
  );
}
