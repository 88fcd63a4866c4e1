/** docker.start / stop / restart / rm: container lifecycle, answering with the new state. */
import type { DockerClient } from "../../docker/client.ts";
import {
  inspectContainer,
  removeContainer,
  restartContainer,
  startContainer,
  stopContainer,
} from "../../docker/containers.ts";
import type { Handlers } from "../dispatch.ts";

async function stateOf(docker: DockerClient, ref: string) {
  const info = await inspectContainer(docker, ref);
  return { id: info.Id, name: info.Name.replace(/^\//, ""), state: info.State.Status };
}

export function containerHandlers(docker: DockerClient): Handlers {
  return {
    "docker.start": async ({ target }) => {
      await startContainer(docker, target);
      return await stateOf(docker, target);
    },
    "docker.stop": async ({ target }) => {
      await stopContainer(docker, target);
      return await stateOf(docker, target);
    },
    "docker.restart": async ({ target }) => {
      await restartContainer(docker, target);
      return await stateOf(docker, target);
    },
    "docker.rm": async ({ target, params }) => {
      await removeContainer(docker, target, { force: true, volumes: params.volumes === true });
      return { removed: target };
    },
  };
}
