/**
 * docker.network.create / rm / prune / connect / disconnect. Subnets are checked here
 * (CIDR, gateway and IP range inside the subnet, no overlap with any existing network) and
 * names in use refused, before the Engine is asked; the built-in networks are never
 * removed, and a network with containers is not removed while they are attached.
 */
import type { DockerClient } from "../../docker/client.ts";
import { DockerError } from "../../docker/errors.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import {
  type Cidr,
  contains,
  overlaps,
  parseCidr,
  parseIpv4,
  parseIpv6,
} from "../../docker/cidr.ts";
import { inspectContainer } from "../../docker/containers.ts";
import {
  attachedTo,
  BUILT_IN_NETWORKS,
  connectNetwork,
  createNetwork,
  disconnectNetwork,
  type EngineNetwork,
  inspectNetwork,
  type IpamConfig,
  listContainersWithNetworks,
  listNetworks,
  networkView,
  onNetwork,
  pruneNetworks,
  removeNetwork,
} from "../../docker/networks.ts";
import {
  containerField,
  labelFilters,
  networkRef,
  newObjectName,
  onlyFields,
  stringMap,
} from "../../docker/validate.ts";
import type { Handlers } from "../dispatch.ts";

export const NETWORK_CREATE_FIELDS = [
  "name",
  "driver",
  "subnet",
  "gateway",
  "ip_range",
  "internal",
  "attachable",
  "ipv6",
  "ipv6_subnet",
  "ipv6_gateway",
  "parent",
  "labels",
] as const;

const DRIVERS = ["bridge", "macvlan"];
const ALIAS_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const INTERFACE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.:@-]{0,14}$/;

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new ValidationError(`${field} must be a string`, field);
  return value.trim();
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") {
    throw new ValidationError(`${field} must be true or false`, field);
  }
  return value;
}

function subnetOf(text: string, field: string, family: 4 | 6): Cidr {
  const parsed = parseCidr(text);
  if ("error" in parsed) throw new ValidationError(`${field}: ${parsed.error}`, field);
  if (parsed.family !== family) {
    throw new ValidationError(`${field} must be an IPv${family} subnet`, field);
  }
  return parsed;
}

/** A gateway inside its subnet, not the subnet's own network address. */
function gatewayIn(text: string, subnet: Cidr, field: string) {
  const value = subnet.family === 4 ? parseIpv4(text) : parseIpv6(text);
  if (value === null) {
    throw new ValidationError(
      `${field} "${text.slice(0, 64)}" is not an IPv${subnet.family} address`,
      field,
    );
  }
  if (!contains(subnet, { family: subnet.family, value }) || value === subnet.network) {
    throw new ValidationError(`${field} ${text} is not a host address in ${subnet.text}`, field);
  }
}

/** The subnets of existing networks, for the overlap check. */
function existingSubnets(networks: EngineNetwork[]) {
  const out: { network: string; cidr: Cidr }[] = [];
  for (const network of networks) {
    for (const config of network.IPAM?.Config ?? []) {
      if (!config.Subnet) continue;
      const cidr = parseCidr(config.Subnet);
      if (!("error" in cidr)) out.push({ network: network.Name, cidr });
    }
  }
  return out;
}

/** The Engine answers 403 for an operation the object does not allow: a conflict to our caller. */
async function engineConflicts<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 403) {
      throw new HttpError(409, error.message);
    }
    throw error;
  }
}

export function networkHandlers(docker: DockerClient): Handlers {
  return {
    "docker.network.create": async ({ params }) => {
      onlyFields(params, NETWORK_CREATE_FIELDS);
      if (params.name === undefined || params.name === "") {
        throw new ValidationError("name is required", "name");
      }
      const name = newObjectName(params.name, "network");
      const driver = params.driver === undefined || params.driver === "" ? "bridge" : params.driver;
      if (typeof driver !== "string" || !DRIVERS.includes(driver)) {
        throw new ValidationError(`driver must be one of ${DRIVERS.join(", ")}`, "driver");
      }
      const subnetText = optionalString(params.subnet, "subnet");
      const gateway = optionalString(params.gateway, "gateway");
      const ipRange = optionalString(params.ip_range, "ip_range");
      const ipv6 = flag(params.ipv6, "ipv6");
      const subnet6Text = optionalString(params.ipv6_subnet, "ipv6_subnet");
      const gateway6 = optionalString(params.ipv6_gateway, "ipv6_gateway");
      const parent = optionalString(params.parent, "parent");
      const labels = stringMap(params.labels, "labels");
      const internal = flag(params.internal, "internal");
      const attachable = flag(params.attachable, "attachable");

      const ipam: IpamConfig[] = [];
      const wanted: Cidr[] = [];
      if (subnetText) {
        const subnet = subnetOf(subnetText, "subnet", 4);
        if (gateway) gatewayIn(gateway, subnet, "gateway");
        if (ipRange) {
          const range = subnetOf(ipRange, "ip_range", 4);
          if (range.prefix < subnet.prefix || !overlaps(range, subnet)) {
            throw new ValidationError(
              `ip_range ${ipRange} is not inside ${subnetText}`,
              "ip_range",
            );
          }
        }
        wanted.push(subnet);
        ipam.push({ Subnet: subnetText, Gateway: gateway, IPRange: ipRange });
      } else if (gateway || ipRange) {
        throw new ValidationError(
          `${gateway ? "gateway" : "ip_range"} needs a subnet`,
          gateway ? "gateway" : "ip_range",
        );
      }
      if (ipv6) {
        if (!subnet6Text) {
          throw new ValidationError(
            "IPv6 needs an IPv6 subnet (e.g. fd00:31:250::/64)",
            "ipv6_subnet",
          );
        }
        const subnet6 = subnetOf(subnet6Text, "ipv6_subnet", 6);
        if (gateway6) gatewayIn(gateway6, subnet6, "ipv6_gateway");
        wanted.push(subnet6);
        ipam.push({ Subnet: subnet6Text, Gateway: gateway6 });
      } else if (subnet6Text || gateway6) {
        throw new ValidationError("Set ipv6 to use an IPv6 subnet", "ipv6");
      }
      if (parent !== undefined) {
        if (driver !== "macvlan") {
          throw new ValidationError("parent is for macvlan networks", "parent");
        }
        if (!INTERFACE_RE.test(parent)) {
          throw new ValidationError(
            `parent "${parent.slice(0, 32)}" is not an interface name`,
            "parent",
          );
        }
      }

      const networks = await listNetworks(docker);
      const taken = networks.find((network) => network.Name === name);
      if (taken) throw new HttpError(409, `A network named ${name} already exists`, "name");
      for (const cidr of wanted) {
        const clash = existingSubnets(networks).find((existing) => overlaps(existing.cidr, cidr));
        if (clash) {
          const field = cidr.family === 4 ? "subnet" : "ipv6_subnet";
          throw new HttpError(
            409,
            `${cidr.text} overlaps ${clash.cidr.text} of network ${clash.network}`,
            field,
          );
        }
      }
      const created = await engineConflicts(() =>
        createNetwork(docker, {
          Name: name,
          CheckDuplicate: true,
          Driver: driver,
          Internal: internal,
          Attachable: attachable,
          EnableIPv6: ipv6,
          IPAM: { Driver: "default", Config: ipam },
          Options: parent ? { parent } : {},
          Labels: labels,
        })
      );
      return { network: networkView(await inspectNetwork(docker, created.Id), []) };
    },

    "docker.network.rm": async ({ target }) => {
      const network = await inspectNetwork(docker, networkRef(target));
      if (BUILT_IN_NETWORKS.has(network.Name)) {
        throw new HttpError(403, `${network.Name} is a built-in network and cannot be removed`);
      }
      const attached = attachedTo(network, await listContainersWithNetworks(docker));
      if (attached.length) {
        throw new HttpError(
          409,
          `Network ${network.Name} has ${
            attached.length === 1 ? "a container" : "containers"
          } attached: ${
            attached.map((c) => `${c.name} (${c.state})`).join(", ")
          }; disconnect or remove ${attached.length === 1 ? "it" : "them"} first`,
        );
      }
      await engineConflicts(() => removeNetwork(docker, network.Id));
      return { removed: network.Name, id: network.Id };
    },

    "docker.network.prune": async ({ params }) => {
      onlyFields(params, ["labels"]);
      return await pruneNetworks(docker, labelFilters(params.labels));
    },

    "docker.network.connect": async ({ target, params }) => {
      onlyFields(params, ["container", "aliases", "ipv4"]);
      const network = await inspectNetwork(docker, networkRef(target));
      const container = await inspectContainer(docker, containerField(params.container));
      const containerName = container.Name.replace(/^\//, "");
      const aliases = params.aliases ?? [];
      if (
        !Array.isArray(aliases) || aliases.length > 16 ||
        !aliases.every((alias) => typeof alias === "string" && ALIAS_RE.test(alias))
      ) {
        throw new ValidationError("aliases must be up to 16 host names", "aliases");
      }
      const ipv4 = optionalString(params.ipv4, "ipv4") ?? null;
      if (ipv4 !== null) {
        const value = parseIpv4(ipv4);
        if (value === null) {
          throw new ValidationError(`ipv4 "${ipv4.slice(0, 64)}" is not an IPv4 address`, "ipv4");
        }
        const subnets = (network.IPAM?.Config ?? []).flatMap((config) => {
          const cidr = config.Subnet ? parseCidr(config.Subnet) : null;
          return cidr && !("error" in cidr) && cidr.family === 4 ? [cidr] : [];
        });
        if (!subnets.length || BUILT_IN_NETWORKS.has(network.Name)) {
          throw new ValidationError(
            `A fixed address needs a network created with a subnet; ${network.Name} has none of its own`,
            "ipv4",
          );
        }
        if (!subnets.some((cidr) => contains(cidr, { family: 4, value }))) {
          throw new ValidationError(
            `ipv4 ${ipv4} is not in ${subnets.map((cidr) => cidr.text).join(", ")}`,
            "ipv4",
          );
        }
      }
      if (
        Object.entries(container.NetworkSettings.Networks ?? {}).some(([key, n]) =>
          onNetwork(network, key, n)
        )
      ) {
        throw new HttpError(
          409,
          `Container ${containerName} is already connected to ${network.Name}`,
          "container",
        );
      }
      await engineConflicts(() =>
        connectNetwork(docker, network.Id, container.Id, { aliases: aliases as string[], ipv4 })
      );
      return { network: network.Name, container: containerName };
    },

    "docker.network.disconnect": async ({ target, params }) => {
      onlyFields(params, ["container"]);
      const network = await inspectNetwork(docker, networkRef(target));
      const container = await inspectContainer(docker, containerField(params.container));
      const containerName = container.Name.replace(/^\//, "");
      if (
        !Object.entries(container.NetworkSettings.Networks ?? {}).some(([key, n]) =>
          onNetwork(network, key, n)
        )
      ) {
        throw new HttpError(
          409,
          `Container ${containerName} is not connected to ${network.Name}`,
          "container",
        );
      }
      await engineConflicts(() => disconnectNetwork(docker, network.Id, container.Id));
      return { network: network.Name, container: containerName };
    },
  };
}
