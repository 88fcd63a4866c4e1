/** Named volumes: whether one exists, and removing one. */
import type { DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import { volumeName } from "./validate.ts";

export async function volumeExists(docker: DockerClient, name: string): Promise<boolean> {
  try {
    await docker.json("GET", `/volumes/${volumeName(name)}`);
    return true;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return false;
    throw error;
  }
}

export async function removeVolume(docker: DockerClient, name: string) {
  await docker.json("DELETE", `/volumes/${volumeName(name)}`);
}
