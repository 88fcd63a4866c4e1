/**
 * docker.run / start / stop / restart / rm / pause / unpause / kill / rename /
 * container.update / recreate: container lifecycle and operations, answering with the new
 * state. Refusals name the container by its name, never only by its id.
 */
import type { DockerClient } from "../../docker/client.ts";
import {
  connectContainer,
  createContainer,
  inspectContainer,
  killContainer,
  pauseContainer,
  removeContainer,
  renameContainer,
  restartContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
  updateContainer,
} from "../../docker/containers.ts";
import type { ContainerInspect } from "../../docker/types.ts";
import { parseUpdate, signalName } from "../../docker/limits.ts";
import { recreatePlan } from "../../docker/recreate.ts";
import { containerName } from "../../docker/validate.ts";
import { inspectImage } from "../../docker/images.ts";
import { removeVolume, volumeExists } from "../../docker/volumes.ts";
import { inspectNetwork } from "../../docker/networks.ts";
import { explainEngineError } from "../../docker/error_text.ts";
import { DockerError } from "../../docker/errors.ts";
import { createBody, parseRunSpec } from "../../docker/run_spec.ts";
import { CREATED_BY_LABEL, CREATED_BY_PANEL } from "../../docker/views.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { describeRisks, risksOf } from "../../risks.ts";
import type { Dispatcher, HandlerContext, Handlers } from "../dispatch.ts";

async function stateOf(docker: DockerClient, ref: string) {
  const info = await inspectContainer(docker, ref);
  return { id: info.Id, name: nameOf(info), state: info.State.Status };
}

function nameOf(info: Pick<ContainerInspect, "Name">): string {
  return info.Name.replace(/^\//, "");
}

/** The container, or a 404 naming what was asked for. */
async function find(docker: DockerClient, ref: string): Promise<ContainerInspect> {
  try {
    return await inspectContainer(docker, ref);
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) {
      throw new HttpError(404, `No container "${ref.slice(0, 128)}"`, "id");
    }
    throw error;
  }
}

/** The Engine's message with container ids (full or short) replaced by the name. */
function named(error: unknown, info: Pick<ContainerInspect, "Id" | "Name">): unknown {
  if (!(error instanceof DockerError)) return error;
  const message = error.message
    .replaceAll(info.Id, `"${nameOf(info)}"`)
    .replaceAll(info.Id.slice(0, 12), `"${nameOf(info)}"`)
    .replace(/\b[0-9a-f]{64}\b/g, (id) => `${id.slice(0, 12)}`);
  return new HttpError(error.status, message);
}

/** Runs an operation on one container, with its refusals naming it. */
async function onContainer<T>(
  docker: DockerClient,
  ref: string,
  operation: (info: ContainerInspect) => Promise<T>,
): Promise<T> {
  const info = await find(docker, ref);
  try {
    return await operation(info);
  } catch (error) {
    throw named(error, info);
  }
}

function refuse(info: ContainerInspect, problem: string): never {
  throw new HttpError(409, `Container "${nameOf(info)}" ${problem}`, "id");
}

/**
 * Creates and starts a container. Nothing half-made is left behind: a container that was
 * created but failed to start (a port already taken, say) is removed again, with the named
 * volumes its creation made.
 */
async function run(
  docker: DockerClient,
  context: HandlerContext,
  dispatcher: () => Dispatcher,
) {
  const spec = parseRunSpec(context.params);
  // The same rules and the same acknowledgement as a compose deploy, before the Engine.
  const risks = risksOf({
    binds: spec.binds.map((bind) => bind.split(":")[0]),
    capAdd: spec.capAdd,
    privileged: spec.privileged,
    devices: spec.devices.map((device) => device.PathOnHost),
  });
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
  // The Engine finds out that a network is missing only at start: ask first.
  for (const [i, network] of spec.networks.entries()) {
    try {
      await inspectNetwork(docker, network.name);
    } catch (error) {
      if (error instanceof DockerError && error.daemonStatus === 404) {
        throw new ValidationError(
          `networks[${i}]: there is no network "${network.name}"`,
          `networks[${i}]`,
        );
      }
      throw error;
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
      createBody(spec, { [CREATED_BY_LABEL]: CREATED_BY_PANEL }),
      spec.name,
    );
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 409 && spec.name) {
      const holder = await inspectContainer(docker, spec.name).catch(() => null);
      throw new HttpError(
        409,
        holder
          ? `The name "${spec.name}" is already in use by container "${nameOf(holder)}"`
          : error.message,
        "name",
      );
    }
    if (error instanceof DockerError && error.daemonStatus === 400) {
      throw new HttpError(400, error.message);
    }
    throw error;
  }
  try {
    for (const [i, network] of spec.networks.entries()) {
      if (i === 0) continue;
      await connectContainer(
        docker,
        network.name,
        created.Id,
        network.aliases.length ? { Aliases: network.aliases } : {},
      );
    }
    await startContainer(docker, created.Id);
  } catch (error) {
    await removeContainer(docker, created.Id, { force: true, volumes: true }).catch(() => {});
    for (const volume of newVolumes) await removeVolume(docker, volume).catch(() => {});
    throw await explainEngineError(docker, error, created.Id);
  }
  return { ...await stateOf(docker, created.Id), warnings: created.Warnings ?? [] };
}

/** Longest stop timeout accepted (a day): the request waits for it. */
const MAX_STOP_TIMEOUT_S = 86_400;

function stopTimeout(value: unknown): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
    value > MAX_STOP_TIMEOUT_S
  ) {
    throw new ValidationError(
      `timeout must be a whole number of seconds from 0 to ${MAX_STOP_TIMEOUT_S}`,
      "timeout",
    );
  }
  return value;
}

/** A container's StopTimeout as the Engine reports it (unset: the Engine's 10 s). */
function ownStopTimeout(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0
    ? Math.min(value, MAX_STOP_TIMEOUT_S)
    : 10;
}

export function containerHandlers(
  docker: DockerClient,
  dispatcher: () => Dispatcher,
): Handlers {
  return {
    "docker.run": (context) => run(docker, context, dispatcher),
    "docker.start": async ({ target }) => {
      await startContainer(docker, target).catch(async (error) => {
        throw await explainEngineError(docker, error, target);
      });
      return await stateOf(docker, target);
    },
    // `timeout` (seconds, as `docker stop -t`): compose passes a service's stop_grace_period.
    // Without it the container's own StopTimeout applies, else the Engine's 10 s.
    "docker.stop": async ({ target, params }) => {
      const timeout = params.timeout === undefined
        ? ownStopTimeout((await inspectContainer(docker, target)).Config.StopTimeout)
        : stopTimeout(params.timeout);
      await stopContainer(docker, target, timeout);
      return await stateOf(docker, target);
    },
    // Like docker.stop: the given timeout, else the container's own StopTimeout.
    "docker.restart": async ({ target, params }) => {
      const timeout = params.timeout === undefined
        ? ownStopTimeout((await inspectContainer(docker, target)).Config.StopTimeout)
        : stopTimeout(params.timeout);
      await restartContainer(docker, target, timeout);
      return await stateOf(docker, target);
    },
    "docker.rm": async ({ target, params }) => {
      await removeContainer(docker, target, { force: true, volumes: params.volumes === true });
      return { removed: target };
    },
    "docker.pause": ({ target }) =>
      onContainer(docker, target, async (info) => {
        if (info.State.Paused) refuse(info, "is already paused");
        if (!info.State.Running) refuse(info, "is not running");
        await pauseContainer(docker, info.Id);
        return await stateOf(docker, info.Id);
      }),
    "docker.unpause": ({ target }) =>
      onContainer(docker, target, async (info) => {
        if (!info.State.Paused) refuse(info, "is not paused");
        await unpauseContainer(docker, info.Id);
        return await stateOf(docker, info.Id);
      }),
    "docker.kill": ({ target, params }) => {
      const signal = signalName(params.signal);
      return onContainer(docker, target, async (info) => {
        if (!info.State.Running) refuse(info, "is not running");
        await killContainer(docker, info.Id, signal);
        return { ...await stateOf(docker, info.Id), signal };
      });
    },
    "docker.rename": ({ target, params }) => {
      const name = containerName(params.name);
      return onContainer(docker, target, async (info) => {
        if (name === nameOf(info)) {
          throw new ValidationError(`Container "${name}" already has that name`, "name");
        }
        const holder = await inspectContainer(docker, name).catch(() => null);
        if (holder && holder.Name === `/${name}`) {
          throw new HttpError(
            409,
            `The name "${name}" is already in use by container "${nameOf(holder)}"`,
            "name",
          );
        }
        await renameContainer(docker, info.Id, name);
        return { ...await stateOf(docker, info.Id), previous_name: nameOf(info) };
      });
    },
    "docker.container.update": ({ target, params }) => {
      const update = parseUpdate(params);
      return onContainer(docker, target, async (info) => {
        if (typeof update.Memory === "number") {
          // Swap defaults to twice the memory (as at create); an unlimited swap stays so.
          update.MemorySwap = info.HostConfig.MemorySwap === -1 ? -1 : update.Memory * 2;
        }
        if (
          update.RestartPolicy && info.HostConfig.AutoRemove &&
          (update.RestartPolicy as { Name: string }).Name !== "no"
        ) {
          throw new ValidationError(
            `Container "${
              nameOf(info)
            }" is removed when it stops (--rm), so it cannot have a restart policy`,
            "restart_policy",
          );
        }
        const result = await updateContainer(docker, info.Id, update);
        return { ...await stateOf(docker, info.Id), warnings: result.Warnings ?? [] };
      });
    },
    "docker.recreate": (context) => recreate(docker, context, dispatcher),
  };
}

/**
 * Removes a container and creates it again with the same full configuration, optionally
 * pulling its image first. The old container is stopped and set aside under a temporary
 * name until the new one runs; if anything fails, the new one is removed and the old one
 * gets its name (and its running state) back.
 */
async function recreate(
  docker: DockerClient,
  context: HandlerContext,
  dispatcher: () => Dispatcher,
) {
  for (const key of Object.keys(context.params)) {
    if (key !== "pull") throw new ValidationError(`Unknown field "${key.slice(0, 64)}"`, key);
  }
  if (context.params.pull !== undefined && typeof context.params.pull !== "boolean") {
    throw new ValidationError("pull must be true or false", "pull");
  }
  const info = await find(docker, context.target);
  const name = nameOf(info);
  if (info.HostConfig.AutoRemove) {
    refuse(info, "is removed when it stops (--rm), so it cannot be recreated");
  }
  if (context.params.pull === true) {
    const image = info.Config.Image;
    if (/^(sha256:)?[0-9a-f]{12,64}$/.test(image)) {
      throw new ValidationError(
        `Container "${name}" was created from an image id, which cannot be pulled`,
        "pull",
      );
    }
    await dispatcher().dispatch({
      verb: "docker.pull",
      target: image,
      params: { reference: image },
      actor: context.actor,
      requestId: context.requestId,
      progress: context.progress,
    });
  }
  const plan = recreatePlan(info);
  const wasRunning = info.State.Running || info.State.Restarting;
  const asideName = `${name.slice(0, 100)}-recreating-${crypto.randomUUID().slice(0, 8)}`;
  let newId: string | undefined;
  let aside = false;
  try {
    if (info.State.Paused) await unpauseContainer(docker, info.Id);
    if (wasRunning) await stopContainer(docker, info.Id);
    await renameContainer(docker, info.Id, asideName);
    aside = true;
    const created = await createContainer(docker, plan.body, name);
    newId = created.Id;
    for (const { network, endpoint } of plan.connect) {
      await connectContainer(docker, network, newId, endpoint);
    }
    if (wasRunning) await startContainer(docker, newId);
  } catch (error) {
    if (newId) await removeContainer(docker, newId, { force: true }).catch(() => {});
    if (aside) await renameContainer(docker, info.Id, name).catch(() => {});
    if (wasRunning) await startContainer(docker, info.Id).catch(() => {});
    const reason = named(error, info);
    throw new HttpError(
      statusOfError(reason),
      `Recreating container "${name}" failed, and it was left as it was: ${
        reason instanceof Error ? reason.message : String(reason)
      }`,
    );
  }
  await removeContainer(docker, info.Id, { force: true });
  return { ...await stateOf(docker, newId), previous_id: info.Id };
}

function statusOfError(error: unknown): number {
  return error instanceof HttpError ? error.status : 500;
}
