/**
 * A service's tasks (node, state, desired state, error) and its logs, in a side drawer.
 * The tasks are read again every few seconds while it is open; the logs follow.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.ts";
import { Modal } from "../shared/Modal.tsx";
import { openStream } from "../containers/sse.ts";
import type { LogLine } from "../containers/types.ts";
import { portText, replicasText, shortImage, since } from "./format.ts";
import type { ServiceDetail, SwarmService } from "./types.ts";

const TASKS_MS = 3_000;
const LOG_TAIL = 200;
const LOG_CAP = 2_000;

export function ServiceDrawer(
  { service, onClose }: { service: SwarmService; onClose: () => void },
) {
  const [detail, setDetail] = useState<ServiceDetail | null>(null);
  const [error, setError] = useState("");
  const [tab, setTab] = useState<"tasks" | "logs">("tasks");
  const path = `/api/swarm/services/${encodeURIComponent(service.id)}`;

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const answer = await api<ServiceDetail | { service: ServiceDetail }>("GET", path);
        if (!stopped) {
          setDetail("service" in answer ? answer.service : answer);
          setError("");
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    const timer = setInterval(load, TASKS_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [service.id]);

  const shown = detail ?? service;
  const tasks = [...(detail?.tasks ?? [])].sort((a, b) =>
    (a.desired_state === "running" ? 0 : 1) - (b.desired_state === "running" ? 0 : 1) ||
    (a.slot ?? 0) - (b.slot ?? 0) || b.updated_at.localeCompare(a.updated_at)
  );

  return (
    <Modal class="sw-drawer" labelledBy="sw-drawer-title" onClose={onClose}>
      <div class="sw-drawer-inner">
        <div class="sw-drawer-head">
          <div class="sw-drawer-title">
            <h2 id="sw-drawer-title" class="im-break">{shown.name}</h2>
            <span class="muted im-small mono im-break">{shortImage(shown.image)}</span>
          </div>
          <button type="button" class="im-close" aria-label="Close" title="Close" onClick={onClose}>
            ×
          </button>
        </div>
        <dl class="sw-facts">
          <dt>Mode</dt>
          <dd>{shown.mode}</dd>
          <dt>Replicas</dt>
          <dd>{replicasText(shown)}</dd>
          <dt>Ports</dt>
          <dd class="mono">{shown.ports.length ? shown.ports.map(portText).join(", ") : "—"}</dd>
          {shown.update_status && (
            <>
              <dt>Update</dt>
              <dd>
                {shown.update_status.state.replaceAll("_", " ")}
                {shown.update_status.message && (
                  <span class="muted">: {shown.update_status.message}</span>
                )}
              </dd>
            </>
          )}
        </dl>
        <div class="sw-subtabs" role="tablist">
          {(["tasks", "logs"] as const).map((t) => (
            <button
              key={t}
              type="button"
              role="tab"
              aria-selected={tab === t}
              class={`sw-subtab${tab === t ? " active" : ""}`}
              onClick={() => setTab(t)}
            >
              {t === "tasks" ? `Tasks${detail ? ` (${tasks.length})` : ""}` : "Logs"}
            </button>
          ))}
        </div>
        {error && <div class="notice error" role="alert">{error}</div>}
        {tab === "tasks"
          ? (
            <div class="sw-drawer-body">
              {detail === null && !error && <p class="muted">Loading tasks…</p>}
              {detail && tasks.length === 0 && <p class="muted">No tasks.</p>}
              {tasks.length > 0 && (
                <table class="table compact sw-tasks">
                  <thead>
                    <tr>
                      <th class="sw-col-slot">Slot</th>
                      <th>Node</th>
                      <th>State</th>
                      <th>Desired</th>
                      <th>Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {tasks.map((task) => (
                      <tr
                        key={task.id}
                        data-task-state={task.state}
                        class={task.desired_state !== "running" ? "sw-task-old" : undefined}
                      >
                        <td class="mono">{task.slot ?? "—"}</td>
                        <td class="truncate" title={task.node_id}>{task.node_hostname || "—"}</td>
                        <td>
                          <span class={`sw-task is-${task.state}`}>{task.state}</span>
                          {task.error && (
                            <span class="sw-task-error" title={task.error}>{task.error}</span>
                          )}
                        </td>
                        <td>{task.desired_state}</td>
                        <td class="muted" title={task.updated_at}>{since(task.updated_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          )
          : <ServiceLogs path={`${path}/logs`} />}
      </div>
    </Modal>
  );
}

function ServiceLogs({ path }: { path: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [status, setStatus] = useState<"connecting" | "following" | "ended">("connecting");
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    const close = openStream(`${path}?tail=${LOG_TAIL}&follow=1&timestamps=1`, {
      line: (line: LogLine) => setLines((all) => [...all.slice(-(LOG_CAP - 1)), line]),
      end: () => {
        setStatus("ended");
        close();
      },
    }, { onOpen: () => setStatus("following") });
    return close;
  }, [path]);

  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div class="sw-drawer-body sw-logs-wrap">
      <p class="muted im-small">
        {status === "connecting"
          ? "Connecting…"
          : status === "following"
          ? `Following the last ${LOG_TAIL} lines of every task`
          : "The log stream ended"}
      </p>
      <pre class="sw-logs mono" ref={box} tabIndex={0} aria-label="Service logs">
        {lines.length === 0 && status !== "connecting" ? "No output yet." : lines.map((l, i) => (
          <span key={i} class={l.stream === "stderr" ? "sw-stderr" : undefined}>
            {l.text}
            {"\n"}
          </span>
        ))}
      </pre>
    </div>
  );
}
