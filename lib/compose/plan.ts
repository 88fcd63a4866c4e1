/**
 * From a parsed project to what the Engine is asked for: names, labels and create bodies
 * exactly as the compose CLI v2 makes them, the config hash that decides whether a
 * service is recreated, and the preview of what a deploy would do.
 */
import { createHash } from "node:crypto";
import type { ContainerSummary } from "../docker/types.ts";
import type { ComposeProject, ComposeWarning, ServiceSpec, VolumeMount } from "./types.ts";
import { cleanPath, parseDevice } from "./normalise.ts";
import { displayName } from "../docker/views.ts";
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

export function containerNameOf(project: string, service: ServiceSpec): string {
  return service.container_name ?? `${project}-${service.name}-1`;
}

/** SHA-256 of the service's normalised config (its line number aside), with sorted keys. */
export function configHash(service: ServiceSpec): string {
  const { line: _line, ...config } = service;
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
): Record<string, string> {
  return {
    ...service.labels,
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.number]: "1",
    [LABEL.oneoff]: "False",
    [LABEL.hash]: configHash(service),
    [LABEL.version]: COMPOSE_VERSION,
    [LABEL.workingDir]: stackDir,
    [LABEL.configFiles]: `${stackDir}/compose.yaml`,
    // As the CLI writes it: service:condition:restart (restart defaults to false).
    [LABEL.dependsOn]: Object.entries(service.depends_on)
      .map(([name, dep]) => `${name}:${dep.condition}:${dep.restart === true}`).join(","),
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
  options: { apiVersion?: string } = {},
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
  const tmpfs: Record<string, string> = {};
  for (const volume of service.volumes) addMount(volume, project, stackDir, binds, mounts, tmpfs);

  const networkKeys = Object.keys(service.networks);
  const first = networkKeys[0];
  const networkMode = networkModeOf(project, service) ??
    (first ? project.networks[first].name : "default");
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
    Labels: containerLabels(project, service, stackDir),
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
      Mounts: mounts,
      Tmpfs: tmpfs,
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
    NetworkingConfig: first && !service.network_mode
      ? {
        EndpointsConfig: { [project.networks[first].name]: { Aliases: aliasesOf(service, first) } },
      }
      : undefined,
  };
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
  tmpfs: Record<string, string>,
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
      tmpfs[volume.target] = "";
      break;
  }
}

export type ServiceAction = "create" | "recreate" | "unchanged";

export interface ServicePreview {
  name: string;
  container_name: string;
  image: string;
  image_local: boolean;
  ports: string[];
  volumes: { type: string; source: string | null; target: string; mode: "ro" | "rw" }[];
  env_keys: string[];
  restart: string;
  command: string[] | null;
  networks: string[];
  depends_on: { service: string; condition: string }[];
  action: ServiceAction;
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
}

export function formatPort(
  port: { host_ip: string; published: string; target: number; protocol: string },
): string {
  const host = port.host_ip.includes(":") ? `[${port.host_ip}]` : port.host_ip;
  const published = port.published || "random";
  return `${host ? `${host}:` : ""}${published}:${port.target}/${port.protocol}`;
}

/** What a deploy would do, given the project's containers and the images present. */
export function previewProject(
  project: ComposeProject,
  order: ServiceSpec[],
  facts: {
    containers: ContainerSummary[];
    hasImage: (image: string) => boolean;
    networkExists: (name: string) => boolean;
    volumeExists: (name: string) => boolean;
  },
): ProjectPreview {
  const byService = new Map<string, ContainerSummary>();
  for (const container of facts.containers) {
    const service = container.Labels?.[LABEL.service];
    if (service) byService.set(service, container);
  }
  const services = order.map((service): ServicePreview => {
    const existing = byService.get(service.name);
    const action: ServiceAction = !existing
      ? "create"
      : existing.Labels?.[LABEL.hash] === configHash(service)
      ? "unchanged"
      : "recreate";
    return {
      name: service.name,
      container_name: containerNameOf(project.name, service),
      image: service.image,
      image_local: facts.hasImage(service.image),
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
      action,
      warnings: project.warnings.filter((warning) => warning.service === service.name),
    };
  });
  const inFile = new Set(project.services.map((service) => service.name));
  return {
    project: project.name,
    services,
    networks: Object.entries(project.networks).map(([key, network]) => ({
      key,
      name: network.name,
      external: network.external,
      exists: facts.networkExists(network.name),
    })),
    volumes: Object.entries(project.volumes).map(([key, volume]) => ({
      key,
      name: volume.name,
      external: volume.external,
      exists: facts.volumeExists(volume.name),
    })),
    warnings: project.warnings,
    risks: project.warnings.filter((warning) => warning.kind === "risk"),
    orphans: [...byService.entries()].filter(([service]) => !inFile.has(service))
      .map(([, container]) => displayName(container)),
  };
}
