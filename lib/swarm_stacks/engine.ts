/**
 * The swarm calls a stack needs: services, tasks, networks, secrets and configs found by
 * the namespace label, created, updated with their version index, removed. Ids and names
 * go into URLs only after a check.
 */
import type { DockerClient } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import { HttpError } from "../errors.ts";
import { NAMESPACE_LABEL } from "./convert.ts";

export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number }; Global?: unknown };
    TaskTemplate?: { ContainerSpec?: { Image?: string }; ForceUpdate?: number };
    EndpointSpec?: { Ports?: unknown[] };
    [key: string]: unknown;
  };
  UpdateStatus?: { State?: string; Message?: string };
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  UpdatedAt?: string;
  Status: { State: string; Err?: string; Message?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

export interface SwarmObject {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Labels?: Record<string, string> };
}

export interface SwarmNetwork {
  Id: string;
  Name: string;
  Scope?: string;
  Labels?: Record<string, string>;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

function ref(value: string, what: string): string {
  if (!ID_RE.test(value)) throw new HttpError(400, `Invalid ${what} ${JSON.stringify(value)}`);
  return value;
}

const byNamespace = (stack: string) => JSON.stringify({ label: [`${NAMESPACE_LABEL}=${stack}`] });
const anyStack = () => JSON.stringify({ label: [NAMESPACE_LABEL] });

/** 409 unless the Engine is a swarm manager (the same words as the swarm routes). */
export async function assertManager(docker: DockerClient): Promise<void> {
  const info = await docker.json<
    { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }
  >("GET", "/info");
  if (info.Swarm?.LocalNodeState !== "active" || !info.Swarm.ControlAvailable) {
    throw new HttpError(409, "This Engine is not a swarm manager");
  }
}

export function listStackServices(docker: DockerClient, stack?: string) {
  return docker.json<SwarmService[]>("GET", "/services", {
    query: { filters: stack === undefined ? anyStack() : byNamespace(stack) },
  });
}

export function listServiceTasks(docker: DockerClient, serviceIds: string[]) {
  if (serviceIds.length === 0) return Promise.resolve([] as SwarmTask[]);
  return docker.json<SwarmTask[]>("GET", "/tasks", {
    query: { filters: JSON.stringify({ service: serviceIds }) },
  });
}

export function listNodes(docker: DockerClient) {
  return docker.json<{ ID: string; Description?: { Hostname?: string } }[]>("GET", "/nodes");
}

export async function createService(docker: DockerClient, spec: unknown): Promise<string> {
  const created = await docker.json<{ ID: string }>("POST", "/services/create", { json: spec });
  return created.ID;
}

export async function updateService(
  docker: DockerClient,
  id: string,
  version: number,
  spec: unknown,
): Promise<string[]> {
  const answer = await docker.json<{ Warnings?: string[] | null }>(
    "POST",
    `/services/${ref(id, "service id")}/update`,
    { query: { version }, json: spec },
  );
  return answer?.Warnings ?? [];
}

export async function removeService(docker: DockerClient, id: string) {
  await docker.request("DELETE", `/services/${ref(id, "service id")}`)
    .then((response) => response.body?.cancel());
}

export function listStackNetworks(docker: DockerClient, stack: string) {
  return docker.json<SwarmNetwork[]>("GET", "/networks", {
    query: { filters: byNamespace(stack) },
  });
}

/** The network by name, or undefined. */
export async function findNetwork(
  docker: DockerClient,
  name: string,
): Promise<SwarmNetwork | undefined> {
  try {
    return await docker.json<SwarmNetwork>("GET", `/networks/${ref(name, "network name")}`);
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return undefined;
    throw error;
  }
}

export async function createNetwork(docker: DockerClient, body: unknown) {
  await docker.json("POST", "/networks/create", { json: body });
}

export async function removeNetwork(docker: DockerClient, id: string) {
  await docker.request("DELETE", `/networks/${ref(id, "network id")}`)
    .then((response) => response.body?.cancel());
}

export type ObjectKind = "secrets" | "configs";

export function listObjects(docker: DockerClient, kind: ObjectKind, stack?: string) {
  return docker.json<SwarmObject[]>("GET", `/${kind}`, {
    query: { filters: stack === undefined ? anyStack() : byNamespace(stack) },
  });
}

/** The secret or config with exactly this name, or undefined. */
export async function findObject(
  docker: DockerClient,
  kind: ObjectKind,
  name: string,
): Promise<SwarmObject | undefined> {
  const found = await docker.json<SwarmObject[]>("GET", `/${kind}`, {
    query: { filters: JSON.stringify({ name: [name] }) },
  });
  return found.find((object) => object.Spec.Name === name);
}

export async function createObject(
  docker: DockerClient,
  kind: ObjectKind,
  spec: { Name: string; Labels: Record<string, string>; Data: string },
): Promise<string> {
  const created = await docker.json<{ ID: string }>("POST", `/${kind}/create`, { json: spec });
  return created.ID;
}

export async function updateObject(
  docker: DockerClient,
  kind: ObjectKind,
  object: SwarmObject,
  spec: { Name: string; Labels: Record<string, string>; Data: string },
) {
  await docker.request("POST", `/${kind}/${ref(object.ID, "id")}/update`, {
    query: { version: object.Version.Index },
    json: spec,
  }).then((response) => response.body?.cancel());
}

export async function removeObject(docker: DockerClient, kind: ObjectKind, id: string) {
  await docker.request("DELETE", `/${kind}/${ref(id, "id")}`)
    .then((response) => response.body?.cancel());
}
