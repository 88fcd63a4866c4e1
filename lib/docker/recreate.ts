/**
 * Recreate: the create body that gives a new container the same full configuration as an
 * existing one (every field the Engine returned at inspect), and the networks to connect it
 * to after creation (API 1.41 takes one network at create).
 */
import type { ContainerCreateBody, ContainerInspect } from "./types.ts";

export interface RecreatePlan {
  body: ContainerCreateBody;
  /** Networks beyond the one in the create body, each with its endpoint settings. */
  connect: { network: string; endpoint: Record<string, unknown> }[];
}

/** The endpoint settings a container was given, without what the Engine derived itself. */
function endpointOf(
  endpoint: NonNullable<ContainerInspect["NetworkSettings"]["Networks"]>[string],
  shortId: string,
): Record<string, unknown> {
  // The Engine adds the container's short id as an alias on user-defined networks.
  const aliases = (endpoint.Aliases ?? []).filter((alias) => alias !== shortId);
  const ipam = endpoint.IPAMConfig;
  return {
    ...(aliases.length ? { Aliases: aliases } : {}),
    ...(ipam && (ipam.IPv4Address || ipam.IPv6Address || ipam.LinkLocalIPs?.length)
      ? { IPAMConfig: ipam }
      : {}),
    ...(endpoint.Links?.length ? { Links: endpoint.Links } : {}),
    ...(endpoint.DriverOpts ? { DriverOpts: endpoint.DriverOpts } : {}),
  };
}

/**
 * `image` replaces the image reference (an image update moving to a newer tag); every other
 * field stays as it was.
 */
export function recreatePlan(
  info: ContainerInspect,
  options: { image?: string } = {},
): RecreatePlan {
  const shortId = info.Id.slice(0, 12);
  const config: Record<string, unknown> = { ...info.Config };
  // A hostname the Engine derived from the old id would otherwise outlive it.
  if (config.Hostname === shortId) delete config.Hostname;
  const hostConfig: Record<string, unknown> = { ...info.HostConfig };

  // Anonymous volumes keep their data: mount the same volume at the same place.
  const targets = new Set<string>([
    ...(info.HostConfig.Binds ?? []).map((bind) => bind.split(":")[1]),
    ...((info.HostConfig.Mounts ?? []) as { Target?: string }[]).map((mount) => mount.Target ?? ""),
  ]);
  const anonymous = info.Mounts.filter((mount) =>
    mount.Type === "volume" && mount.Name && !targets.has(mount.Destination)
  );
  if (anonymous.length) {
    hostConfig.Mounts = [
      ...((info.HostConfig.Mounts ?? []) as unknown[]),
      ...anonymous.map((mount) => ({
        Type: "volume",
        Source: mount.Name,
        Target: mount.Destination,
        ReadOnly: !mount.RW,
      })),
    ];
  }

  const mode = String(info.HostConfig.NetworkMode ?? "default");
  const networks = Object.entries(info.NetworkSettings.Networks ?? {});
  const sharesStack = mode === "host" || mode === "none" || mode.startsWith("container:");
  const connect: RecreatePlan["connect"] = [];
  let endpoints: Record<string, unknown> = {};
  if (!sharesStack && networks.length) {
    const primaryName = mode === "default" ? "bridge" : mode;
    const primary = networks.find(([name]) => name === primaryName) ?? networks[0];
    endpoints = { [primary[0]]: endpointOf(primary[1], shortId) };
    for (const [name, endpoint] of networks) {
      if (name !== primary[0]) {
        connect.push({ network: name, endpoint: endpointOf(endpoint, shortId) });
      }
    }
  }
  return {
    body: {
      ...config,
      Image: options.image ?? info.Config.Image,
      HostConfig: hostConfig,
      NetworkingConfig: { EndpointsConfig: endpoints },
    } as ContainerCreateBody,
    connect,
  };
}
