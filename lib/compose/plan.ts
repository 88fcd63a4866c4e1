/**
 * From a parsed project to what the Engine is asked for: names, labels and create bodies
 * exactly as the compose CLI v2 makes them, the config hash that decides whether a
 * service is recreated, and the preview of what a deploy would do.
 */
import { createHash } from "node:crypto";
import type { ContainerSummary } from "../docker/types.ts";
import type { ComposeProject, ComposeWarning, ServiceSpec, VolumeMount } from "./types.ts";
import { cleanPath, parseDevice } from "./normalise.ts";
import { resourceConfig, serviceTmpfs, tmpfsMount } from "./host_config.ts";
import { CREATED_BY_LABEL, CREATED_BY_PANEL, displayName } from "../docker/views.ts";
import { fileObjectMounts } from "./secrets.ts";
import { compareVersions } from "../docker/client.ts";

/** The compose CLI version whose names and labels the panel reproduces. */
export const COMPOSE_VERSION = "2.29.7";

export const LABEL = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  number: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  hash: "com.docker.compose.config-hash",
  version: "com.docker.compose.version",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  dependsOn: "com.docker.compose.depends_on",
  network: "com.docker.compose.network",
  volume: "com.docker.compose.volume",
} as const;

/** The name of the service's container `number` (its replicas count from 1). */
export function containerNameOf(project: string, service: ServiceSpec, number = 1): string {
  return service.container_name ?? `${project}-${service.name}-${number}`;
}

/**
 * SHA-256 of the service's normalised config (its line number aside), with sorted keys.
 * The replica count is left out, as the CLI leaves it out: scaling recreates nothing.
 */
export function configHash(service: ServiceSpec): string {
  const { line: _line, replicas: _replicas, ...config } = service;
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort((
      [a],
      [b],
    ) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function containerLabels(
  project: ComposeProject,
  service: ServiceSpec,
  stackDir: string,
  number = 1,
): Record<string, string> {
  return {
    ...service.labels,
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.number]: String(number),
    [LABEL.oneoff]: "False",
    [LABEL.hash]: configHash(service),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.workingDir]: stackDir,
    [LABEL.configFiles]: `${stackDir}/compose.yaml`,
    // As the CLI writes it: service:condition:restart (restart defaults to false).
    [LABEL.dependsOn]: Object.entries(service.depends_on)
      .map(([name, dep]) => `${name}:${dep.condition}:${dep.restart === true}`).join(","),
    [CREATED_BY_LABEL]: CREATED_BY_PANEL,
  };
}

const NS_PER_MS = 1_000_000;

/** Resolves a bind source as written against the stack's working directory. */
export function bindSource(source: string, stackDir: string): string {
  if (source.startsWith("/")) return source;
  if (source.startsWith("~")) {
    throw new Error(
      `Bind source "${source}": home-relative paths are not supported; use an absolute path`,
    );
  }
  return cleanPath(`${stackDir}/${source}`);
}

/** The first Engine API version that knows Healthcheck.StartInterval. */
export const START_INTERVAL_API = "1.44";

/** Whether the negotiated API version (unknown: assumed current) takes StartInterval. */
export function supportsStartInterval(apiVersion: string | undefined): boolean {
  return apiVersion === undefined || compareVersions(apiVersion, START_INTERVAL_API) >= 0;
}

/** Warnings that depend on the daemon: settings its API version cannot apply. */
export function engineWarnings(
  project: ComposeProject,
  apiVersion: string | undefined,
): ComposeWarning[] {
  if (supportsStartInterval(apiVersion)) return [];
  return project.services.filter((service) => service.healthcheck?.start_interval_ms)
    .map((service) => ({
      line: service.line,
      service: service.name,
      kind: "unsupported" as const,
      message:
        `service "${service.name}": healthcheck.start_interval needs Docker Engine API ${START_INTERVAL_API} or newer (this daemon speaks ${apiVersion}) and is ignored`,
    }));
}

/**
 * The Engine's NetworkMode: `service:<x>` becomes `container:<x's container name>`. The
 * Engine pins it to that container's id at create (the CLI passes the id itself), so a
 * replaced x means recreating the services that share its stack (deploy.ts does).
 */
export function networkModeOf(project: ComposeProject, service: ServiceSpec): string | undefined {
  const mode = service.network_mode;
  if (!mode?.startsWith("service:")) return mode;
  const targetName = mode.slice("service:".length);
  const target = project.services.find((s) => s.name === targetName);
  if (!target) throw new Error(`network_mode refers to the unknown service "${targetName}"`);
  return `container:${containerNameOf(project.name, target)}`;
}

/**
 * The Engine's create body for one service, attached to its first network. `apiVersion` is
 * the negotiated one: settings it cannot take are left out (engineWarnings says so).
 */
export function createBody(
  project: ComposeProject,
  service: ServiceSpec,
  stackDir: string,
  options: {
    apiVersion?: string;
    /** Target → volume name: the replaced container's anonymous volumes, kept as the CLI does. */
    inherit?: Record<string, string>;
    /** Which of the service's replicas (from 1). */
    number?: number;
  } = {},
) {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of service.ports) {
    const key = `${port.target}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.host_ip, HostPort: port.published });
  }
  for (const entry of service.expose) exposed[entry.includes("/") ? entry : `${entry}/tcp`] = {};

  const binds: string[] = [];
  const mounts: Record<string, unknown>[] = [];
  for (const volume of service.volumes) {
    const inherited = volume.type === "anonymous" ? options.inherit?.[volume.target] : undefined;
    if (inherited) {
      mounts.push({
        Type: "volume",
        Source: inherited,
        Target: volume.target,
        ReadOnly: volume.type === "anonymous" && volume.read_only,
      });
    } else addMount(volume, project, stackDir, binds, mounts);
  }

  const first = Object.keys(service.networks)[0];
  const networkMode = networkModeOf(project, service) ??
    (first ? project.networks[first].name : "default");
  const { atCreate } = networkAttachments(project, service, options.apiVersion);
  const health = service.healthcheck;
  const devices = (service.devices ?? []).map((spec) => {
    const device = parseDevice(spec);
    if (typeof device === "string") throw new Error(`devices: ${device}`);
    return device;
  });
  return {
    Image: service.image,
    ...(service.command ? { Cmd: service.command } : {}),
    ...(service.entrypoint ? { Entrypoint: service.entrypoint } : {}),
    Env: Object.entries(service.environment).map(([key, value]) => `${key}=${value}`),
    Labels: containerLabels(project, service, stackDir, options.number),
    ExposedPorts: exposed,
    Tty: service.tty,
    OpenStdin: service.stdin_open,
    ...(service.user ? { User: service.user } : {}),
    ...(service.working_dir ? { WorkingDir: service.working_dir } : {}),
    ...(service.hostname ? { Hostname: service.hostname } : {}),
    ...(service.stop_signal ? { StopSignal: service.stop_signal } : {}),
    ...(service.stop_grace_period_s !== undefined
      ? { StopTimeout: service.stop_grace_period_s }
      : {}),
    ...(health
      ? {
        Healthcheck: {
          Test: health.test,
          ...(health.interval_ms ? { Interval: health.interval_ms * NS_PER_MS } : {}),
          ...(health.timeout_ms ? { Timeout: health.timeout_ms * NS_PER_MS } : {}),
          ...(health.start_period_ms ? { StartPeriod: health.start_period_ms * NS_PER_MS } : {}),
          ...(health.retries ? { Retries: health.retries } : {}),
          ...(health.start_interval_ms && supportsStartInterval(options.apiVersion)
            ? { StartInterval: health.start_interval_ms * NS_PER_MS }
            : {}),
        },
      }
      : {}),
    HostConfig: {
      PortBindings: bindings,
      Binds: binds,
      Mounts: [...mounts, ...fileObjectMounts(project, service, stackDir)],
      Tmpfs: serviceTmpfs(service),
      ...resourceConfig(service),
      RestartPolicy: { Name: service.restart.name, MaximumRetryCount: service.restart.max_retries },
      CapAdd: service.cap_add,
      CapDrop: service.cap_drop,
      ExtraHosts: service.extra_hosts,
      Sysctls: service.sysctls,
      Privileged: service.privileged,
      ...(service.pid ? { PidMode: service.pid } : {}),
      ...(service.ipc ? { IpcMode: service.ipc } : {}),
      ...(devices.length ? { Devices: devices } : {}),
      NetworkMode: networkMode,
    },
    NetworkingConfig: Object.keys(atCreate).length ? { EndpointsConfig: atCreate } : undefined,
  };
}

/** The first Engine API version that takes more than one endpoint at container create. */
export const MULTI_NETWORK_CREATE_API = "1.44";

export interface EndpointConfig {
  Aliases: string[];
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
}

/** A service's endpoint on one of its networks: its aliases and fixed addresses. */
export function endpointConfig(service: ServiceSpec, networkKey: string): EndpointConfig {
  const network = service.networks[networkKey];
  const ipam = {
    ...(network?.ipv4_address ? { IPv4Address: network.ipv4_address } : {}),
    ...(network?.ipv6_address ? { IPv6Address: network.ipv6_address } : {}),
  };
  return {
    Aliases: aliasesOf(service, networkKey),
    ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}),
  };
}

/**
 * Which networks the container gets at create and which are connected afterwards, in the
 * primary-first order of `service.networks`. From API 1.44 the Engine takes every endpoint
 * at create, so a container never exists half-attached; below it only the primary one, and
 * a failed connect must remove the container again (docker.create does).
 */
export function networkAttachments(
  project: ComposeProject,
  service: ServiceSpec,
  apiVersion: string | undefined,
): {
  atCreate: Record<string, EndpointConfig>;
  later: { name: string; endpoint: EndpointConfig }[];
} {
  const atCreate: Record<string, EndpointConfig> = {};
  const later: { name: string; endpoint: EndpointConfig }[] = [];
  if (service.network_mode) return { atCreate, later };
  const all = apiVersion === undefined ||
    compareVersions(apiVersion, MULTI_NETWORK_CREATE_API) >= 0;
  Object.keys(service.networks).forEach((key, i) => {
    const name = project.networks[key].name;
    const endpoint = endpointConfig(service, key);
    if (i === 0 || all) atCreate[name] = endpoint;
    else later.push({ name, endpoint });
  });
  return { atCreate, later };
}

export function aliasesOf(service: ServiceSpec, networkKey: string): string[] {
  return [...new Set([service.name, ...(service.networks[networkKey]?.aliases ?? [])])];
}

function addMount(
  volume: VolumeMount,
  project: ComposeProject,
  stackDir: string,
  binds: string[],
  mounts: Record<string, unknown>[],
) {
  switch (volume.type) {
    case "bind": {
      if (!volume.create_host_path) {
        // A bind Mount fails when the host path is missing, where Binds would create it.
        mounts.push({
          Type: "bind",
          Source: bindSource(volume.source, stackDir),
          Target: volume.target,
          ReadOnly: volume.read_only,
        });
        break;
      }
      const options = [volume.read_only ? "ro" : "rw", ...(volume.selinux ? [volume.selinux] : [])];
      binds.push(`${bindSource(volume.source, stackDir)}:${volume.target}:${options.join(",")}`);
      break;
    }
    case "volume":
      mounts.push({
        Type: "volume",
        Source: project.volumes[volume.source].name,
        Target: volume.target,
        ReadOnly: volume.read_only,
      });
      break;
    case "anonymous":
      mounts.push({ Type: "volume", Target: volume.target, ReadOnly: volume.read_only });
      break;
    case "tmpfs":
      mounts.push(tmpfsMount(volume));
      break;
  }
}

/**
 * What a deploy does to one container of a service; "remove" takes away a replica above
 * `deploy.replicas` (the highest numbers go, as the CLI scales down).
 */
export type ServiceAction = "create" | "recreate" | "unchanged" | "start" | "restart" | "remove";

/** One container's step of a plan (one per replica), with the reason in words. */
export interface ServiceStep {
  service: string;
  /** The container's name once the step is done. */
  container: string;
  /** Which replica (its container-number label). */
  number: number;
  action: ServiceAction;
  reason: string;
  /** The existing container this step recreates, starts, restarts or removes (its id). */
  current?: string;
  /** The image is not present and is pulled first. */
  pull: boolean;
  /** A `build:` service: its image is built first (never pulled) when it is (re)created. */
  build?: true;
}

/** A network or volume of the file: created, already there, or (external) missing. */
export interface ObjectStep {
  key: string;
  name: string;
  external: boolean;
  action: "create" | "unchanged" | "missing";
  reason: string;
}

/** A container of the project whose service is no longer in the file. */
export interface OrphanStep {
  service: string;
  container: string;
  id: string;
  action: "remove" | "keep";
  reason: string;
}

/**
 * What a deploy does, computed by planProject from the file and the Engine's state. The
 * preview shows it and the deploy executes it: one function decides for both.
 */
export interface ProjectPlan {
  project: string;
  networks: ObjectStep[];
  volumes: ObjectStep[];
  /** In deploy order. */
  services: ServiceStep[];
  orphans: OrphanStep[];
}

/** A container as the Engine's list answers it (fields the shared summary type leaves out). */
export type PlanContainer = ContainerSummary & {
  NetworkSettings?: { Networks?: Record<string, unknown> | null };
  Mounts?: { Type: string; Name?: string; Destination: string }[] | null;
};

/** What the plan is computed from: one read of the Engine's state. */
export interface PlanFacts {
  containers: PlanContainer[];
  hasImage: (image: string) => boolean;
  networkExists: (name: string) => boolean;
  volumeExists: (name: string) => boolean;
}

function objectStep(
  key: string,
  spec: { name: string; external: boolean },
  exists: boolean,
  what: "network" | "volume",
): ObjectStep {
  const base = { key, name: spec.name, external: spec.external };
  if (exists) return { ...base, action: "unchanged", reason: `the ${what} exists` };
  if (spec.external) {
    return {
      ...base,
      action: "missing",
      reason: `the external ${what} "${spec.name}" does not exist; the deploy will fail`,
    };
  }
  return { ...base, action: "create", reason: `no ${what} "${spec.name}" yet` };
}

/** Networks (by their Engine names) the service's container must be attached to. */
export function expectedNetworks(project: ComposeProject, service: ServiceSpec): string[] {
  if (service.network_mode) return [];
  return Object.keys(service.networks).map((key) => project.networks[key].name);
}

/** Why an existing container cannot stay, or null when its configuration is current. */
function staleReason(
  project: ComposeProject,
  service: ServiceSpec,
  current: PlanContainer,
): string | null {
  if (current.Labels?.[LABEL.hash] !== configHash(service)) {
    const image = current.Labels?.[LABEL.hash] ? current.Image : undefined;
    return image && image !== service.image && !image.startsWith("sha256:")
      ? `its image changed from ${image} to ${service.image}`
      : "its configuration changed";
  }
  const attached = current.NetworkSettings?.Networks;
  if (attached) {
    const missing = expectedNetworks(project, service).filter((name) => !(name in attached));
    if (missing.length) {
      return `its container is not attached to ${
        missing.map((name) => `"${name}"`).join(", ")
      } (left half-configured)`;
    }
  }
  return null;
}

/** The step of one replica, existing (`current`) or not: what is done and why. */
function replicaStep(
  project: ComposeProject,
  service: ServiceSpec,
  current: PlanContainer | undefined,
  step: (action: ServiceAction, reason: string) => ServiceStep,
  firstActions: Map<string, ServiceAction>,
  renewedServices: Set<string>,
): ServiceStep {
  if (!current) return step("create", "no container yet");
  const shared = service.network_mode?.startsWith("service:")
    ? service.network_mode.slice("service:".length)
    : null;
  const sharedAction = shared ? firstActions.get(shared) : undefined;
  if (sharedAction === "create" || sharedAction === "recreate") {
    return step("recreate", `it shares the network stack of ${shared}, which is replaced`);
  }
  const stale = staleReason(project, service, current);
  if (stale) return step("recreate", stale);
  if (current.State !== "running") {
    return step("start", `unchanged; its container is ${current.State || "not running"}`);
  }
  // Dependencies come first in deploy order, so their steps are known here.
  const renewed = Object.entries(service.depends_on)
    .filter(([dependency, dep]) => dep.restart && renewedServices.has(dependency))
    .map(([dependency]) => dependency);
  if (renewed.length) {
    return step(
      "restart",
      `it depends on ${renewed.join(", ")} with restart: true, which ${
        renewed.length > 1 ? "are" : "is"
      } renewed`,
    );
  }
  return step("unchanged", "unchanged and running");
}

/**
 * The plan of a deploy: per network, volume, service and orphan what is done and why.
 * Services come in `order` (dependency order). A service sharing the network stack of a
 * replaced one is recreated (the Engine pinned it to the old container's id); a running
 * one whose dependency with `restart: true` is renewed is restarted.
 */
export function planProject(
  project: ComposeProject,
  order: ServiceSpec[],
  facts: PlanFacts,
  options: { removeOrphans?: boolean } = {},
): ProjectPlan {
  const byService = new Map<string, PlanContainer[]>();
  for (const container of facts.containers) {
    const service = container.Labels?.[LABEL.service];
    if (service) byService.set(service, [...byService.get(service) ?? [], container]);
  }
  /** Per service, the action of its first replica (the one `service:x` network modes join). */
  const firstActions = new Map<string, ServiceAction>();
  /** Services with a replica created, recreated, started or restarted. */
  const renewedServices = new Set<string>();
  const services = order.flatMap((service): ServiceStep[] => {
    const existing = byService.get(service.name) ?? [];
    const replicas = service.replicas ?? 1;
    const numberOf = (container: PlanContainer) => Number(container.Labels?.[LABEL.number]) || 1;
    const pull = !service.build && !facts.hasImage(service.image);
    const steps: ServiceStep[] = [];
    for (let number = 1; number <= replicas; number++) {
      // A fixed container_name (one replica only) keeps whatever container the service has.
      const current = service.container_name
        ? existing[0]
        : existing.find((container) => numberOf(container) === number);
      const step = (action: ServiceAction, reason: string): ServiceStep => ({
        service: service.name,
        container: containerNameOf(project.name, service, number),
        number,
        action,
        reason,
        ...(current ? { current: current.Id } : {}),
        pull,
        ...(service.build ? { build: true as const } : {}),
      });
      steps.push(replicaStep(project, service, current, step, firstActions, renewedServices));
    }
    if (steps.some((step) => step.action !== "unchanged")) renewedServices.add(service.name);
    firstActions.set(service.name, steps[0]?.action ?? "unchanged");
    if (!service.container_name) {
      // Above the replica count: the highest numbers go first, as the CLI scales down.
      const extra = existing.filter((container) => numberOf(container) > replicas)
        .sort((a, b) => numberOf(b) - numberOf(a));
      for (const container of extra) {
        steps.push({
          service: service.name,
          container: displayName(container),
          number: numberOf(container),
          action: "remove",
          reason: `scaled down to ${replicas} ${replicas === 1 ? "replica" : "replicas"}`,
          current: container.Id,
          pull: false,
        });
      }
    }
    return steps;
  });
  const inFile = new Set(project.services.map((service) => service.name));
  const orphans = [...byService.entries()].filter(([service]) => !inFile.has(service))
    .flatMap(([service, containers]) => containers.map((container) => ({ service, container })))
    .map(({ service, container }): OrphanStep => ({
      service,
      container: displayName(container),
      id: container.Id,
      action: options.removeOrphans ? "remove" : "keep",
      reason: options.removeOrphans
        ? `service "${service}" is no longer in the file`
        : `service "${service}" is no longer in the file; kept (deploy with remove orphans to remove it)`,
    }));
  return {
    project: project.name,
    networks: Object.entries(project.networks).map(([key, network]) =>
      objectStep(key, network, facts.networkExists(network.name), "network")
    ),
    volumes: Object.entries(project.volumes).map(([key, volume]) =>
      objectStep(key, volume, facts.volumeExists(volume.name), "volume")
    ),
    services,
    orphans,
  };
}

export interface ServicePreview {
  name: string;
  container_name: string;
  image: string;
  image_local: boolean;
  /** Built from the stack folder (the image is local only once built). */
  build?: true;
  ports: string[];
  volumes: { type: string; source: string | null; target: string; mode: "ro" | "rw" }[];
  env_keys: string[];
  restart: string;
  command: string[] | null;
  networks: string[];
  depends_on: { service: string; condition: string }[];
  /** `deploy.replicas`: how many containers the service runs. */
  replicas: number;
  /** The weightiest of its containers' actions (each is in the plan). */
  action: ServiceAction;
  /** Why (the plan's reason; per container when its containers differ). */
  reason: string;
  warnings: ComposeWarning[];
}

export interface ProjectPreview {
  project: string;
  services: ServicePreview[];
  networks: { key: string; name: string; external: boolean; exists: boolean }[];
  volumes: { key: string; name: string; external: boolean; exists: boolean }[];
  warnings: ComposeWarning[];
  risks: ComposeWarning[];
  /** Containers of this project whose service is no longer in the file. */
  orphans: string[];
  /** What a deploy of this file does now: exactly what deployProject executes. */
  plan: ProjectPlan;
  /** Profiles the file names, those active in this parse, and the services they left out. */
  profiles: { available: string[]; active: string[]; disabled_services: string[] };
}

export function formatPort(
  port: { host_ip: string; published: string; target: number; protocol: string },
): string {
  const host = port.host_ip.includes(":") ? `[${port.host_ip}]` : port.host_ip;
  const published = port.published || "random";
  return `${host ? `${host}:` : ""}${published}:${port.target}/${port.protocol}`;
}

/** Weightiest first: what a service's card shows when its containers differ. */
const WEIGHT: ServiceAction[] = ["recreate", "create", "remove", "restart", "start", "unchanged"];

/** One service's steps in a line: the shared action and reason, or each container's. */
function summaryOf(steps: ServiceStep[]): { action: ServiceAction; reason: string } {
  const action = WEIGHT.find((weight) => steps.some((step) => step.action === weight)) ??
    "unchanged";
  const same = steps.every((step) =>
    step.action === steps[0].action && step.reason === steps[0].reason
  );
  if (same) {
    const reason = steps[0]?.reason ?? "no container (deploy.replicas is 0)";
    return { action, reason: steps.length > 1 ? `${reason} (${steps.length} containers)` : reason };
  }
  return {
    action,
    reason: steps.map((step) => `${step.container}: ${step.action} (${step.reason})`).join("; "),
  };
}

/** What a deploy would do, given the project's containers and the images present. */
export function previewProject(
  project: ComposeProject,
  order: ServiceSpec[],
  facts: PlanFacts,
  options: { removeOrphans?: boolean } = {},
): ProjectPreview {
  const plan = planProject(project, order, facts, options);
  const services = order.map((service): ServicePreview => {
    const steps = plan.services.filter((step) => step.service === service.name);
    const { action, reason } = summaryOf(steps);
    return {
      name: service.name,
      container_name: containerNameOf(project.name, service),
      image: service.image,
      // As the plan's pull: a build: service is never pulled.
      image_local: Boolean(service.build) || facts.hasImage(service.image),
      ...(service.build ? { build: true as const } : {}),
      ports: service.ports.map(formatPort),
      volumes: service.volumes.map((volume) => ({
        type: volume.type,
        source: "source" in volume ? volume.source : null,
        target: volume.target,
        mode: "read_only" in volume && volume.read_only ? "ro" : "rw",
      })),
      env_keys: Object.keys(service.environment).sort(),
      restart: service.restart.name === "on-failure" && service.restart.max_retries
        ? `on-failure:${service.restart.max_retries}`
        : service.restart.name,
      command: service.command ?? null,
      networks: service.network_mode
        ? [`mode:${service.network_mode}`]
        : Object.keys(service.networks),
      depends_on: Object.entries(service.depends_on).map(([name, dep]) => ({
        service: name,
        condition: dep.condition,
      })),
      replicas: service.replicas ?? 1,
      action,
      reason,
      warnings: project.warnings.filter((warning) => warning.service === service.name),
    };
  });
  const objects = (steps: ObjectStep[]) =>
    steps.map(({ key, name, external, action }) => ({
      key,
      name,
      external,
      exists: action === "unchanged",
    }));
  return {
    project: project.name,
    services,
    networks: objects(plan.networks),
    volumes: objects(plan.volumes),
    warnings: project.warnings,
    risks: project.warnings.filter((warning) => warning.kind === "risk"),
    profiles: {
      available: project.profiles ?? [],
      active: project.active_profiles ?? [],
      disabled_services: project.disabled_services ?? [],
    },
    orphans: plan.orphans.map((orphan) => orphan.container),
    plan,
  };
}
