/**
 * Swarm services and their tasks on the Engine API: list (with running/desired counts),
 * inspect with tasks, create, update with the version index (scale, image, rollback),
 * remove, and the views the API answers with.
 */
import type { DockerClient } from "./client.ts";
import { managerJson, managerRequest, nodeNames, swarmRef } from "./swarm.ts";

export const STACK_NAMESPACE_LABEL = "com.docker.stack.namespace";

export interface PortConfig {
  Protocol?: "tcp" | "udp" | "sctp";
  TargetPort: number;
  PublishedPort?: number;
  PublishMode?: "ingress" | "host";
}

export interface SecretReference {
  File: { Name: string; UID: string; GID: string; Mode: number };
  SecretID: string;
  SecretName: string;
}

export interface ConfigReference {
  File: { Name: string; UID: string; GID: string; Mode: number };
  ConfigID: string;
  ConfigName: string;
}

export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env?: string[];
      Secrets?: SecretReference[];
      Configs?: ConfigReference[];
      [key: string]: unknown;
    };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    RestartPolicy?: {
      Condition?: "none" | "on-failure" | "any";
      Delay?: number;
      MaxAttempts?: number;
      Window?: number;
    };
    Placement?: { Constraints?: string[]; [key: string]: unknown };
    Networks?: { Target: string; Aliases?: string[] }[];
    ForceUpdate?: number;
    [key: string]: unknown;
  };
  Mode: { Replicated?: { Replicas?: number }; Global?: Record<string, never> };
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: { Mode?: "vip" | "dnsrr"; Ports?: PortConfig[] };
  [key: string]: unknown;
}

export interface UpdateConfig {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: "continue" | "pause" | "rollback";
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: "stop-first" | "start-first";
}

export interface EngineService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: { Ports?: PortConfig[] };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string; CompletedAt?: string };
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks?: number };
}

export interface EngineTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  UpdatedAt: string;
  DesiredState: string;
  Spec: { ContainerSpec?: { Image?: string } };
  Status: {
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

export interface PortView {
  published: number | null;
  target: number;
  protocol: string;
  mode: string;
}

export interface ServiceView {
  id: string;
  name: string;
  mode: "replicated" | "global";
  replicas_running: number;
  replicas_desired: number;
  image: string;
  ports: PortView[];
  update_status?: { state: string; message?: string };
  stack?: string;
  created_at: string;
  updated_at: string;
}

export interface TaskView {
  id: string;
  slot?: number;
  node_id: string;
  node_hostname: string;
  state: string;
  desired_state: string;
  error?: string;
  image: string;
  updated_at: string;
}

/** An image as the Engine stores it in a spec, without the pinned digest. */
export function shownImage(image: string): string {
  return image.replace(/@sha256:[a-f0-9]{64}$/, "");
}

export function serviceView(service: EngineService): ServiceView {
  const spec = service.Spec;
  const global = spec.Mode.Global !== undefined;
  const ports = service.Endpoint?.Ports ?? spec.EndpointSpec?.Ports ?? [];
  const stack = spec.Labels?.[STACK_NAMESPACE_LABEL];
  return {
    id: service.ID,
    name: spec.Name,
    mode: global ? "global" : "replicated",
    replicas_running: service.ServiceStatus?.RunningTasks ?? 0,
    replicas_desired: service.ServiceStatus?.DesiredTasks ??
      (global ? 0 : spec.Mode.Replicated?.Replicas ?? 1),
    image: shownImage(spec.TaskTemplate.ContainerSpec.Image),
    ports: ports.map((port) => ({
      published: port.PublishedPort ?? null,
      target: port.TargetPort,
      protocol: port.Protocol ?? "tcp",
      mode: port.PublishMode ?? "ingress",
    })),
    ...(service.UpdateStatus?.State
      ? {
        update_status: {
          state: service.UpdateStatus.State,
          ...(service.UpdateStatus.Message ? { message: service.UpdateStatus.Message } : {}),
        },
      }
      : {}),
    ...(stack ? { stack } : {}),
    created_at: service.CreatedAt,
    updated_at: service.UpdatedAt,
  };
}

/**
 * What the service runs, in short. Environment values are left out (they often hold
 * credentials); their names are shown.
 */
export function specSummary(spec: ServiceSpec) {
  const container = spec.TaskTemplate.ContainerSpec;
  const ns = (value: number | undefined) => value === undefined ? undefined : value / 1e9;
  return {
    command: container.Command ?? null,
    args: container.Args ?? null,
    env_keys: (container.Env ?? []).map((entry) => entry.split("=")[0]),
    labels: spec.Labels ?? {},
    constraints: spec.TaskTemplate.Placement?.Constraints ?? [],
    limits: {
      cpus: ns(spec.TaskTemplate.Resources?.Limits?.NanoCPUs),
      memory: spec.TaskTemplate.Resources?.Limits?.MemoryBytes,
    },
    reservations: {
      cpus: ns(spec.TaskTemplate.Resources?.Reservations?.NanoCPUs),
      memory: spec.TaskTemplate.Resources?.Reservations?.MemoryBytes,
    },
    update: spec.UpdateConfig
      ? {
        parallelism: spec.UpdateConfig.Parallelism,
        delay_seconds: ns(spec.UpdateConfig.Delay),
        failure_action: spec.UpdateConfig.FailureAction,
        order: spec.UpdateConfig.Order,
      }
      : null,
    restart: spec.TaskTemplate.RestartPolicy
      ? {
        condition: spec.TaskTemplate.RestartPolicy.Condition,
        delay_seconds: ns(spec.TaskTemplate.RestartPolicy.Delay),
        max_attempts: spec.TaskTemplate.RestartPolicy.MaxAttempts,
      }
      : null,
    secrets: (container.Secrets ?? []).map((secret) => ({
      source: secret.SecretName,
      target: secret.File.Name,
    })),
    configs: (container.Configs ?? []).map((config) => ({
      source: config.ConfigName,
      target: config.File.Name,
    })),
    networks: (spec.TaskTemplate.Networks ?? []).map((network) => network.Target),
  };
}

export function taskView(task: EngineTask, names: Map<string, string>): TaskView {
  return {
    id: task.ID,
    ...(task.Slot !== undefined ? { slot: task.Slot } : {}),
    node_id: task.NodeID ?? "",
    node_hostname: task.NodeID ? names.get(task.NodeID) ?? "" : "",
    state: task.Status.State,
    desired_state: task.DesiredState,
    ...(task.Status.Err ? { error: task.Status.Err } : {}),
    image: shownImage(task.Spec.ContainerSpec?.Image ?? ""),
    updated_at: task.UpdatedAt,
  };
}

export function listServices(
  docker: DockerClient,
  filters: Record<string, string[]> = {},
): Promise<EngineService[]> {
  return managerJson<EngineService[]>(docker, "GET", "/services", {
    query: { status: true, filters: JSON.stringify(filters) },
  });
}

export function inspectService(docker: DockerClient, id: string): Promise<EngineService> {
  return managerJson<EngineService>(docker, "GET", `/services/${swarmRef(id, "service id")}`);
}

/** The service's tasks, newest first, as `docker service ps` lists them. */
export async function serviceTasks(docker: DockerClient, serviceId: string): Promise<EngineTask[]> {
  const tasks = await managerJson<EngineTask[]>(docker, "GET", "/tasks", {
    query: { filters: JSON.stringify({ service: [swarmRef(serviceId, "service id")] }) },
  });
  return tasks.sort((a, b) =>
    (a.Slot ?? 0) - (b.Slot ?? 0) || b.UpdatedAt.localeCompare(a.UpdatedAt)
  );
}

export async function serviceDetail(docker: DockerClient, id: string) {
  const service = await inspectService(docker, id);
  const [withStatus, tasks, names] = await Promise.all([
    listServices(docker, { id: [service.ID] }),
    serviceTasks(docker, service.ID),
    nodeNames(docker),
  ]);
  const current = withStatus.find((item) => item.ID === service.ID) ?? service;
  return {
    ...serviceView(current),
    tasks: tasks.map((task) => taskView(task, names)),
    spec_summary: specSummary(service.Spec),
  };
}

export function createService(
  docker: DockerClient,
  spec: ServiceSpec,
): Promise<{ ID: string; Warnings?: string[] | null }> {
  return managerJson(docker, "POST", "/services/create", { json: spec });
}

/**
 * Replaces a service's spec; `version` is the index it was read at (a concurrent change
 * makes the Engine refuse). `rollback` asks the Engine to go back to the previous spec.
 */
export function updateService(
  docker: DockerClient,
  id: string,
  version: number,
  spec: ServiceSpec,
  options: { rollback?: boolean } = {},
): Promise<{ Warnings?: string[] | null }> {
  return managerJson(docker, "POST", `/services/${swarmRef(id, "service id")}/update`, {
    query: { version, ...(options.rollback ? { rollback: "previous" } : {}) },
    json: spec,
  });
}

export async function removeService(docker: DockerClient, id: string): Promise<void> {
  await managerJson(docker, "DELETE", `/services/${swarmRef(id, "service id")}`);
}

/** The raw, multiplexed log stream of every task of the service. */
export function serviceLogs(
  docker: DockerClient,
  id: string,
  query: { tail: number; follow: boolean; timestamps: boolean; since?: number },
  signal: AbortSignal,
): Promise<Response> {
  return managerRequest(docker, "GET", `/services/${swarmRef(id, "service id")}/logs`, {
    query: {
      stdout: 1,
      stderr: 1,
      tail: query.tail,
      since: query.since,
      timestamps: query.timestamps ? 1 : 0,
      follow: query.follow ? 1 : 0,
    },
    stream: true,
    signal,
  });
}
