/**
 * docker.update: moves one container onto the newest image of its tag (or onto another tag
 * of the same repository). It pulls through docker.pull (stored credentials, its own audit
 * row), recreates the container with its exact configuration on the new image, starts it if
 * it was running and watches that it stays up for a moment. A new container that cannot
 * start or exits at once is removed and the old one, set aside under a temporary name until
 * then, gets its name and running state back: the answer then says `rolled_back`.
 */
import type { DockerClient } from "../docker/client.ts";
import {
  connectContainer,
  createContainer,
  inspectContainer,
  removeContainer,
  renameContainer,
  startContainer,
  stopContainer,
  unpauseContainer,
} from "../docker/containers.ts";
import { DockerError } from "../docker/errors.ts";
import { inspectImage } from "../docker/images.ts";
import { recreatePlan } from "../docker/recreate.ts";
import { parseReference } from "../docker/reference.ts";
import type { ContainerInspect } from "../docker/types.ts";
import { HttpError, ValidationError } from "../errors.ts";
import type { PullResult } from "../sysctl/handlers/images.ts";
import type { Dispatcher, HandlerContext, Handlers } from "../sysctl/dispatch.ts";

/** How long a new container must keep running before the update counts as done. */
export const SETTLE_MS = 2_000;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

export interface UpdateApplied {
  outcome: "updated" | "up_to_date" | "rolled_back";
  /** The container now in place (the new one, or the old one after a rollback). */
  id: string;
  previous_id: string;
  name: string;
  old_image: string;
  new_image: string;
  old_digest: string | null;
  new_digest: string | null;
  old_image_id: string;
  new_image_id: string;
  running: boolean;
  /** Why the new container was given up (rolled_back only). */
  reason?: string;
}

export interface ApplyDeps {
  docker: DockerClient;
  dispatcher: () => Dispatcher;
  settleMs?: number;
}

export function updateApplyHandlers(deps: ApplyDeps): Handlers {
  return {
    "docker.update": (context) => applyUpdate(deps, context),
  };
}

/** `image` with its tag (and any digest) replaced by `tag`. */
export function withTag(image: string, tag: string): string {
  const name = image.split("@")[0];
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  return `${colon > slash ? name.slice(0, colon) : name}:${tag}`;
}

function digestFor(repoDigests: string[] | null | undefined, repository: string): string | null {
  for (const entry of repoDigests ?? []) {
    try {
      const parsed = parseReference(entry);
      if (parsed.repository === repository && parsed.digest) return parsed.digest;
    } catch {
      // An entry the Engine wrote in a form we do not read names no digest of ours.
    }
  }
  return null;
}

function nameOf(info: ContainerInspect): string {
  return info.Name.replace(/^\//, "");
}

async function applyUpdate(deps: ApplyDeps, context: HandlerContext): Promise<UpdateApplied> {
  const { docker } = deps;
  for (const key of Object.keys(context.params)) {
    if (key !== "tag") throw new ValidationError(`Unknown field "${key.slice(0, 64)}"`, key);
  }
  const tag = context.params.tag;
  if (tag !== undefined && (typeof tag !== "string" || !TAG_RE.test(tag))) {
    throw new ValidationError("tag must be an image tag such as 1.25.3", "tag");
  }

  const info = await inspectContainer(docker, context.target).catch((error) => {
    if (error instanceof DockerError && error.daemonStatus === 404) {
      throw new HttpError(404, `No such container: ${context.target.slice(0, 64)}`);
    }
    throw error;
  });
  const oldImage = updatableImage(info);
  if (parseReference(oldImage).digest && tag === undefined) {
    throw new HttpError(
      409,
      `Container "${
        nameOf(info)
      }" is pinned to a digest, so it is never behind; choose a tag to move to`,
    );
  }
  const newImage = tag === undefined ? oldImage : withTag(oldImage, tag);
  const pulled = await pullAs(deps, context, newImage);
  const result = await updateContainerTo(deps, context, info, newImage, pulled);
  if (result.outcome === "updated") {
    // The stored check result then describes the new container; a failed check changes nothing.
    await deps.dispatcher().dispatch({
      verb: "docker.updates.check",
      target: result.id,
      params: { containers: [result.id] },
      actor: context.actor,
    }).catch(() => {});
  }
  return result;
}

/** The container's image reference, or a 409 when it cannot be updated at all. */
export function updatableImage(info: ContainerInspect): string {
  const name = nameOf(info);
  if (info.HostConfig.AutoRemove) {
    throw new HttpError(
      409,
      `Container "${name}" is removed when it stops (--rm), so it cannot be updated`,
    );
  }
  const image = info.Config.Image;
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(image)) {
    throw new HttpError(
      409,
      `Container "${name}" was created from an image id, which has no newer version`,
    );
  }
  return image;
}

/** Pulls through docker.pull (its own audit row, the stored credentials). */
export async function pullAs(
  deps: ApplyDeps,
  context: HandlerContext,
  image: string,
): Promise<PullResult> {
  context.progress({ status: `Pulling ${image}` });
  return await deps.dispatcher().dispatch<PullResult>({
    verb: "docker.pull",
    target: image,
    params: { reference: image },
    actor: context.actor,
    requestId: crypto.randomUUID(),
    progress: context.progress,
  });
}

/**
 * Recreates `info` on `newImage` (already pulled) with its exact configuration, or answers
 * up_to_date when it already runs that image; rolls back when the new one does not keep
 * running.
 */
export async function updateContainerTo(
  deps: ApplyDeps,
  context: HandlerContext,
  info: ContainerInspect,
  newImage: string,
  pulled: PullResult,
): Promise<UpdateApplied> {
  const { docker } = deps;
  const name = nameOf(info);
  const oldImage = info.Config.Image;
  const oldImageInfo = await inspectImage(docker, info.Image).catch(() => undefined);
  const oldDigest = digestFor(oldImageInfo?.RepoDigests, parseReference(oldImage).repository);
  const wasRunning = info.State.Running || info.State.Restarting;
  const answer = (
    outcome: UpdateApplied["outcome"],
    id: string,
    running: boolean,
    reason?: string,
  ): UpdateApplied => ({
    outcome,
    id,
    previous_id: info.Id,
    name,
    old_image: oldImage,
    new_image: newImage,
    old_digest: oldDigest,
    new_digest: pulled.digest,
    old_image_id: info.Image,
    new_image_id: pulled.image_id,
    running,
    ...(reason ? { reason } : {}),
  });
  if (pulled.image_id === info.Image && newImage === oldImage) {
    return answer("up_to_date", info.Id, wasRunning);
  }

  context.progress({ status: `Recreating ${name} on ${newImage}` });
  const plan = recreatePlan(info, { image: newImage });
  const asideName = `${name.slice(0, 100)}-updating-${crypto.randomUUID().slice(0, 8)}`;
  let newId: string | undefined;
  let aside = false;
  const rollBack = async (reason: string): Promise<UpdateApplied> => {
    context.progress({ status: `Rolling back ${name} to ${oldImage}: ${reason}` });
    try {
      if (newId) await removeContainer(docker, newId, { force: true });
      if (aside) await renameContainer(docker, info.Id, name);
      if (wasRunning) await startContainer(docker, info.Id);
    } catch (error) {
      throw new HttpError(
        500,
        `Updating container "${name}" failed (${reason}) and so did putting the old one back ` +
          `(${aside ? `it is named "${asideName}"` : "it keeps its name"}): ${
            error instanceof Error ? error.message : String(error)
          }`,
      );
    }
    return answer("rolled_back", info.Id, wasRunning, reason);
  };

  try {
    if (info.State.Paused) await unpauseContainer(docker, info.Id);
    // The container's own stop timeout (compose's stop_grace_period) when it has one.
    const stopTimeout = (info.Config as { StopTimeout?: number }).StopTimeout;
    if (wasRunning) await stopContainer(docker, info.Id, stopTimeout ?? 10);
    await renameContainer(docker, info.Id, asideName);
    aside = true;
    newId = (await createContainer(docker, plan.body, name)).Id;
    for (const { network, endpoint } of plan.connect) {
      await connectContainer(docker, network, newId, endpoint);
    }
    if (wasRunning) await startContainer(docker, newId);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return await rollBack(
      `the new container could not be ${newId ? "started" : "created"}: ${message}`,
    );
  }

  if (wasRunning) {
    context.progress({ status: `Checking that ${name} keeps running` });
    await new Promise((resolve) => setTimeout(resolve, deps.settleMs ?? SETTLE_MS));
    const fresh = await inspectContainer(docker, newId).catch(() => undefined);
    const state = fresh?.State;
    // A restart policy brings a crashing container back, so a restart counts as an exit.
    if (!state?.Running || state.Restarting || (fresh?.RestartCount ?? 0) > 0) {
      const how = state ? `it exited at once (exit code ${state.ExitCode})` : "it disappeared";
      return await rollBack(how);
    }
  }
  await removeContainer(docker, info.Id, { force: true });
  return answer("updated", newId, wasRunning);
}
