/** What the panel's API returns for containers: the Engine's JSON mapped to stable snake_case views. */
import type { ContainerInspect, ContainerSummary, ImageSummary, PortSummary } from "./types.ts";

export interface PortView {
  host_ip: string | null;
  host_port: number | null;
  container_port: number;
  proto: "tcp" | "udp" | "sctp";
}

export type ContainerState =
  | "running"
  | "paused"
  | "exited"
  | "restarting"
  | "created"
  | "dead"
  | "removing";

export interface ContainerView {
  id: string;
  name: string;
  image: string;
  /** `sha256:…`, the image the container was created from. */
  image_id: string;
  state: ContainerState;
  status: string;
  created: number;
  /** Not in the Engine's list answer; the `status` text carries the uptime. */
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  /** How often the Engine restarted it under its restart policy (null: not read). */
  restart_count: number | null;
  /** "healthy", "unhealthy", "starting", or null without a healthcheck. */
  health: string | null;
  ports: PortView[];
  labels: Record<string, string>;
  compose: { project: string; service: string } | null;
  /** Carries the --managed-label: owned by another system (the panel still acts on it). */
  managed: boolean;
  /** Created by this panel (CREATED_BY_LABEL). */
  panel_created: boolean;
}

export interface InspectView {
  id: string;
  name: string;
  image: string;
  image_id: string;
  created: string;
  state: {
    status: string;
    running: boolean;
    exit_code: number;
    started_at: string;
    finished_at: string;
    health: string | null;
    restart_count: number;
  };
  cmd: string[] | null;
  entrypoint: string[] | null;
  env: { key: string; value: string | null }[];
  mounts: {
    type: string;
    name: string | null;
    source: string;
    destination: string;
    read_only: boolean;
  }[];
  networks: { name: string; ip_address: string; aliases: string[] }[];
  ports: PortView[];
  restart_policy: { name: string; max_retries: number };
  labels: Record<string, string>;
  /** The --managed-label key when the container carries it (owned by another system). */
  managed_label: string | null;
  panel_created: boolean;
  limits: {
    memory: number | null;
    memory_reservation: number | null;
    cpus: number | null;
    pids: number | null;
  };
  user: string;
  working_dir: string;
  hostname: string;
  privileged: boolean;
  cap_add: string[];
  cap_drop: string[];
  devices: string[];
  log: { driver: string; options: Record<string, string> };
  healthcheck: {
    test: string[];
    interval_s: number | null;
    timeout_s: number | null;
    retries: number | null;
    start_period_s: number | null;
  } | null;
  network_mode: string;
}

/** A container's name without the Engine's leading slash (its short id if it has none). */
export function displayName(container: Pick<ContainerSummary, "Names" | "Id">): string {
  return (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, "");
}

const COMPOSE_PROJECT = "com.docker.compose.project";
const COMPOSE_SERVICE = "com.docker.compose.service";

function portsFromSummary(ports: PortSummary[]): PortView[] {
  const seen = new Set<string>();
  const views: PortView[] = [];
  for (const port of ports) {
    const view: PortView = {
      host_ip: port.IP ?? null,
      host_port: port.PublicPort ?? null,
      container_port: port.PrivatePort,
      proto: port.Type,
    };
    const key = JSON.stringify(view);
    if (!seen.has(key)) {
      seen.add(key);
      views.push(view);
    }
  }
  return views.sort((a, b) =>
    a.container_port - b.container_port || (a.host_ip ?? "").localeCompare(b.host_ip ?? "")
  );
}

function composeOf(labels: Record<string, string>) {
  const project = labels[COMPOSE_PROJECT];
  return project ? { project, service: labels[COMPOSE_SERVICE] ?? "" } : null;
}

function healthFromStatus(status: string): string | null {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  return match ? (match[1] === "health: starting" ? "starting" : match[1]) : null;
}

/** What a row takes from a container's inspect (lib/docker/container_list.ts keeps these). */
export interface RowState {
  State: Pick<ContainerInspect["State"], "Status" | "ExitCode" | "StartedAt" | "FinishedAt"> & {
    Health?: { Status: string };
  };
  RestartCount?: number;
}

/** Only the fields a row uses, so keeping one per container costs little. */
export function rowState(info: RowState): RowState {
  const { Status, ExitCode, StartedAt, FinishedAt, Health } = info.State;
  return {
    State: {
      Status,
      ExitCode,
      StartedAt,
      FinishedAt,
      ...(Health ? { Health: { Status: Health.Status } } : {}),
    },
    RestartCount: info.RestartCount,
  };
}

/**
 * The label the panel puts on what it creates itself. The --managed-label is never added by
 * the panel: it marks containers owned by another system.
 */
export const CREATED_BY_LABEL = "io.container-manager.created-by";
export const CREATED_BY_PANEL = "panel";

/**
 * Owned by another system: the --managed-label, unless the panel's own label says the panel
 * made it (versions before issue 14 added the managed label to "Run container"'s containers).
 */
function isManaged(labels: Record<string, string>, managedLabel: string): boolean {
  return labels[managedLabel] === "true" && labels[CREATED_BY_LABEL] !== CREATED_BY_PANEL;
}

/**
 * A row of the table. With the container's inspect, its state is the Engine's own (the
 * list can lag behind it: a crash-looping container is `restarting` there first), and the
 * restart count is known.
 */
export function containerView(
  summary: ContainerSummary,
  managedLabel: string,
  info?: RowState,
  now = Date.now(),
): ContainerView {
  const labels = summary.Labels ?? {};
  let state = summary.State as ContainerState;
  let status = summary.Status;
  // A restarting container's status also names the exit code ("Restarting (1) 2 seconds ago").
  const exited = summary.Status.match(/^(?:Exited|Restarting) \((-?\d+)\)/);
  let exitCode = exited ? Number(exited[1]) : null;
  // With the inspect, its state is the truth (the list can lag behind it) and the status text
  // is computed from its times, so a row kept from an earlier read still says how long.
  if (info) {
    state = info.State.Status as ContainerState;
    status = statusText(info.State, now);
    exitCode = state === "exited" || state === "restarting" ? info.State.ExitCode : null;
  }
  return {
    id: summary.Id,
    name: displayName(summary),
    image: summary.Image,
    image_id: summary.ImageID,
    state,
    status,
    created: summary.Created,
    started_at: info?.State.StartedAt ?? null,
    finished_at: info?.State.FinishedAt ?? null,
    exit_code: exitCode,
    restart_count: info ? info.RestartCount ?? 0 : null,
    health: info ? info.State.Health?.Status ?? null : healthFromStatus(status),
    ports: portsFromSummary(summary.Ports ?? []),
    labels,
    compose: composeOf(labels),
    managed: isManaged(labels, managedLabel),
    panel_created: labels[CREATED_BY_LABEL] === CREATED_BY_PANEL,
  };
}

/**
 * The Engine's status text for a container (moby's `State.String()`), from its inspected state
 * and a clock: "Up 5 minutes (healthy)", "Exited (0) 2 hours ago", "Created".
 */
export function statusText(state: RowState["State"], now: number): string {
  const since = (time: string) => humanDuration(now - Date.parse(time));
  switch (state.Status) {
    case "running": {
      const health = state.Health?.Status;
      const suffix = health ? ` (${health === "starting" ? "health: starting" : health})` : "";
      return `Up ${since(state.StartedAt)}${suffix}`;
    }
    case "paused":
      return `Up ${since(state.StartedAt)} (Paused)`;
    case "restarting":
      return `Restarting (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
    case "removing":
      return "Removal In Progress";
    case "dead":
      return "Dead";
    case "created":
      return "Created";
    default:
      return isZeroTime(state.FinishedAt)
        ? ""
        : `Exited (${state.ExitCode}) ${since(state.FinishedAt)} ago`;
  }
}

/** Go's zero time ("0001-01-01T00:00:00Z"): never set. */
function isZeroTime(time: string): boolean {
  return !time || time.startsWith("0001-01-01");
}

/** go-units' `HumanDuration`, which the Engine's status texts use. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

export function inspectView(
  info: ContainerInspect,
  options: { showEnvValues: boolean; managedLabel?: string },
): InspectView {
  const labels = info.Config.Labels ?? {};
  const ports: PortView[] = [];
  for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    const [port, proto] = key.split("/");
    if (!bindings || bindings.length === 0) {
      ports.push({
        host_ip: null,
        host_port: null,
        container_port: Number(port),
        proto: proto as PortView["proto"],
      });
    }
    for (const binding of bindings ?? []) {
      ports.push({
        host_ip: binding.HostIp || null,
        host_port: binding.HostPort ? Number(binding.HostPort) : null,
        container_port: Number(port),
        proto: proto as PortView["proto"],
      });
    }
  }
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ""),
    image: info.Config.Image,
    image_id: info.Image,
    created: info.Created,
    state: {
      status: info.State.Status,
      running: info.State.Running,
      exit_code: info.State.ExitCode,
      started_at: info.State.StartedAt,
      finished_at: info.State.FinishedAt,
      health: info.State.Health?.Status ?? null,
      restart_count: info.RestartCount ?? 0,
    },
    cmd: info.Config.Cmd,
    entrypoint: info.Config.Entrypoint,
    env: (info.Config.Env ?? []).map((entry) => {
      const eq = entry.indexOf("=");
      const key = eq < 0 ? entry : entry.slice(0, eq);
      return { key, value: options.showEnvValues ? (eq < 0 ? "" : entry.slice(eq + 1)) : null };
    }),
    mounts: info.Mounts.map((mount) => ({
      type: mount.Type,
      name: mount.Name ?? null,
      source: mount.Source,
      destination: mount.Destination,
      read_only: !mount.RW,
    })),
    networks: Object.entries(info.NetworkSettings.Networks ?? {}).map(([name, network]) => ({
      name,
      ip_address: network.IPAddress,
      aliases: network.Aliases ?? [],
    })),
    ports: ports.sort((a, b) => a.container_port - b.container_port),
    restart_policy: {
      name: info.HostConfig.RestartPolicy?.Name || "no",
      max_retries: info.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0,
    },
    labels,
    managed_label: options.managedLabel && isManaged(labels, options.managedLabel)
      ? options.managedLabel
      : null,
    panel_created: labels[CREATED_BY_LABEL] === CREATED_BY_PANEL,
    limits: {
      memory: info.HostConfig.Memory || null,
      memory_reservation: info.HostConfig.MemoryReservation || null,
      cpus: info.HostConfig.NanoCpus ? info.HostConfig.NanoCpus / 1e9 : null,
      pids: info.HostConfig.PidsLimit && info.HostConfig.PidsLimit > 0
        ? info.HostConfig.PidsLimit
        : null,
    },
    user: info.Config.User ?? "",
    working_dir: info.Config.WorkingDir ?? "",
    hostname: info.Config.Hostname ?? "",
    privileged: info.HostConfig.Privileged === true,
    cap_add: info.HostConfig.CapAdd ?? [],
    cap_drop: info.HostConfig.CapDrop ?? [],
    devices: (info.HostConfig.Devices ?? []).map((device) =>
      `${device.PathOnHost}:${device.PathInContainer}${
        device.CgroupPermissions && device.CgroupPermissions !== "rwm"
          ? `:${device.CgroupPermissions}`
          : ""
      }`
    ),
    log: {
      driver: info.HostConfig.LogConfig?.Type ?? "",
      options: info.HostConfig.LogConfig?.Config ?? {},
    },
    healthcheck: healthcheckView(info.Config.Healthcheck),
    network_mode: info.HostConfig.NetworkMode ?? "default",
  };
}

function healthcheckView(check: ContainerInspect["Config"]["Healthcheck"]) {
  if (!check?.Test?.length || check.Test[0] === "NONE") return null;
  const seconds = (ns?: number) => (ns ? ns / 1e9 : null);
  return {
    test: check.Test,
    interval_s: seconds(check.Interval),
    timeout_s: seconds(check.Timeout),
    retries: check.Retries || null,
    start_period_s: seconds(check.StartPeriod),
  };
}

/**
 * The Engine's inspect answer as it is, for the raw JSON view; environment values are
 * replaced for anyone not allowed to see them.
 */
export function rawInspectView(
  info: ContainerInspect,
  options: { showEnvValues: boolean },
): ContainerInspect {
  if (options.showEnvValues) return info;
  const mask = (entry: string) => {
    const eq = entry.indexOf("=");
    return eq < 0 ? entry : `${entry.slice(0, eq)}=••••••`;
  };
  return { ...info, Config: { ...info.Config, Env: (info.Config.Env ?? []).map(mask) } };
}

export interface ImageView {
  id: string;
  short_id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: number;
  created: number;
  used_by: number;
  used_by_running: number;
  containers: { id: string; name: string; state: string }[];
  dangling: boolean;
}

/** Images with their users, counted from one container list (stopped ones included). */
export function imageViews(images: ImageSummary[], containers: ContainerSummary[]): ImageView[] {
  const users = new Map<string, ContainerSummary[]>();
  for (const container of containers) {
    const list = users.get(container.ImageID) ?? [];
    list.push(container);
    users.set(container.ImageID, list);
  }
  return images.map((image) => {
    const tags = (image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>");
    const using = users.get(image.Id) ?? [];
    return {
      id: image.Id,
      short_id: image.Id.replace(/^sha256:/, "").slice(0, 12),
      repo_tags: tags,
      repo_digests: (image.RepoDigests ?? []).filter((digest) => digest !== "<none>@<none>"),
      size: image.Size,
      created: image.Created,
      used_by: using.length,
      used_by_running: using.filter((container) => container.State === "running").length,
      containers: using.map((container) => ({
        id: container.Id,
        name: displayName(container),
        state: container.State,
      })),
      dangling: tags.length === 0,
    };
  });
}
