/** Inspect: what the container runs, with which settings, mounts, networks and labels. */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { formatBytes, formatDateTime, parseTime, portLinks } from "./format.ts";
import type { InspectView } from "./types.ts";

export interface InspectPanelProps {
  id: string;
  /** Changes when the container's state does, so the panel reloads. */
  version: string;
}

export function InspectPanel({ id, version }: InspectPanelProps) {
  const [data, setData] = useState<InspectView | null>(null);
  const [error, setError] = useState("");
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setError("");
    api<{ container: InspectView }>("GET", `/api/containers/${encodeURIComponent(id)}`)
      .then((answer) => !cancelled && setData(answer.container))
      .catch((e) => !cancelled && setError((e as Error).message));
    return () => cancelled = true;
  }, [id, version, reload]);

  if (!data) {
    return error
      ? <div class="notice error" role="alert">{error}</div>
      : <p class="muted ct-loading">Loading…</p>;
  }
  const state = data.state;
  const policy = data.restart_policy;
  return (
    <div class="ct-inspect">
      {error && (
        <div class="notice error" role="alert">
          {error}{" "}
          <button type="button" class="btn small" onClick={() => setReload((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      <section class="ct-section">
        <h3>Overview</h3>
        <dl class="ct-dl">
          <dt>Id</dt>
          <dd class="mono ct-break">{data.id}</dd>
          <dt>Image</dt>
          <dd>
            <span class="mono ct-break">{data.image}</span>
            <div class="mono muted ct-break" title={data.image_id}>
              {data.image_id.replace(/^sha256:/, "").slice(0, 12)}
            </div>
          </dd>
          <dt>State</dt>
          <dd>
            {state.status}
            {!state.running && parseTime(state.finished_at) !== null &&
              ` (exit code ${state.exit_code})`}
          </dd>
          <dt>Health</dt>
          <dd>
            {state.health
              ? <span class={`ct-health ct-health-${state.health}`}>{state.health}</span>
              : <span class="muted">no health check</span>}
          </dd>
          <dt>Created</dt>
          <dd>{formatDateTime(data.created)}</dd>
          <dt>Started</dt>
          <dd>{formatDateTime(state.started_at)}</dd>
          {!state.running && (
            <>
              <dt>Finished</dt>
              <dd>{formatDateTime(state.finished_at)}</dd>
            </>
          )}
          <dt>Restart policy</dt>
          <dd class="mono">
            {policy.name || "no"}
            {policy.name === "on-failure" &&
              (policy.max_retries ? ` (at most ${policy.max_retries} retries)` : " (unlimited)")}
          </dd>
          <dt>Restarts</dt>
          <dd data-field="restart_count">{state.restart_count}</dd>
        </dl>
      </section>

      <section class="ct-section">
        <h3>Runtime</h3>
        <dl class="ct-dl">
          <dt>User</dt>
          <dd class="mono">{data.user || <span class="muted">image default (root)</span>}</dd>
          <dt>Working dir</dt>
          <dd class="mono ct-break">
            {data.working_dir || <span class="muted">image default (/)</span>}
          </dd>
          <dt>Hostname</dt>
          <dd class="mono">{data.hostname}</dd>
          <dt>Network mode</dt>
          <dd class="mono">{data.network_mode}</dd>
          <dt>Privileged</dt>
          <dd>
            {data.privileged
              ? <span class="ct-flag-risk">yes: full access to the host</span>
              : "no"}
          </dd>
          <dt>Capabilities</dt>
          <dd class="mono ct-break">
            {data.cap_add.length === 0 && data.cap_drop.length === 0
              ? <span class="muted">Engine defaults</span>
              : (
                <>
                  {data.cap_add.length > 0 && <div>add: {data.cap_add.join(", ")}</div>}
                  {data.cap_drop.length > 0 && <div>drop: {data.cap_drop.join(", ")}</div>}
                </>
              )}
          </dd>
          {data.devices.length > 0 && (
            <>
              <dt>Devices</dt>
              <dd class="mono ct-break">{data.devices.join(", ")}</dd>
            </>
          )}
        </dl>
      </section>

      <section class="ct-section">
        <h3>Limits</h3>
        <dl class="ct-dl">
          <dt>Memory</dt>
          <dd>
            {data.limits.memory ? formatBytes(data.limits.memory) : <span class="muted">none</span>}
            {data.limits.memory_reservation
              ? ` (reservation ${formatBytes(data.limits.memory_reservation)})`
              : ""}
          </dd>
          <dt>CPUs</dt>
          <dd>{data.limits.cpus ?? <span class="muted">none</span>}</dd>
          <dt>Processes</dt>
          <dd>{data.limits.pids ?? <span class="muted">none</span>}</dd>
        </dl>
      </section>

      <section class="ct-section">
        <h3>Logging and health</h3>
        <dl class="ct-dl">
          <dt>Log driver</dt>
          <dd class="mono">
            {data.log.driver || "default"}
            {Object.entries(data.log.options).map(([key, value]) => (
              <div key={key} class="muted">{key}={value}</div>
            ))}
          </dd>
          <dt>Healthcheck</dt>
          <dd class="mono ct-break">
            {data.healthcheck
              ? (
                <>
                  {data.healthcheck.test.join(" ")}
                  <div class="muted">
                    {[
                      data.healthcheck.interval_s && `every ${data.healthcheck.interval_s}s`,
                      data.healthcheck.timeout_s && `timeout ${data.healthcheck.timeout_s}s`,
                      data.healthcheck.retries && `${data.healthcheck.retries} retries`,
                      data.healthcheck.start_period_s &&
                      `start period ${data.healthcheck.start_period_s}s`,
                    ].filter(Boolean).join(", ")}
                  </div>
                </>
              )
              : <span class="muted">none</span>}
          </dd>
        </dl>
      </section>

      <section class="ct-section">
        <h3>Command</h3>
        <dl class="ct-dl">
          <dt>Entrypoint</dt>
          <dd class="mono ct-break">
            {data.entrypoint?.length ? shellJoin(data.entrypoint) : <span class="muted">none</span>}
          </dd>
          <dt>Command</dt>
          <dd class="mono ct-break">
            {data.cmd?.length ? shellJoin(data.cmd) : <span class="muted">none</span>}
          </dd>
        </dl>
      </section>

      <EnvSection env={data.env} />

      <section class="ct-section">
        <h3>Ports</h3>
        {data.ports.length === 0
          ? <p class="muted">No ports exposed.</p>
          : (
            <ul class="ct-plain-list mono">
              {portLinks(data.ports, location.hostname).map((port) => (
                <li key={port.label} title={port.title}>
                  {port.href
                    ? <a href={port.href} target="_blank" rel="noopener">{port.label}</a>
                    : port.label}
                </li>
              ))}
            </ul>
          )}
      </section>

      <section class="ct-section">
        <h3>Mounts</h3>
        {data.mounts.length === 0 ? <p class="muted">No mounts.</p> : (
          <table class="ct-kv-table">
            <thead>
              <tr>
                <th class="ct-col-type">Type</th>
                <th>Source</th>
                <th>Destination</th>
                <th class="ct-col-mode">Mode</th>
              </tr>
            </thead>
            <tbody>
              {data.mounts.map((mount) => (
                <tr key={mount.destination}>
                  <td>{mount.type}</td>
                  <td class="mono ct-break" title={mount.source}>{mount.name ?? mount.source}</td>
                  <td class="mono ct-break">{mount.destination}</td>
                  <td>{mount.read_only ? "ro" : "rw"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section class="ct-section">
        <h3>Networks</h3>
        {data.networks.length === 0
          ? <p class="muted">Not connected to a network.</p>
          : (
            <table class="ct-kv-table">
              <thead>
                <tr>
                  <th>Network</th>
                  <th>IP address</th>
                  <th>Aliases</th>
                </tr>
              </thead>
              <tbody>
                {data.networks.map((network) => (
                  <tr key={network.name}>
                    <td class="ct-break">{network.name}</td>
                    <td class="mono">{network.ip_address || "–"}</td>
                    <td class="mono ct-break">{network.aliases.join(", ") || "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </section>

      <LabelsSection labels={data.labels} />
      <RawSection id={id} version={version} />
    </div>
  );
}

function EnvSection({ env }: { env: InspectView["env"] }) {
  const [shown, setShown] = useState<Set<string>>(new Set());
  const hidden = env.length > 0 && env.every((entry) => entry.value === null);
  const all = env.length > 0 && env.every((entry) => shown.has(entry.key));
  const toggle = (key: string) => {
    const next = new Set(shown);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setShown(next);
  };
  return (
    <section class="ct-section">
      <div class="ct-section-head">
        <h3>Environment</h3>
        {env.length > 0 && !hidden && (
          <button
            type="button"
            class="btn small"
            onClick={() => setShown(all ? new Set() : new Set(env.map((entry) => entry.key)))}
          >
            {all ? "Hide values" : "Show values"}
          </button>
        )}
      </div>
      {hidden && <p class="muted">Values are visible to admins only.</p>}
      {env.length === 0
        ? <p class="muted">No environment variables.</p>
        : (
          <table class="ct-kv-table ct-env">
            <tbody>
              {env.map((entry) => (
                <tr key={entry.key}>
                  <th class="mono ct-break" scope="row">{entry.key}</th>
                  <td class="mono ct-break">
                    {entry.value === null
                      ? <span class="muted ct-hidden-value">hidden</span>
                      : (
                        <button
                          type="button"
                          class={`ct-secret${shown.has(entry.key) ? " shown" : ""}`}
                          aria-pressed={shown.has(entry.key)}
                          aria-label={shown.has(entry.key)
                            ? undefined
                            : `Show the value of ${entry.key}`}
                          title={shown.has(entry.key) ? "Click to hide" : "Click to show"}
                          onClick={() => toggle(entry.key)}
                        >
                          {shown.has(entry.key)
                            ? (entry.value === ""
                              ? <span class="muted">(empty)</span>
                              : entry.value)
                            : "•••"}
                        </button>
                      )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

function LabelsSection({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section class="ct-section">
      <h3>Labels</h3>
      {entries.length === 0 ? <p class="muted">No labels.</p> : (
        <details open={entries.length <= 8}>
          <summary>{entries.length} {entries.length === 1 ? "label" : "labels"}</summary>
          <table class="ct-kv-table ct-labels">
            <tbody>
              {entries.map(([key, value]) => (
                <tr key={key}>
                  <th class="mono ct-break" scope="row">{key}</th>
                  <td class="mono ct-break">{value || <span class="muted">(empty)</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}

/** Shows an argv as a shell would read it back: arguments with spaces or quotes quoted. */
function shellJoin(args: string[]): string {
  return args.map((arg) =>
    arg === "" ? '""' : /[\s"'\\$`]/.test(arg) ? `"${arg.replace(/(["\\$`])/g, "\\$1")}"` : arg
  ).join(" ");
}

/** The Engine's inspect answer as it is (environment values masked for viewers), on demand. */
function RawSection({ id, version }: { id: string; version: string }) {
  const [open, setOpen] = useState(false);
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!open) return;
    let cancelled = false;
    api<{ inspect: unknown }>("GET", `/api/containers/${encodeURIComponent(id)}/raw`)
      .then((answer) => !cancelled && setRaw(JSON.stringify(answer.inspect, null, 2)))
      .catch((e) => !cancelled && setError((e as Error).message));
    return () => cancelled = true;
  }, [open, id, version]);
  return (
    <section class="ct-section">
      <h3>
        <button
          type="button"
          class="btn small"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open ? "Hide raw JSON" : "Raw JSON"}
        </button>
      </h3>
      {open && error && <div class="notice error" role="alert">{error}</div>}
      {open && !error && (raw === null
        ? <p class="muted">Loading…</p>
        : <pre class="ct-raw mono" data-testid="raw-json">{raw}</pre>)}
    </section>
  );
}
