/**
 * Swarm on the Engine API: the swarm's state and its nodes (list, inspect, update with the
 * version index, remove). Services are in swarm_services.ts, secrets and configs in
 * swarm_secrets.ts. Every id or name is checked before it goes into a URL, and an Engine
 * that is not a manager answers the one 409 the panel promises.
 */
import type { DockerClient, RequestOptions } from "./client.ts";
import { DockerError, InvalidReferenceError } from "./errors.ts";
import { HttpError } from "../errors.ts";

export const NOT_A_MANAGER = "This Engine is not a swarm manager";

/** A worker, or an Engine outside any swarm, asked for the cluster's state. */
export class NotSwarmManagerError extends HttpError {
  override name = "NotSwarmManagerError";
  constructor() {
    super(409, NOT_A_MANAGER);
  }
}

/**
 * A call that only a manager answers. The Engine says 503 "This node is not a swarm
 * manager…" for workers and for Engines outside a swarm; that is the caller's 409.
 */
export async function managerJson<T>(
  docker: DockerClient,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  try {
    return await docker.json<T>(method, path, options);
  } catch (error) {
    throw managerError(error);
  }
}

/** The same mapping for raw requests (logs). */
export async function managerRequest(
  docker: DockerClient,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  try {
    return await docker.request(method, path, options);
  } catch (error) {
    throw managerError(error);
  }
}

function managerError(error: unknown): unknown {
  if (
    error instanceof DockerError && error.daemonStatus === 503 &&
    /not a swarm manager/i.test(error.message)
  ) {
    return new NotSwarmManagerError();
  }
  return error;
}

// Swarm object ids are 25 lowercase alphanumerics; names follow Docker's object name rule.
// Either may address an object, and nothing in them can change a URL's meaning.
const SWARM_REF_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** A node, service, secret or config id or name, checked before it goes into a URL. */
export function swarmRef(value: unknown, what: string, field = "id"): string {
  if (typeof value !== "string" || !SWARM_REF_RE.test(value)) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : String(value);
    throw new InvalidReferenceError(`Invalid ${what} ${shown}`, field);
  }
  return value;
}

export interface SwarmInfo {
  active: boolean;
  manager: boolean;
  node_id?: string;
  cluster?: { id: string; created_at: string; nodes: number; managers: number };
}

interface EngineInfoSwarm {
  Swarm?: {
    NodeID?: string;
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    Nodes?: number;
    Managers?: number;
    Cluster?: { ID: string; CreatedAt: string };
  };
}

/** GET /info's swarm part: never a 409, so the UI can ask any Engine. */
export async function swarmInfo(docker: DockerClient): Promise<SwarmInfo> {
  const info = await docker.json<EngineInfoSwarm>("GET", "/info");
  const swarm = info.Swarm ?? {};
  const active = swarm.LocalNodeState === "active";
  const manager = active && swarm.ControlAvailable === true;
  return {
    active,
    manager,
    ...(active && swarm.NodeID ? { node_id: swarm.NodeID } : {}),
    ...(manager && swarm.Cluster
      ? {
        cluster: {
          id: swarm.Cluster.ID,
          created_at: swarm.Cluster.CreatedAt,
          nodes: swarm.Nodes ?? 0,
          managers: swarm.Managers ?? 0,
        },
      }
      : {}),
  };
}

export interface EngineNode {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name?: string;
    Labels?: Record<string, string>;
    Role: "manager" | "worker";
    Availability: "active" | "pause" | "drain";
  };
  Description?: {
    Hostname?: string;
    Engine?: { EngineVersion?: string };
  };
  Status: { State: string; Message?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
}

export interface NodeView {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  availability: "active" | "pause" | "drain";
  state: string;
  address: string;
  engine_version: string;
  labels: Record<string, string>;
  leader: boolean;
  manager_reachability?: string;
}

export function nodeView(node: EngineNode): NodeView {
  return {
    id: node.ID,
    hostname: node.Description?.Hostname ?? "",
    role: node.Spec.Role,
    availability: node.Spec.Availability,
    state: node.Status.State,
    // A manager's Status.Addr can be 0.0.0.0 on some Engines; its manager address is real.
    address: node.Status.Addr && node.Status.Addr !== "0.0.0.0"
      ? node.Status.Addr
      : (node.ManagerStatus?.Addr ?? "").replace(/:\d+$/, ""),
    engine_version: node.Description?.Engine?.EngineVersion ?? "",
    labels: node.Spec.Labels ?? {},
    leader: node.ManagerStatus?.Leader === true,
    ...(node.ManagerStatus?.Reachability
      ? { manager_reachability: node.ManagerStatus.Reachability }
      : {}),
  };
}

export function listNodes(docker: DockerClient): Promise<EngineNode[]> {
  return managerJson<EngineNode[]>(docker, "GET", "/nodes");
}

export function inspectNode(docker: DockerClient, id: string): Promise<EngineNode> {
  return managerJson<EngineNode>(docker, "GET", `/nodes/${swarmRef(id, "node id")}`);
}

/** Replaces the node's spec; `version` is the index the spec was read at. */
export async function updateNode(
  docker: DockerClient,
  id: string,
  version: number,
  spec: EngineNode["Spec"],
): Promise<void> {
  await managerJson(docker, "POST", `/nodes/${swarmRef(id, "node id")}/update`, {
    query: { version },
    json: spec,
  });
}

export async function removeNode(docker: DockerClient, id: string): Promise<void> {
  await managerJson(docker, "DELETE", `/nodes/${swarmRef(id, "node id")}`);
}

/** Hostname of every node by id (tasks name their node by id only). */
export async function nodeNames(docker: DockerClient): Promise<Map<string, string>> {
  const nodes = await listNodes(docker);
  return new Map(nodes.map((node) => [node.ID, node.Description?.Hostname ?? node.ID]));
}
