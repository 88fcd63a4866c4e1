/**
 * Networks on the Engine API: list (with the containers attached and their addresses),
 * inspect, create, remove, connect, disconnect, prune. Every id or name is validated
 * before it goes into a URL.
 */
import type { DockerClient } from "./client.ts";
import type { ContainerSummary } from "./types.ts";
import { containerRef, networkRef } from "./validate.ts";
import { displayName } from "./views.ts";

/** The networks every Engine has; never removable. */
export const BUILT_IN_NETWORKS: ReadonlySet<string> = new Set(["bridge", "host", "none"]);

export interface IpamConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
}

export interface EngineNetwork {
  Id: string;
  Name: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  Ingress?: boolean;
  IPAM: { Driver: string; Config: IpamConfig[] | null; Options?: Record<string, string> | null };
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  Containers?: Record<string, unknown>;
}

/** The container list's per-network endpoint (the shared summary type leaves it out). */
export type ContainerWithNetworks = ContainerSummary & {
  NetworkSettings?: {
    Networks?: Record<string, {
      NetworkID: string;
      IPAddress?: string;
      GlobalIPv6Address?: string;
      Aliases?: string[] | null;
      IPAMConfig?: { IPv4Address?: string } | null;
    }>;
  };
};

export interface AttachedContainer {
  id: string;
  name: string;
  state: string;
  ipv4: string | null;
  ipv6: string | null;
  aliases: string[];
}

export interface NetworkView {
  id: string;
  name: string;
  driver: string;
  scope: string;
  created: string;
  internal: boolean;
  attachable: boolean;
  ipv6: boolean;
  built_in: boolean;
  subnets: { subnet: string | null; gateway: string | null; ip_range: string | null }[];
  options: Record<string, string>;
  labels: Record<string, string>;
  compose_project: string | null;
  containers: AttachedContainer[];
}

const COMPOSE_PROJECT = "com.docker.compose.project";

export async function listNetworks(docker: DockerClient): Promise<EngineNetwork[]> {
  return await docker.json<EngineNetwork[]>("GET", "/networks");
}

export async function inspectNetwork(docker: DockerClient, ref: string): Promise<EngineNetwork> {
  return await docker.json<EngineNetwork>("GET", `/networks/${networkRef(ref)}`);
}

export async function listContainersWithNetworks(
  docker: DockerClient,
): Promise<ContainerWithNetworks[]> {
  return await docker.json<ContainerWithNetworks[]>("GET", "/containers/json", {
    query: { all: 1 },
  });
}

/**
 * Whether a container's endpoint entry (keyed by network name) is on the network. A
 * container that never started has the entry with an empty NetworkID.
 */
export function onNetwork(
  network: { Id: string; Name: string },
  key: string,
  endpoint: { NetworkID?: string },
): boolean {
  return endpoint.NetworkID ? endpoint.NetworkID === network.Id : key === network.Name;
}

/** The containers (any state) with an endpoint on the network, and their addresses. */
export function attachedTo(
  network: { Id: string; Name: string },
  containers: readonly ContainerWithNetworks[],
): AttachedContainer[] {
  const attached: AttachedContainer[] = [];
  for (const container of containers) {
    for (const [key, endpoint] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
      if (!onNetwork(network, key, endpoint)) continue;
      attached.push({
        id: container.Id,
        name: displayName(container),
        state: container.State,
        ipv4: endpoint.IPAddress || endpoint.IPAMConfig?.IPv4Address || null,
        ipv6: endpoint.GlobalIPv6Address || null,
        aliases: endpoint.Aliases ?? [],
      });
    }
  }
  return attached.sort((a, b) => a.name < b.name ? -1 : 1);
}

export function networkView(
  network: EngineNetwork,
  containers: readonly ContainerWithNetworks[],
): NetworkView {
  const labels = network.Labels ?? {};
  return {
    id: network.Id,
    name: network.Name,
    driver: network.Driver,
    scope: network.Scope,
    created: network.Created,
    internal: network.Internal,
    attachable: network.Attachable,
    ipv6: network.EnableIPv6,
    built_in: BUILT_IN_NETWORKS.has(network.Name),
    subnets: (network.IPAM?.Config ?? []).map((config) => ({
      subnet: config.Subnet || null,
      gateway: config.Gateway || null,
      ip_range: config.IPRange || null,
    })),
    options: network.Options ?? {},
    labels,
    compose_project: labels[COMPOSE_PROJECT] ?? null,
    containers: attachedTo(network, containers),
  };
}

/**
 * The network's view with each attached container's aliases, which only a container's
 * inspect carries (the list does not): one inspect per attached container, at most 100.
 */
export async function networkDetail(docker: DockerClient, ref: string): Promise<NetworkView> {
  const [network, containers] = await Promise.all([
    inspectNetwork(docker, ref),
    listContainersWithNetworks(docker),
  ]);
  const view = networkView(network, containers);
  await Promise.all(
    view.containers.slice(0, 100).map(async (attached) => {
      try {
        const info = await docker.json<
          { NetworkSettings?: ContainerWithNetworks["NetworkSettings"] }
        >(
          "GET",
          `/containers/${containerRef(attached.id)}/json`,
        );
        const endpoint = Object.values(info.NetworkSettings?.Networks ?? {})
          .find((entry) => entry.NetworkID === network.Id);
        // The Engine adds the container's short id as an alias of its own.
        attached.aliases = (endpoint?.Aliases ?? []).filter((alias) =>
          alias !== attached.id.slice(0, 12)
        );
      } catch {
        // removed meanwhile: no aliases to show
      }
    }),
  );
  return view;
}

export async function networkViews(docker: DockerClient): Promise<NetworkView[]> {
  const [networks, containers] = await Promise.all([
    listNetworks(docker),
    listContainersWithNetworks(docker),
  ]);
  return networks.map((network) => networkView(network, containers))
    .sort((a, b) =>
      Number(b.built_in) - Number(a.built_in) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    );
}

export interface NetworkCreateBody {
  Name: string;
  CheckDuplicate: true;
  Driver: string;
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: "default"; Config: IpamConfig[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export async function createNetwork(docker: DockerClient, body: NetworkCreateBody) {
  networkRef(body.Name);
  return await docker.json<{ Id: string; Warning?: string }>("POST", "/networks/create", {
    json: body,
  });
}

export async function removeNetwork(docker: DockerClient, ref: string) {
  await docker.json("DELETE", `/networks/${networkRef(ref)}`);
}

export async function connectNetwork(
  docker: DockerClient,
  ref: string,
  container: string,
  endpoint: { aliases: string[]; ipv4: string | null },
) {
  await docker.json("POST", `/networks/${networkRef(ref)}/connect`, {
    json: {
      Container: containerRef(container),
      EndpointConfig: {
        Aliases: endpoint.aliases,
        ...(endpoint.ipv4 ? { IPAMConfig: { IPv4Address: endpoint.ipv4 } } : {}),
      },
    },
  });
}

export async function disconnectNetwork(docker: DockerClient, ref: string, container: string) {
  await docker.json("POST", `/networks/${networkRef(ref)}/disconnect`, {
    json: { Container: containerRef(container), Force: false },
  });
}

/** Removes every network no container uses, limited to those carrying all of `labels`. */
export async function pruneNetworks(docker: DockerClient, labels: string[] = []) {
  const answer = await docker.json<{ NetworksDeleted: string[] | null }>(
    "POST",
    "/networks/prune",
    { query: { filters: labels.length ? JSON.stringify({ label: labels }) : undefined } },
  );
  return { deleted: answer.NetworksDeleted ?? [] };
}
