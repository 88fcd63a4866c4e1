/**
 * What a deploy would do: the warnings (each jumps to its line in the editor), one card per
 * service in deploy order, the networks and volumes it needs, and the orphans it leaves.
 * Environment variables appear by name only; the server never sends their values.
 */
import type { ComposeWarning, ProjectPreview, ResourcePreview, ServicePreview } from "./types.ts";

const KIND_ORDER: Record<ComposeWarning["kind"], number> = {
  risk: 0,
  interpolation: 1,
  unsupported: 2,
  unknown: 3,
  obsolete: 4,
  host: 2,
};

const KIND_LABEL: Record<ComposeWarning["kind"], string> = {
  risk: "risk",
  interpolation: "variable",
  unsupported: "unsupported",
  unknown: "unknown",
  obsolete: "obsolete",
  host: "host",
};

/** The message without the 'Service "web": ' the list already shows in its own column. */
export function warningText(warning: ComposeWarning): string {
  const prefix = warning.service ? `Service "${warning.service}": ` : "";
  return prefix && warning.message.startsWith(prefix)
    ? warning.message.slice(prefix.length)
    : warning.message;
}

/** Risks first, then by line. */
export function sortWarnings(warnings: readonly ComposeWarning[]): ComposeWarning[] {
  return [...warnings].sort((a, b) =>
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.line ?? Infinity) - (b.line ?? Infinity)
  );
}

export function Warnings(
  { warnings, onJump }: { warnings: ComposeWarning[]; onJump: (line: number) => void },
) {
  if (warnings.length === 0) return null;
  const sorted = sortWarnings(warnings);
  return (
    <section class="cp-warnings" aria-labelledby="cp-warnings-title">
      <h3 id="cp-warnings-title" class="cp-subhead">
        Warnings <span class="cp-count">{warnings.length}</span>
      </h3>
      <ul class="cp-warning-list">
        {sorted.map((warning, i) => {
          const body = (
            <>
              <span class={`cp-kind kind-${warning.kind}`}>{KIND_LABEL[warning.kind]}</span>
              <span class="cp-warning-where mono">
                {warning.line !== null ? `line ${warning.line}` : "file"}
                {warning.service && <span class="cp-warning-service">· {warning.service}</span>}
              </span>
              <span class="cp-warning-text">{warningText(warning)}</span>
            </>
          );
          return (
            <li key={i} class={`cp-warning kind-${warning.kind}`} data-kind={warning.kind}>
              {warning.line !== null
                ? (
                  <button
                    type="button"
                    class="cp-warning-btn"
                    data-line={warning.line}
                    title={`Go to line ${warning.line}`}
                    onClick={() => onJump(warning.line!)}
                  >
                    {body}
                  </button>
                )
                : <div class="cp-warning-btn is-static">{body}</div>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** `["sh", "-c", "echo hi"]` → `sh -c "echo hi"`. */
export function commandText(command: string[]): string {
  return command.map((arg) =>
    arg === "" ? '""' : /[\s"'\\$`]/.test(arg) ? JSON.stringify(arg) : arg
  ).join(" ");
}

const ACTION_TEXT: Record<ServicePreview["action"], string> = {
  create: "create",
  recreate: "recreate",
  unchanged: "unchanged",
  start: "start",
  restart: "restart",
  remove: "scale down",
};

const ACTION_TITLE: Record<ServicePreview["action"], string> = {
  create: "No container yet: one is created and started",
  recreate:
    "A replacement is created first; then the old container is stopped and removed, and the new one takes its name",
  unchanged: "Same configuration as the running container: left as it is",
  start: "Same configuration, but the container is not running: it is started",
  restart: "Same configuration; restarted because a dependency with restart: true is renewed",
  remove:
    "More containers run than deploy.replicas asks for: the highest numbers are stopped and removed",
};

const CONDITION_TEXT: Record<string, string> = {
  service_started: "started",
  service_healthy: "healthy",
  service_completed_successfully: "completed",
};

function ServiceCard({ service, index }: { service: ServicePreview; index: number }) {
  return (
    <article class={`cp-card action-${service.action}`} data-service={service.name}>
      <header class="cp-card-head">
        <span class="cp-order" title="Deploy order">{index + 1}</span>
        <h4 class="cp-card-name truncate" title={service.name}>{service.name}</h4>
        {service.warnings.length > 0 && (
          <span
            class={`cp-warn-count${
              service.warnings.some((w) => w.kind === "risk") ? " has-risk" : ""
            }`}
            title={service.warnings.map((w) => w.message).join("\n")}
          >
            {service.warnings.length} {service.warnings.length === 1 ? "warning" : "warnings"}
          </span>
        )}
        <span
          class={`cp-action action-${service.action}`}
          title={ACTION_TITLE[service.action]}
          data-action={service.action}
        >
          {ACTION_TEXT[service.action]}
        </span>
      </header>
      <div class="cp-image">
        <span class="mono truncate" title={service.image}>{service.image}</span>
        {service.build
          ? (
            <span class="cp-mark is-local" title="Built from the stack folder during the deploy">
              build
            </span>
          )
          : service.image_local
          ? <span class="cp-mark is-local" title="The image is on this host">local</span>
          : (
            <span class="cp-mark is-pull" title="Not on this host: pulled during the deploy">
              will pull
            </span>
          )}
      </div>
      <p class={`cp-reason action-${service.action}`} data-reason>
        {service.reason}
      </p>
      <dl class="cp-facts">
        <dt>{service.replicas > 1 ? "Containers" : "Container"}</dt>
        <dd class="mono truncate" title={service.container_name}>
          {service.replicas > 1
            ? `${service.container_name.replace(/-1$/, "")}-1 … -${service.replicas}`
            : service.container_name}
        </dd>
        {service.ports.length > 0 && (
          <>
            <dt>Ports</dt>
            <dd class="cp-chips">
              {service.ports.map((port) => (
                <span key={port} class="cp-chip mono" title={portTitle(port)}>{port}</span>
              ))}
            </dd>
          </>
        )}
        {service.volumes.length > 0 && (
          <>
            <dt>Volumes</dt>
            <dd>
              <ul class="cp-volumes">
                {service.volumes.map((volume, i) => (
                  <li key={i}>
                    <span class={`cp-vtype vtype-${volume.type}`}>{volume.type}</span>
                    <span
                      class="mono cp-vpath truncate"
                      title={`${volume.source ?? ""}${volume.source ? " → " : ""}${volume.target}`}
                    >
                      {volume.source && <>{volume.source} →{" "}</>}
                      {volume.target}
                    </span>
                    {volume.type !== "tmpfs" && (
                      <span class={`cp-mode mode-${volume.mode}`}>{volume.mode}</span>
                    )}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {service.env_keys.length > 0 && (
          <>
            <dt>Env</dt>
            <dd class="cp-chips" title="Variable names only: values stay on the server">
              {service.env_keys.map((key) => <span key={key} class="cp-chip mono">{key}</span>)}
            </dd>
          </>
        )}
        <dt>Restart</dt>
        <dd class="mono">{service.restart}</dd>
        {service.depends_on.length > 0 && (
          <>
            <dt>Depends on</dt>
            <dd class="cp-chips">
              {service.depends_on.map((dep) => (
                <span key={dep.service} class="cp-chip" title={dep.condition}>
                  <strong>{dep.service}</strong>{" "}
                  <span class="muted">{CONDITION_TEXT[dep.condition] ?? dep.condition}</span>
                </span>
              ))}
            </dd>
          </>
        )}
        {service.command && (
          <>
            <dt>Command</dt>
            <dd class="mono cp-command" title={commandText(service.command)}>
              {commandText(service.command)}
            </dd>
          </>
        )}
        {service.networks.length > 0 && (
          <>
            <dt>Networks</dt>
            <dd class="cp-chips">
              {service.networks.map((network) => (
                <span key={network} class="cp-chip mono">{network}</span>
              ))}
            </dd>
          </>
        )}
      </dl>
    </article>
  );
}

function portTitle(port: string): string {
  const match = port.match(/^(?:(.*):)?([^:]+):(\d+)\/(\w+)$/);
  if (!match) return port;
  const [, host, published, target, protocol] = match;
  const where = host ? ` on ${host}` : " on all addresses";
  return published === "random"
    ? `Container port ${target}/${protocol} on a free host port${where}`
    : `Host port ${published}${where} → container port ${target}/${protocol}`;
}

function Resources({ title, items }: { title: string; items: ResourcePreview[] }) {
  if (items.length === 0) return null;
  return (
    <div class="cp-resources">
      <h3 class="cp-subhead">{title}</h3>
      <ul class="cp-resource-list">
        {items.map((item) => {
          const state = item.external
            ? item.exists ? "external" : "missing"
            : item.exists
            ? "exists"
            : "create";
          const label = {
            external: "external",
            missing: "external · missing",
            exists: "exists",
            create: "will create",
          }[state];
          return (
            <li key={item.key} class={`cp-resource state-${state}`}>
              <span class="mono truncate" title={item.name}>{item.name}</span>
              {item.key !== item.name && !item.name.endsWith(`_${item.key}`) && (
                <span class="muted cp-small truncate" title={`Key ${item.key}`}>{item.key}</span>
              )}
              <span class={`cp-res-state state-${state}`}>{label}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export interface PreviewViewProps {
  preview: ProjectPreview;
  /** The preview is of an older text than the editor's (typing, or the text has an error). */
  stale: boolean;
  isAdmin: boolean;
  removeOrphans: boolean;
  onRemoveOrphans: (value: boolean) => void;
  /** The profiles chosen in the panel (the preview may still be of the previous choice). */
  selectedProfiles?: string[];
  /** Sets the active profiles (the preview runs again with them). */
  onProfiles?: (profiles: string[]) => void;
  onJump: (line: number) => void;
}

export function PreviewView(
  {
    preview,
    stale,
    isAdmin,
    removeOrphans,
    onRemoveOrphans,
    selectedProfiles,
    onProfiles,
    onJump,
  }: PreviewViewProps,
) {
  const counts = { create: 0, recreate: 0, unchanged: 0, start: 0, restart: 0, remove: 0 };
  for (const service of preview.services) counts[service.action]++;
  return (
    <div class={`cp-preview-body${stale ? " is-stale" : ""}`} aria-busy={stale ? "true" : "false"}>
      <p class="cp-summary">
        <span class="mono cp-project truncate" title={preview.project}>{preview.project}</span>
        <span class="muted">
          {preview.services.length} {preview.services.length === 1 ? "service" : "services"}
        </span>
        {counts.create > 0 && <span class="cp-action action-create">{counts.create} create</span>}
        {counts.recreate > 0 && (
          <span class="cp-action action-recreate">{counts.recreate} recreate</span>
        )}
        {counts.start > 0 && <span class="cp-action action-start">{counts.start} start</span>}
        {counts.restart > 0 && (
          <span class="cp-action action-restart">{counts.restart} restart</span>
        )}
        {counts.remove > 0 && (
          <span class="cp-action action-remove">{counts.remove} scale down</span>
        )}
        {counts.unchanged > 0 && (
          <span class="cp-action action-unchanged">{counts.unchanged} unchanged</span>
        )}
      </p>
      <Warnings warnings={preview.warnings} onJump={onJump} />
      {preview.services.length === 0
        ? (
          <div class="cp-empty-small">
            <p>The file defines no service to deploy.</p>
          </div>
        )
        : (
          <div class="cp-cards">
            {preview.services.map((service, i) => (
              <ServiceCard key={service.name} service={service} index={i} />
            ))}
          </div>
        )}
      {preview.profiles?.available.length > 0 && (
        <ProfilesRow
          profiles={preview.profiles}
          selected={selectedProfiles ?? preview.profiles.active}
          onProfiles={onProfiles}
        />
      )}
      <div class="cp-resources-row">
        <Resources title="Networks" items={preview.networks} />
        <Resources title="Volumes" items={preview.volumes} />
      </div>
      {preview.orphans.length > 0 && (
        <section class="cp-orphans" aria-labelledby="cp-orphans-title">
          <h3 id="cp-orphans-title" class="cp-subhead">
            Orphans <span class="cp-count">{preview.orphans.length}</span>
          </h3>
          <p class="muted cp-small">
            Containers of this project whose service is no longer in the file.
          </p>
          <ul class="cp-chips cp-orphan-list">
            {preview.plan.orphans.map((orphan) => (
              <li key={orphan.container} class="cp-chip mono" title={orphan.reason}>
                {orphan.container}
                {orphan.action === "remove" ? " (removed)" : " (kept)"}
              </li>
            ))}
          </ul>
          {isAdmin && (
            <label class="cp-check">
              <input
                type="checkbox"
                name="remove_orphans"
                checked={removeOrphans}
                onChange={(e) => onRemoveOrphans((e.target as HTMLInputElement).checked)}
              />
              Remove orphans when deploying
            </label>
          )}
        </section>
      )}
    </div>
  );
}

/** The file's profiles as checkboxes: services of unchecked ones are skipped, as the CLI does. */
function ProfilesRow(
  { profiles, selected, onProfiles }: {
    profiles: ProjectPreview["profiles"];
    selected: string[];
    onProfiles?: (profiles: string[]) => void;
  },
) {
  const active = new Set(selected);
  const toggle = (name: string, on: boolean) => {
    const next = new Set(active);
    if (on) next.add(name);
    else next.delete(name);
    onProfiles?.([...next].sort());
  };
  return (
    <section class="cp-profiles" aria-labelledby="cp-profiles-title">
      <h3 id="cp-profiles-title" class="cp-subhead">
        Profiles <span class="cp-count">{profiles.available.length}</span>
      </h3>
      <p class="muted cp-small">
        Services of an unchecked profile are not deployed. The choice is stored with the stack.
        {profiles.disabled_services.length > 0 &&
          ` Skipped now: ${profiles.disabled_services.join(", ")}.`}
      </p>
      <div class="cp-chips">
        {profiles.available.map((name) => (
          <label key={name} class="cp-check cp-chip">
            <input
              type="checkbox"
              checked={active.has(name) || active.has("*")}
              disabled={!onProfiles}
              onChange={(event) => toggle(name, (event.target as HTMLInputElement).checked)}
            />{" "}
            <span class="mono">{name}</span>
          </label>
        ))}
      </div>
    </section>
  );
}
