/** docker.run / start / stop / restart / rm: container lifecycle, answering with the new state. */
import type { DockerClient } from "../../docker/client.ts";
import {
  createContainer,
  inspectContainer,
  removeContainer,
  restartContainer,
  startContainer,
  stopContainer,
} from "../../docker/containers.ts";
import { inspectImage } from "../../docker/images.ts";
import { removeVolume, volumeExists } from "../../docker/volumes.ts";
import { DockerError } from "../../docker/errors.ts";
import { createBody, parseRunSpec } from "../../docker/run_spec.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { describeRisks, risksOf } from "../../risks.ts";
import type { Dispatcher, HandlerContext, Handlers } from "../dispatch.ts";

async function stateOf(docker: DockerClient, ref: string) {
  const info = await inspectContainer(docker, ref);
  return { id: info.Id, name: info.Name.replace(/^\//, ""), state: info.State.Status };
}

/**
 * Creates and starts a container. Nothing half-made is left behind: a container that was
 * created but failed to start (a port already taken, say) is removed again, with the named
 * volumes its creation made.
 */
async function run(
  docker: DockerClient,
  context: HandlerContext,
  managedLabel: string,
  dispatcher: () => Dispatcher,
) {
  const spec = parseRunSpec(context.params);
  // The same rules and the same acknowledgement as a compose deploy, before the Engine.
  const risks = risksOf({ binds: spec.binds.map((bind) => bind.split(":")[0]) });
  if (risks.length && context.params.acknowledge_risks !== true) {
    throw new ValidationError(
      `This container has risky settings; run it with acknowledge_risks: ${describeRisks(risks)}`,
      "acknowledge_risks",
    );
  }
  try {
    await inspectImage(docker, spec.image);
  } catch (error) {
    if (!(error instanceof DockerError && error.daemonStatus === 404)) throw error;
    // Absent: pull it through the same (audited) path as the Images tab, stored
    // credentials and progress included.
    try {
      await dispatcher().dispatch({
        verb: "docker.pull",
        target: spec.image,
        params: { reference: spec.image },
        actor: context.actor,
        requestId: context.requestId,
        progress: context.progress,
      });
    } catch (pullError) {
      const reason = pullError instanceof Error ? pullError.message : String(pullError);
      throw new HttpError(
        404,
        `Image "${spec.image}" is not on this node and pulling it failed: ${reason}`,
        "image",
      );
    }
  }
  // Creating the container creates the named volumes it mounts that do not exist yet.
  const newVolumes: string[] = [];
  for (const source of new Set(spec.binds.map((bind) => bind.split(":")[0]))) {
    if (!source.startsWith("/") && !(await volumeExists(docker, source))) newVolumes.push(source);
  }
  let created: { Id: string; Warnings: string[] | null };
  try {
    created = await createContainer(
      docker,
      createBody(spec, { [managedLabel]: "true" }),
      spec.name,
    );
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 409) {
      throw new HttpError(409, error.message, "name");
    }
    if (error instanceof DockerError && error.daemonStatus === 400) {
      throw new HttpError(400, error.message);
    }
    throw error;
  }
  try {
    await startContainer(docker, created.Id);
  } catch (error) {
    await removeContainer(docker, created.Id, { force: true, volumes: true }).catch(() => {});
    for (const volume of newVolumes) await removeVolume(docker, volume).catch(() => {});
    throw error;
  }
  return { ...await stateOf(docker, created.Id), warnings: created.Warnings ?? [] };
}

export function containerHandlers(
  docker: DockerClient,
  managedLabel: string,
  dispatcher: () => Dispatcher,
): Handlers {
  return {
    "docker.run": (context) => run(docker, context, managedLabel, dispatcher),
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
