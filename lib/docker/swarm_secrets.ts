/**
 * Swarm secrets and configs on the Engine API: list, inspect, create, remove, and which
 * services use one. A secret's value is never read back (the Engine does not return it) and
 * never appears in a view; a config's value may be shown on inspect.
 */
import type { DockerClient } from "./client.ts";
import { managerJson, swarmRef } from "./swarm.ts";
import { type EngineService, listServices } from "./swarm_services.ts";

export type SwarmObjectKind = "secret" | "config";

export interface EngineSwarmObject {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}

export interface SwarmObjectView {
  id: string;
  name: string;
  labels: Record<string, string>;
  created_at: string;
  updated_at: string;
  /** Names of the services that use it. */
  used_by: string[];
}

const plural = (kind: SwarmObjectKind) => kind === "secret" ? "secrets" : "configs";

/** Names of the services whose tasks get this secret or config. */
export function servicesUsing(
  services: EngineService[],
  kind: SwarmObjectKind,
  id: string,
): string[] {
  return services.filter((service) => {
    const container = service.Spec.TaskTemplate.ContainerSpec;
    return kind === "secret"
      ? (container.Secrets ?? []).some((ref) => ref.SecretID === id)
      : (container.Configs ?? []).some((ref) => ref.ConfigID === id);
  }).map((service) => service.Spec.Name).sort();
}

export function swarmObjectView(
  object: EngineSwarmObject,
  services: EngineService[],
  kind: SwarmObjectKind,
): SwarmObjectView {
  return {
    id: object.ID,
    name: object.Spec.Name,
    labels: object.Spec.Labels ?? {},
    created_at: object.CreatedAt,
    updated_at: object.UpdatedAt,
    used_by: servicesUsing(services, kind, object.ID),
  };
}

export function listSwarmObjects(
  docker: DockerClient,
  kind: SwarmObjectKind,
): Promise<EngineSwarmObject[]> {
  return managerJson<EngineSwarmObject[]>(docker, "GET", `/${plural(kind)}`);
}

export function inspectSwarmObject(
  docker: DockerClient,
  kind: SwarmObjectKind,
  id: string,
): Promise<EngineSwarmObject> {
  return managerJson<EngineSwarmObject>(
    docker,
    "GET",
    `/${plural(kind)}/${swarmRef(id, `${kind} id`)}`,
  );
}

/** Views of every secret or config, with the services using each. */
export async function swarmObjectViews(
  docker: DockerClient,
  kind: SwarmObjectKind,
): Promise<SwarmObjectView[]> {
  const [objects, services] = await Promise.all([
    listSwarmObjects(docker, kind),
    listServices(docker),
  ]);
  return objects.map((object) => swarmObjectView(object, services, kind))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One secret or config; a config's data decoded when it is text, a secret's never. */
export async function swarmObjectDetail(
  docker: DockerClient,
  kind: SwarmObjectKind,
  id: string,
) {
  const [object, services] = await Promise.all([
    inspectSwarmObject(docker, kind, id),
    listServices(docker),
  ]);
  const view = swarmObjectView(object, services, kind);
  if (kind === "secret" || object.Spec.Data === undefined) return view;
  const bytes = Uint8Array.from(atob(object.Spec.Data), (char) => char.charCodeAt(0));
  try {
    return { ...view, data: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { ...view, data: null, data_bytes: bytes.length };
  }
}

export function createSwarmObject(
  docker: DockerClient,
  kind: SwarmObjectKind,
  spec: { Name: string; Labels: Record<string, string>; Data: string },
): Promise<{ ID: string }> {
  return managerJson(docker, "POST", `/${plural(kind)}/create`, { json: spec });
}

export async function removeSwarmObject(
  docker: DockerClient,
  kind: SwarmObjectKind,
  id: string,
): Promise<void> {
  await managerJson(docker, "DELETE", `/${plural(kind)}/${swarmRef(id, `${kind} id`)}`);
}

/** base64 of a text's UTF-8 bytes, as the Engine takes Data. */
export function base64Of(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
