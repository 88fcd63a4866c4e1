/**
 * Named volumes on the Engine API: list (with the containers using each), inspect, create,
 * remove, prune, and the slow `system/df` sizes. Every name is validated before it goes
 * into a URL.
 */
import { compareVersions, type DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import type { ContainerSummary } from "./types.ts";
import { volumeName } from "./validate.ts";
import { displayName } from "./views.ts";

export interface EngineVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Record<string, string> | null;
  Scope: string;
  Options: Record<string, string> | null;
  Status?: Record<string, unknown>;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** The Engine's container list carries the mounts, which the shared summary type leaves out. */
export type ContainerWithMounts = ContainerSummary & {
  Mounts?: { Type: string; Name?: string; Source?: string; Destination: string; RW: boolean }[];
};

/**
 * The anonymous volumes (64-hex names) the containers mount. A recreated compose container
 * mounts its predecessor's by name, which the Engine's `rm -v` then keeps.
 */
export function anonymousVolumesOf(containers: ContainerSummary[]): string[] {
  const names = new Set<string>();
  for (const container of containers as ContainerWithMounts[]) {
    for (const mount of container.Mounts ?? []) {
      if (mount.Type === "volume" && /^[0-9a-f]{64}$/.test(mount.Name ?? "")) {
        names.add(mount.Name!);
      }
    }
  }
  return [...names];
}

export interface VolumeUser {
  id: string;
  name: string;
  state: string;
  destination: string;
  read_only: boolean;
}

export interface VolumeView {
  name: string;
  driver: string;
  mountpoint: string;
  created_at: string | null;
  scope: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  compose_project: string | null;
  containers: VolumeUser[];
}

const COMPOSE_PROJECT = "com.docker.compose.project";

export async function listVolumes(docker: DockerClient): Promise<EngineVolume[]> {
  const answer = await docker.json<{ Volumes: EngineVolume[] | null }>("GET", "/volumes");
  return answer.Volumes ?? [];
}

export async function inspectVolume(docker: DockerClient, name: string): Promise<EngineVolume> {
  return await docker.json<EngineVolume>("GET", `/volumes/${volumeName(name)}`);
}

export async function volumeExists(docker: DockerClient, name: string): Promise<boolean> {
  try {
    await inspectVolume(docker, name);
    return true;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return false;
    throw error;
  }
}

export async function createVolume(
  docker: DockerClient,
  spec: {
    name: string;
    driver: string;
    driverOptions: Record<string, string>;
    labels: Record<string, string>;
  },
): Promise<EngineVolume> {
  return await docker.json<EngineVolume>("POST", "/volumes/create", {
    json: {
      Name: volumeName(spec.name),
      Driver: spec.driver,
      DriverOpts: spec.driverOptions,
      Labels: spec.labels,
    },
  });
}

export async function removeVolume(docker: DockerClient, name: string) {
  await docker.json("DELETE", `/volumes/${volumeName(name)}`);
}

/**
 * Removes every volume no container uses (named ones too: API 1.42 and later prune only
 * anonymous volumes unless told `all`), limited to those carrying all of `labels`.
 */
export async function pruneVolumes(
  docker: DockerClient,
  labels: string[] = [],
): Promise<{ deleted: string[]; reclaimed_bytes: number }> {
  const filters: Record<string, string[]> = {};
  if (labels.length) filters.label = labels;
  if (compareVersions(await docker.apiVersion(), "1.42") >= 0) filters.all = ["true"];
  const answer = await docker.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>(
    "POST",
    "/volumes/prune",
    {
      query: { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
      timeoutMs: 120_000,
    },
  );
  return { deleted: answer.VolumesDeleted ?? [], reclaimed_bytes: answer.SpaceReclaimed ?? 0 };
}

/**
 * Each volume's size and reference count from `system/df`, which walks every volume on
 * disk (seconds on a busy host): called only when someone asks.
 */
export async function volumeSizes(
  docker: DockerClient,
): Promise<Record<string, { size: number; ref_count: number }>> {
  const newer = compareVersions(await docker.apiVersion(), "1.42") >= 0;
  const answer = await docker.json<{ Volumes: EngineVolume[] | null }>("GET", "/system/df", {
    query: { type: newer ? "volume" : undefined },
    timeoutMs: 120_000,
  });
  const sizes: Record<string, { size: number; ref_count: number }> = {};
  for (const volume of answer.Volumes ?? []) {
    sizes[volume.Name] = {
      size: volume.UsageData?.Size ?? -1,
      ref_count: volume.UsageData?.RefCount ?? -1,
    };
  }
  return sizes;
}

export async function listContainersWithMounts(
  docker: DockerClient,
): Promise<ContainerWithMounts[]> {
  return await docker.json<ContainerWithMounts[]>("GET", "/containers/json", {
    query: { all: 1 },
  });
}

/** The containers (any state) that mount the named volume. */
export function usersOf(name: string, containers: readonly ContainerWithMounts[]): VolumeUser[] {
  const users: VolumeUser[] = [];
  for (const container of containers) {
    for (const mount of container.Mounts ?? []) {
      if (mount.Type === "volume" && mount.Name === name) {
        users.push({
          id: container.Id,
          name: displayName(container),
          state: container.State,
          destination: mount.Destination,
          read_only: !mount.RW,
        });
      }
    }
  }
  return users;
}

export function volumeView(
  volume: EngineVolume,
  containers: readonly ContainerWithMounts[],
): VolumeView {
  const labels = volume.Labels ?? {};
  return {
    name: volume.Name,
    driver: volume.Driver,
    mountpoint: volume.Mountpoint,
    created_at: volume.CreatedAt ?? null,
    scope: volume.Scope,
    labels,
    options: volume.Options ?? {},
    compose_project: labels[COMPOSE_PROJECT] ?? null,
    containers: usersOf(volume.Name, containers),
  };
}

export async function volumeViews(docker: DockerClient): Promise<VolumeView[]> {
  const [volumes, containers] = await Promise.all([
    listVolumes(docker),
    listContainersWithMounts(docker),
  ]);
  return volumes.map((volume) => volumeView(volume, containers))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
