/**
 * HostConfig settings of the newer compose keys, as the CLI sets them at container create:
 * deploy.resources (outside swarm mode), tmpfs mounts with size and mode, service tmpfs:.
 * plan.ts spreads them into the create body.
 */
import type { ServiceSpec, VolumeMount } from "./types.ts";

/** Memory, NanoCpus, PidsLimit and MemoryReservation, each only when the file sets it. */
export function resourceConfig(service: ServiceSpec): Record<string, number> {
  const r = service.resources;
  if (!r) return {};
  return {
    ...(r.memory_bytes ? { Memory: r.memory_bytes } : {}),
    ...(r.nano_cpus ? { NanoCpus: r.nano_cpus } : {}),
    ...(r.pids ? { PidsLimit: r.pids } : {}),
    ...(r.memory_reservation_bytes ? { MemoryReservation: r.memory_reservation_bytes } : {}),
  };
}

/** Service-level `tmpfs:` ("PATH[:OPTIONS]") in HostConfig.Tmpfs form. */
export function serviceTmpfs(service: ServiceSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of service.tmpfs ?? []) {
    const colon = entry.indexOf(":");
    if (colon < 0) out[entry] = "";
    else out[entry.slice(0, colon)] = entry.slice(colon + 1);
  }
  return out;
}

/** A long-syntax tmpfs volume: a tmpfs Mount (with its size and mode), as the CLI creates it. */
export function tmpfsMount(
  volume: Extract<VolumeMount, { type: "tmpfs" }>,
): Record<string, unknown> {
  const options = {
    ...(volume.size_bytes !== undefined ? { SizeBytes: volume.size_bytes } : {}),
    ...(volume.mode !== undefined ? { Mode: volume.mode } : {}),
  };
  return {
    Type: "tmpfs",
    Target: volume.target,
    ...(Object.keys(options).length ? { TmpfsOptions: options } : {}),
  };
}
