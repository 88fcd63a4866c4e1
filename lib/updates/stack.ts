/**
 * compose.stack.update: pulls every image a compose project's services run (each reference
 * once) and updates only the containers whose image changed, each as docker.update does
 * (exact configuration, rolled back when it does not keep running). The containers keep
 * their compose labels, config hash included: the service's definition did not change, only
 * the image behind its reference, so the compose plan sees them as current afterwards.
 */
import { inspectContainer, listContainers } from "../docker/containers.ts";
import { HttpError } from "../errors.ts";
import { LABEL } from "../compose/plan.ts";
import { checkProjectName } from "../compose/stacks.ts";
import type { PullResult } from "../sysctl/handlers/images.ts";
import type { HandlerContext, Handlers } from "../sysctl/dispatch.ts";
import type { ProjectLocks } from "../compose/lock.ts";
import {
  type ApplyDeps,
  pullAs,
  updatableImage,
  type UpdateApplied,
  updateContainerTo,
} from "./apply.ts";

export interface StackUpdated {
  project: string;
  /** Services whose image changed, with what happened to each of their containers. */
  updated: { service: string; containers: UpdateApplied[] }[];
  /** Services already on the newest image of their reference. */
  unchanged: string[];
  /** Whether any container was rolled back. */
  rolled_back: boolean;
}

export function stackUpdateHandlers(deps: ApplyDeps & { locks: ProjectLocks }): Handlers {
  return {
    "compose.stack.update": async (context) => {
      if (Object.keys(context.params).length) {
        throw new HttpError(400, "A stack update takes no options");
      }
      const project = checkProjectName(context.target);
      // A mutation of the project like deploy or down: never interleaved with one.
      const release = deps.locks.acquire(project, {
        operation: "update",
        actor: context.actor.username,
      });
      try {
        return await updateStack(deps, context, project);
      } finally {
        release();
      }
    },
  };
}

async function updateStack(
  deps: ApplyDeps,
  context: HandlerContext,
  project: string,
): Promise<StackUpdated> {
  const summaries = await listContainers(deps.docker, {
    all: true,
    filters: { label: [`${LABEL.project}=${project}`] },
  });
  if (!summaries.length) throw new HttpError(404, `No containers in stack "${project}"`);
  const containers = await Promise.all(
    summaries.map((summary) => inspectContainer(deps.docker, summary.Id)),
  );
  // Locally built services (and image ids) have nothing to pull: they stay as they are.
  const services = new Map<string, typeof containers>();
  for (const info of containers) {
    const service = info.Config.Labels?.[LABEL.service] ?? "";
    services.set(service, [...services.get(service) ?? [], info]);
  }
  const pulled = new Map<string, PullResult>();
  const answer: StackUpdated = { project, updated: [], unchanged: [], rolled_back: false };
  for (const [service, infos] of [...services].sort(([a], [b]) => a.localeCompare(b))) {
    const results: UpdateApplied[] = [];
    for (const info of infos) {
      let image: string;
      try {
        image = updatableImage(info);
      } catch {
        continue;
      }
      if (!pulled.has(image)) pulled.set(image, await pullAs(deps, context, image));
      const fresh = pulled.get(image)!;
      if (fresh.image_id === info.Image) continue;
      context.progress({ status: `Updating service ${service}` });
      results.push(await updateContainerTo(deps, context, info, image, fresh));
    }
    if (results.length) {
      answer.updated.push({ service, containers: results });
      if (results.some((result) => result.outcome === "rolled_back")) {
        answer.rolled_back = true;
      }
    } else answer.unchanged.push(service);
  }
  return answer;
}
