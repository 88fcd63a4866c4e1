/**
 * One read of the Engine's state that a plan is computed from: the project's containers,
 * the networks and volumes by name, and which of the file's images are present. The
 * preview and the deploy both read it here, so they decide from the same facts.
 */
import type { DockerClient } from "../docker/client.ts";
import { DockerError } from "../docker/errors.ts";
import { inspectImage } from "../docker/images.ts";
import type { PlanContainer, PlanFacts } from "./plan.ts";
import { listProjectContainers } from "./stacks.ts";
import type { ComposeProject } from "./types.ts";

/** Whether the image is present (an inspect, so tags and digests alike resolve). */
export async function hasImage(docker: DockerClient, image: string) {
  try {
    await inspectImage(docker, image);
    return true;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return false;
    throw error;
  }
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function readPlanFacts(
  docker: DockerClient,
  project: ComposeProject,
): Promise<PlanFacts> {
  const images = [...new Set(project.services.map((service) => service.image))];
  const [containers, networks, local, volumes] = await Promise.all([
    listProjectContainers(docker, project.name) as Promise<PlanContainer[]>,
    Object.keys(project.networks).length ? docker.json<{ Name: string }[]>("GET", "/networks") : [],
    // A few inspects at a time, however many services the file has.
    mapLimited(images, 4, async (image) => [image, await hasImage(docker, image)] as const),
    // By name, whatever their labels: external volumes and unlabelled `<project>_x` ones.
    Object.keys(project.volumes).length
      ? docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes")
      : { Volumes: [] },
  ]);
  const present = new Map(local);
  const networkNames = new Set(networks.map((network) => network.Name));
  const volumeNames = new Set((volumes.Volumes ?? []).map((volume) => volume.Name));
  return {
    containers,
    hasImage: (image) => present.get(image) === true,
    networkExists: (name) => networkNames.has(name),
    volumeExists: (name) => volumeNames.has(name),
  };
}
