/**
 * The Containers tab's operation dialogs: kill with a signal, rename, limits and restart
 * policy (PATCH), recreate, and the one confirmation of a bulk action listing its containers.
 * Each sends its request itself and shows the server's error on the field it names.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { Modal } from "../shared/Modal.tsx";
import { formatBytes } from "./format.ts";
import type { ContainerView, InspectView } from "./types.ts";

const SIGNALS = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

function Dialog(
  { title, onClose, onSubmit, busy, error, submit, danger, children }: {
    title: ComponentChildren;
    onClose: () => void;
    onSubmit: () => void;
    busy: boolean;
    error: string;
    submit: string;
    danger?: boolean;
    children: ComponentChildren;
  },
) {
  return (
    <Modal class="ct-modal ct-op" labelledBy="ct-op-title" onClose={onClose}>
      <form
        class="ct-modal-inner"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) onSubmit();
        }}
      >
        <h2 id="ct-op-title">{title}</h2>
        {children}
        {error && <div class="notice error" role="alert">{error}</div>}
        <div class="ct-modal-actions">
          <button type="button" class="btn" onClick={onClose} data-autofocus>Cancel</button>
          <button type="submit" class={`btn ${danger ? "danger" : "primary"}`} disabled={busy}>
            {busy ? "Working…" : submit}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Runs a request; an ApiError's message lands on its field (or the dialog). */
function useRequest() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [field, setField] = useState<string | null>(null);
  const run = async (request: () => Promise<unknown>, done: () => void) => {
    setBusy(true);
    setError("");
    setField(null);
    try {
      await request();
      done();
    } catch (e) {
      setError((e as Error).message);
      setField(e instanceof ApiError ? e.field ?? null : null);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, field, run };
}

const path = (c: { id: string }, tail = "") => `/api/containers/${encodeURIComponent(c.id)}${tail}`;

export function KillDialog(
  { container, onClose }: { container: ContainerView; onClose: () => void },
) {
  const [signal, setSignal] = useState("SIGTERM");
  const { busy, error, run } = useRequest();
  return (
    <Dialog
      title={
        <>
          Send a signal to <span class="ct-confirm-name">{container.name}</span>
        </>
      }
      onClose={onClose}
      onSubmit={() => run(() => api("POST", path(container, "/kill"), { signal }), onClose)}
      busy={busy}
      error={error}
      submit={`Send ${signal}`}
      danger={signal === "SIGKILL"}
    >
      <label class="ct-field">
        Signal
        <select
          name="signal"
          value={signal}
          onChange={(e) => setSignal((e.target as HTMLSelectElement).value)}
        >
          {SIGNALS.map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
      </label>
      <p class="muted">
        SIGKILL ends the container at once; other signals are the process's to handle.
      </p>
    </Dialog>
  );
}

export function RenameDialog(
  { container, onClose }: { container: ContainerView; onClose: () => void },
) {
  const [name, setName] = useState(container.name);
  const { busy, error, run } = useRequest();
  return (
    <Dialog
      title={
        <>
          Rename <span class="ct-confirm-name">{container.name}</span>
        </>
      }
      onClose={onClose}
      onSubmit={() => run(() => api("POST", path(container, "/rename"), { name }), onClose)}
      busy={busy}
      error={error}
      submit="Rename"
    >
      <label class="ct-field">
        New name
        <input
          name="name"
          value={name}
          aria-invalid={!!error}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </label>
    </Dialog>
  );
}

/** Sizes as the server takes them ("256m"); an empty field changes nothing. */
function sizeText(bytes: number | null): string {
  if (!bytes) return "";
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib}m` : String(bytes);
}

export function LimitsDialog(
  { container, onClose }: { container: ContainerView; onClose: () => void },
) {
  const [current, setCurrent] = useState<InspectView | null>(null);
  const [loadError, setLoadError] = useState("");
  const [form, setForm] = useState({
    restart_policy: "",
    memory: "",
    memory_reservation: "",
    cpus: "",
    pids_limit: "",
  });
  const { busy, error, field, run } = useRequest();
  useEffect(() => {
    api<{ container: InspectView }>("GET", path(container)).then(({ container: info }) => {
      setCurrent(info);
      const policy = info.restart_policy;
      setForm({
        restart_policy: policy.name === "on-failure" && policy.max_retries
          ? `on-failure:${policy.max_retries}`
          : policy.name || "no",
        memory: sizeText(info.limits.memory),
        memory_reservation: sizeText(info.limits.memory_reservation),
        cpus: info.limits.cpus ? String(info.limits.cpus) : "",
        pids_limit: info.limits.pids ? String(info.limits.pids) : "",
      });
    }).catch((e) => setLoadError((e as Error).message));
  }, [container.id]);
  const submit = () => {
    const body: Record<string, string> = {};
    for (const [key, value] of Object.entries(form)) if (value.trim()) body[key] = value.trim();
    run(() => api("PATCH", path(container), body), onClose);
  };
  const input = (key: keyof typeof form, label: string, hint: string) => (
    <label class="ct-field">
      {label}
      <input
        name={key}
        value={form[key]}
        placeholder={hint}
        aria-invalid={field === key}
        onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })}
      />
      {field === key && <span class="ct-field-error" role="alert">{error}</span>}
    </label>
  );
  return (
    <Dialog
      title={
        <>
          Limits and restart policy of <span class="ct-confirm-name">{container.name}</span>
        </>
      }
      onClose={onClose}
      onSubmit={submit}
      busy={busy || !current}
      error={loadError || (field && field in form ? "" : error)}
      submit="Apply"
    >
      <label class="ct-field">
        Restart policy
        <select
          name="restart_policy"
          value={form.restart_policy.startsWith("on-failure") ? "on-failure" : form.restart_policy}
          onChange={(e) =>
            setForm({ ...form, restart_policy: (e.target as HTMLSelectElement).value })}
        >
          <option value="no">no</option>
          <option value="always">always</option>
          <option value="unless-stopped">unless-stopped</option>
          <option value="on-failure">on-failure</option>
        </select>
        {field === "restart_policy" && <span class="ct-field-error" role="alert">{error}</span>}
      </label>
      {input("memory", "Memory limit", "e.g. 256m or 1g (at least 6m)")}
      {input("memory_reservation", "Memory reservation", "e.g. 128m")}
      {input("cpus", "CPUs", "e.g. 0.5")}
      {input("pids_limit", "Process limit", "e.g. 200")}
      <p class="muted">
        Applied to the running container at once (docker update). An empty field is left as it
        is{current?.limits.memory
          ? `; the memory limit is now ${formatBytes(current.limits.memory)}`
          : ""}.
      </p>
    </Dialog>
  );
}

export function RecreateDialog(
  { container, onClose }: { container: ContainerView; onClose: () => void },
) {
  const [pull, setPull] = useState(false);
  const { busy, error, run } = useRequest();
  return (
    <Dialog
      title={
        <>
          Recreate <span class="ct-confirm-name">{container.name}</span>?
        </>
      }
      onClose={onClose}
      onSubmit={() => run(() => api("POST", path(container, "/recreate"), { pull }), onClose)}
      busy={busy}
      error={error}
      submit="Recreate"
      danger
    >
      <p>
        The container is stopped, removed and created again with exactly the same configuration
        (environment, labels, limits, networks, volumes, healthcheck, restart policy). Its writable
        layer is lost; volumes keep their data. If anything fails, the old container is put back.
      </p>
      <label class="ct-check">
        <input
          type="checkbox"
          name="pull"
          checked={pull}
          onChange={(e) => setPull((e.target as HTMLInputElement).checked)}
        />
        Pull <span class="mono">{container.image}</span> first
      </label>
    </Dialog>
  );
}

export type BulkAction = "start" | "stop" | "restart" | "pause" | "resume" | "kill" | "remove";

export const BULK_TEXT: Record<BulkAction, string> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  pause: "Pause",
  resume: "Resume",
  kill: "Kill",
  remove: "Remove",
};

export interface BulkOutcome {
  id: string;
  ok: boolean;
  name?: string;
  error?: string;
}

/** The one confirmation of a bulk action, listing every container it acts on. */
export function ConfirmBulk(
  { action, containers, onClose, onDone }: {
    action: BulkAction;
    containers: ContainerView[];
    onClose: () => void;
    onDone: (results: BulkOutcome[]) => void;
  },
) {
  const { busy, error, run } = useRequest();
  const count = `${containers.length} ${containers.length === 1 ? "container" : "containers"}`;
  return (
    <Dialog
      title={`${BULK_TEXT[action]} ${count}?`}
      onClose={onClose}
      onSubmit={() =>
        run(async () => {
          const answer = await api<{ results: BulkOutcome[] }>("POST", "/api/containers/bulk", {
            action,
            ids: containers.map((c) => c.id),
          });
          onDone(answer.results);
        }, onClose)}
      busy={busy}
      error={error}
      submit={`${BULK_TEXT[action]} ${count}`}
      danger={action === "remove" || action === "kill"}
    >
      {action === "remove" && <p>Running containers are killed first; named volumes are kept.</p>}
      {action === "kill" && <p>SIGKILL ends each container at once.</p>}
      <ul class="ct-bulk-list" data-testid="bulk-list">
        {containers.map((c) => (
          <li key={c.id}>
            <span class="mono">{c.name}</span> <span class="muted">{c.state}</span>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
