/**
 * The Compose tab on a swarm manager: the swarm stacks (the panel's and the CLI's, found by
 * their namespace label) with Remove for admins, and "Deploy as swarm stack…" for the file in
 * the editor: a preview of the services as `docker stack deploy` would create them and of what
 * swarm ignores (each with its line), then the deploy with its progress. Renders nothing when
 * the page's Engine is not a swarm manager.
 */
import { useEffect, useState } from "preact/hooks";
import { api, apiWithProgress } from "../api.ts";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";
import { TitledModal } from "../shared/TitledModal.tsx";

export interface SwarmStackSummary {
  name: string;
  services: number;
  tasks_running: number;
  tasks_desired: number;
  created_by: "panel" | "cli";
}

interface SwarmPreview {
  name: string;
  services: {
    service: string;
    name: string;
    image: string;
    mode: string;
    replicas: number | null;
    ports: { published: number; target: number; protocol: string; mode: string }[];
    networks: string[];
    secrets: string[];
    configs: string[];
    constraints: string[];
  }[];
  networks: { name: string; external: boolean }[];
  secrets: { name: string; external: boolean }[];
  configs: { name: string; external: boolean }[];
  ignored: { service?: string; key: string; line?: number; message: string }[];
  warnings: { line: number | null; kind: string; message: string }[];
}

interface DeployAnswer {
  result: { created: string[]; updated: string[]; kept: string[] };
}

export interface SwarmStacksProps {
  /** The editor's file, its .env and the stack name the Compose tab would use. */
  yaml: string;
  env: string;
  project: string;
  isAdmin: boolean;
  onJump: (line: number) => void;
}

export function SwarmStacks(props: SwarmStacksProps) {
  const [manager, setManager] = useState(false);
  const [stacks, setStacks] = useState<SwarmStackSummary[] | null>(null);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [loading, setLoading] = useState(false);
  const [deploying, setDeploying] = useState(false);
  const [removing, setRemoving] = useState<SwarmStackSummary | null>(null);

  async function load() {
    setLoading(true);
    try {
      const answer = await api<{ stacks: SwarmStackSummary[] }>("GET", "/api/swarm/stacks");
      setStacks(answer.stacks);
    } catch (error) {
      setNotice({
        kind: "error",
        text: `Listing the swarm stacks failed: ${(error as Error).message}`,
      });
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    api<{ manager?: boolean }>("GET", "/api/swarm")
      .then((state) => {
        if (!state.manager) return;
        setManager(true);
        return load();
      })
      .catch(() => {}); // no swarm (or no swarm API): nothing to show
  }, []);

  if (!manager) return null;
  const canDeploy = props.yaml.trim() !== "" && props.project !== "";
  return (
    <section class="card cp-stacks cp-swarm" aria-labelledby="cp-swarm-title">
      <div class="cp-card-title">
        <h2 id="cp-swarm-title">Swarm stacks</h2>
        <span class="muted cp-small">
          {stacks === null
            ? "Loading…"
            : `${stacks.length} ${stacks.length === 1 ? "stack" : "stacks"} on this swarm`}
        </span>
        <div class="cp-card-action">
          {props.isAdmin && (
            <button
              type="button"
              class="btn small"
              data-action="swarm-deploy"
              disabled={!canDeploy}
              title={canDeploy
                ? `Deploy the editor's file to the swarm as stack ${props.project}`
                : "Write or open a compose file (and give the stack a name) first"}
              onClick={() => setDeploying(true)}
            >
              Deploy as swarm stack…
            </button>
          )}
          <button type="button" class="btn small" disabled={loading} onClick={load}>
            {loading ? "Refreshing…" : "Refresh"}
          </button>
        </div>
      </div>
      {notice && <Notice notice={notice} class="cp-notice" onDismiss={() => setNotice(null)} />}
      {stacks !== null && stacks.length === 0 && (
        <div class="cp-empty-small">
          <p class="cp-empty-title">No swarm stacks yet.</p>
          <p class="muted cp-small">
            {props.isAdmin
              ? "Open a compose file in the editor and choose Deploy as swarm stack. Stacks deployed with docker stack deploy show up here too."
              : "Stacks appear here once an admin deploys one, or one is deployed with docker stack deploy."}
          </p>
        </div>
      )}
      {stacks !== null && stacks.length > 0 && (
        <table class="table cp-stack-table cp-swarm-table">
          <thead>
            <tr>
              <th class="cp-col-name">Name</th>
              <th class="cp-col-services">Services</th>
              <th class="cp-col-state">Tasks</th>
              {props.isAdmin && (
                <th class="cp-col-actions">
                  <span class="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {stacks.map((stack) => {
              const state = stack.tasks_desired === 0
                ? "down"
                : stack.tasks_running >= stack.tasks_desired
                ? "running"
                : stack.tasks_running === 0
                ? "stopped"
                : "partial";
              return (
                <tr key={stack.name} class="cp-stack" data-swarm-stack={stack.name}>
                  <td class="cp-col-name">
                    <div class="cp-stack-name">
                      <span class="cp-name truncate mono" title={stack.name}>{stack.name}</span>
                      {stack.created_by === "panel"
                        ? (
                          <span class="cp-badge badge-ours" title="Deployed from this panel">
                            ours
                          </span>
                        )
                        : (
                          <span
                            class="cp-badge badge-external"
                            title="Deployed with docker stack deploy: the panel holds no file for it"
                          >
                            CLI
                          </span>
                        )}
                    </div>
                  </td>
                  <td class="cp-col-services">{stack.services}</td>
                  <td class="cp-col-state">
                    <span class={`cp-state state-${state}`} data-state={state}>
                      <span class="cp-dot" aria-hidden="true" />
                      {stack.tasks_running}/{stack.tasks_desired} running
                    </span>
                  </td>
                  {props.isAdmin && (
                    <td class="cp-col-actions">
                      <div class="cp-actions">
                        <button
                          type="button"
                          class="btn small danger-outline"
                          aria-label={`Remove ${stack.name}`}
                          onClick={() => setRemoving(stack)}
                        >
                          Remove
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {deploying && (
        <DeployDialog
          {...props}
          onClose={() => setDeploying(false)}
          onDone={(text) => {
            setDeploying(false);
            setNotice({ kind: "ok", text });
            load();
          }}
        />
      )}
      {removing && (
        <RemoveDialog
          stack={removing}
          onClose={() => setRemoving(null)}
          onDone={(text) => {
            setRemoving(null);
            setNotice({ kind: "ok", text });
            load();
          }}
        />
      )}
    </section>
  );
}

function DeployDialog(
  props: SwarmStacksProps & { onClose: () => void; onDone: (text: string) => void },
) {
  const [preview, setPreview] = useState<SwarmPreview | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [lines, setLines] = useState<string[]>([]);
  const [acknowledged, setAcknowledged] = useState(false);

  useEffect(() => {
    api<SwarmPreview>("POST", "/api/swarm/stacks/preview", {
      name: props.project,
      compose: props.yaml,
      env: props.env || undefined,
    }).then(setPreview, (e) => setError((e as Error).message));
  }, []);

  const risks = preview?.warnings.filter((w) => w.kind === "risk") ?? [];
  async function deploy() {
    setBusy(true);
    setError("");
    setLines([]);
    try {
      const answer = await apiWithProgress<DeployAnswer>(
        "POST",
        "/api/swarm/stacks/deploy",
        {
          name: props.project,
          compose: props.yaml,
          env: props.env || undefined,
          acknowledge_risks: acknowledged,
        },
        (event) => {
          const message = (event as { message?: string }).message;
          if (message) setLines((all) => [...all, message]);
        },
      );
      const { created, updated, kept } = answer.result;
      const parts = [
        created.length ? `created ${created.join(", ")}` : "",
        updated.length ? `updated ${updated.join(", ")}` : "",
        kept.length ? `left ${kept.join(", ")} running (no longer in the file)` : "",
      ].filter(Boolean);
      props.onDone(`Deployed swarm stack ${props.project}: ${parts.join("; ")}.`);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <TitledModal
      id="cp-swarm-deploy"
      class="cp-swarm-dialog"
      title={`Deploy ${props.project} to the swarm`}
      onClose={() => !busy && props.onClose()}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" disabled={busy} onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="button"
            class="btn primary"
            data-autofocus
            disabled={busy || !preview || (risks.length > 0 && !acknowledged)}
            onClick={deploy}
          >
            {busy ? "Deploying…" : "Deploy to swarm"}
          </button>
        </div>
      }
    >
      <p class="muted cp-small">
        As <span class="mono">docker stack deploy</span> does: services named{" "}
        <span class="mono">{props.project}_&lt;service&gt;</span>, overlay networks, secrets and
        configs as swarm objects. Services no longer in the file keep running.
      </p>
      {!preview && !error && <p class="muted">Checking the file…</p>}
      {preview && (
        <>
          <table class="table cp-swarm-services">
            <thead>
              <tr>
                <th>Service</th>
                <th>Image</th>
                <th>Replicas</th>
                <th>Ports</th>
              </tr>
            </thead>
            <tbody>
              {preview.services.map((service) => (
                <tr key={service.name} data-swarm-service={service.name}>
                  <td class="mono" title={service.name}>{service.name}</td>
                  <td class="mono" title={service.image}>{service.image}</td>
                  <td>
                    {service.mode === "replicated"
                      ? `${service.replicas} ${service.replicas === 1 ? "replica" : "replicas"}`
                      : service.mode}
                    {service.constraints.length > 0 && (
                      <div class="muted cp-small truncate" title={service.constraints.join(", ")}>
                        {service.constraints.join(", ")}
                      </div>
                    )}
                  </td>
                  <td class="mono">
                    {service.ports.length
                      ? service.ports.map((p) =>
                        `${p.published || "auto"}:${p.target}/${p.protocol}${
                          p.mode === "host" ? " (host)" : ""
                        }`
                      ).join(", ")
                      : <span class="muted">—</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted cp-small">
            {[
              objects("network", preview.networks),
              objects("secret", preview.secrets),
              objects("config", preview.configs),
            ].filter(Boolean).join(" · ")}
          </p>
          {preview.ignored.length > 0 && (
            <div class="notice im-warn cp-swarm-ignored" role="status">
              <p>
                <strong>
                  Swarm ignores {preview.ignored.length}{" "}
                  {preview.ignored.length === 1 ? "setting" : "settings"}:
                </strong>
              </p>
              <ul>
                {preview.ignored.map((item) => (
                  <li key={`${item.service}-${item.key}-${item.line}`} data-ignored={item.key}>
                    {item.line
                      ? (
                        <button
                          type="button"
                          class="cp-line-link"
                          onClick={() => {
                            props.onClose();
                            props.onJump(item.line!);
                          }}
                        >
                          line {item.line}
                        </button>
                      )
                      : null} {item.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {preview.warnings.length > 0 && (
            <ul class="cp-swarm-warnings muted cp-small">
              {preview.warnings.map((w, i) => (
                <li key={i}>{w.line ? `Line ${w.line}: ` : ""}{w.message}</li>
              ))}
            </ul>
          )}
          {risks.length > 0 && (
            <label class="im-check">
              <input
                type="checkbox"
                checked={acknowledged}
                disabled={busy}
                onChange={(e) => setAcknowledged((e.target as HTMLInputElement).checked)}
              />
              I understand these settings can take over the nodes the tasks run on
            </label>
          )}
        </>
      )}
      {lines.length > 0 && (
        <ol class="cp-swarm-progress mono cp-small" aria-live="polite">
          {lines.map((line, i) => <li key={i}>{line}</li>)}
        </ol>
      )}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}

function objects(what: string, list: { name: string; external: boolean }[]): string {
  if (list.length === 0) return "";
  const names = list.map((o) => `${o.name}${o.external ? " (external)" : ""}`).join(", ");
  return `${list.length === 1 ? what : `${what}s`}: ${names}`;
}

function RemoveDialog(
  { stack, onClose, onDone }: {
    stack: SwarmStackSummary;
    onClose: () => void;
    onDone: (text: string) => void;
  },
) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  return (
    <TitledModal
      id="cp-swarm-remove"
      class="im-confirm"
      title={`Remove swarm stack ${stack.name}`}
      onClose={() => !busy && onClose()}
      footer={
        <div class="im-modal-actions">
          <button
            type="button"
            class="btn ghost-dark"
            data-autofocus
            disabled={busy}
            onClick={onClose}
          >
            Cancel
          </button>
          <button
            type="button"
            class="btn danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError("");
              try {
                await apiWithProgress(
                  "DELETE",
                  `/api/swarm/stacks/${encodeURIComponent(stack.name)}`,
                  {},
                  () => {},
                );
                onDone(`Removed swarm stack ${stack.name}.`);
              } catch (e) {
                setError((e as Error).message);
                setBusy(false);
              }
            }}
          >
            {busy ? "Removing…" : "Remove"}
          </button>
        </div>
      }
    >
      <p>
        Removes the {stack.services} {stack.services === 1 ? "service" : "services"} of{" "}
        <strong class="im-break">{stack.name}</strong>, then its networks, secrets and configs, like
        {" "}
        <span class="mono">docker stack rm</span>. Named volumes stay on the nodes.
      </p>
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}
