/**
 * swarm.node.update|remove, swarm.service.create|scale|update|rollback|remove and
 * swarm.secret|config.create|remove. Every update reads the object's version index first
 * and sends it back, so a concurrent change is refused by the Engine rather than lost.
 * A secret's value arrives as the dispatch's attachment, so it never enters an audit row.
 */
import type { DockerClient } from "../../docker/client.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { onlyFields, stringMap } from "../../docker/validate.ts";
import { inspectNode, nodeView, removeNode, updateNode } from "../../docker/swarm.ts";
import {
  createService,
  type EngineService,
  inspectService,
  removeService,
  shownImage,
  updateService,
} from "../../docker/swarm_services.ts";
import {
  base64Of,
  createSwarmObject,
  inspectSwarmObject,
  listSwarmObjects,
  removeSwarmObject,
  servicesUsing,
  type SwarmObjectKind,
} from "../../docker/swarm_secrets.ts";
import { listServices } from "../../docker/swarm_services.ts";
import {
  imageField,
  parseServiceRequest,
  replicaCount,
  resolveReferences,
  swarmObjectName,
} from "../../docker/swarm_spec.ts";
import type { Handler, Handlers } from "../dispatch.ts";

/** Swarm's own cap on a secret's or config's data. */
export const MAX_SWARM_OBJECT_BYTES = 500 * 1024;
/** How long an image update or a rollback is followed before the answer says it still runs. */
export const UPDATE_WAIT_MS = 10 * 60_000;
const POLL_MS = 500;

const DONE_STATES = new Set(["completed", "paused", "rollback_completed", "rollback_paused"]);

export interface SwarmHandlerOptions {
  /** Overrides UPDATE_WAIT_MS (tests). */
  updateWaitMs?: number;
}

/**
 * Follows the update the Engine started after `startedBefore` (the UpdateStatus.StartedAt
 * seen before asking) until it ends, reporting each change of state.
 */
async function followUpdate(
  docker: DockerClient,
  id: string,
  startedBefore: string | undefined,
  progress: (event: unknown) => void,
  waitMs: number,
): Promise<{ state: string; message?: string; still_running?: true }> {
  const deadline = Date.now() + waitMs;
  let last = "";
  while (true) {
    const service = await inspectService(docker, id);
    const status = service.UpdateStatus;
    const ours = status?.StartedAt !== undefined && status.StartedAt !== startedBefore;
    if (ours && status?.State) {
      const seen = `${status.State}|${status.Message ?? ""}`;
      if (seen !== last) {
        last = seen;
        progress({ state: status.State, message: status.Message ?? "" });
      }
      if (DONE_STATES.has(status.State)) {
        return { state: status.State, ...(status.Message ? { message: status.Message } : {}) };
      }
    }
    if (Date.now() > deadline) {
      return {
        state: ours && status?.State ? status.State : "updating",
        message: `Still running after ${Math.round(waitMs / 1000)} s; follow it on the service`,
        still_running: true,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function withImage(service: EngineService, image: string) {
  const spec = structuredClone(service.Spec);
  spec.TaskTemplate.ContainerSpec.Image = image;
  return spec;
}

async function assertUnused(docker: DockerClient, kind: SwarmObjectKind, id: string) {
  const object = await inspectSwarmObject(docker, kind, id);
  const users = servicesUsing(await listServices(docker), kind, object.ID);
  if (users.length) {
    throw new HttpError(
      409,
      `${kind === "secret" ? "Secret" : "Config"} ${object.Spec.Name} is used by ${
        users.length === 1 ? "service" : "services"
      } ${users.join(", ")}; remove it from ${users.length === 1 ? "that service" : "them"} first`,
    );
  }
  return object;
}

function objectData(value: unknown, kind: SwarmObjectKind): string {
  if (typeof value !== "string" || value === "") {
    throw new ValidationError(`The ${kind}'s data is required`, "data");
  }
  if (new TextEncoder().encode(value).length > MAX_SWARM_OBJECT_BYTES) {
    throw new ValidationError(
      `The ${kind}'s data is larger than ${MAX_SWARM_OBJECT_BYTES / 1024} KiB (swarm's limit)`,
      "data",
    );
  }
  return value;
}

function objectHandlers(docker: DockerClient, kind: SwarmObjectKind): Handlers {
  const create: Handler = async ({ params, attachment }) => {
    onlyFields(params, ["name", "labels"]);
    const name = swarmObjectName(params.name);
    const labels = stringMap(params.labels, "labels");
    const data = objectData((attachment as { data?: unknown } | undefined)?.data, kind);
    const { ID } = await createSwarmObject(docker, kind, {
      Name: name,
      Labels: labels,
      Data: base64Of(data),
    });
    return { id: ID, name };
  };
  const remove: Handler = async ({ target }) => {
    const object = await assertUnused(docker, kind, target);
    await removeSwarmObject(docker, kind, object.ID);
    return { removed: object.Spec.Name, id: object.ID };
  };
  return kind === "secret"
    ? { "swarm.secret.create": create, "swarm.secret.remove": remove }
    : { "swarm.config.create": create, "swarm.config.remove": remove };
}

export function swarmHandlers(docker: DockerClient, options: SwarmHandlerOptions = {}): Handlers {
  const waitMs = options.updateWaitMs ?? UPDATE_WAIT_MS;
  return {
    "swarm.node.update": async ({ target, params }) => {
      onlyFields(params, ["availability", "role", "labels_add", "labels_remove"]);
      const node = await inspectNode(docker, target);
      const spec = structuredClone(node.Spec);
      if (params.availability !== undefined) {
        if (!["active", "pause", "drain"].includes(params.availability as string)) {
          throw new ValidationError("availability must be active, pause or drain", "availability");
        }
        spec.Availability = params.availability as typeof spec.Availability;
      }
      if (params.role !== undefined) {
        if (!["manager", "worker"].includes(params.role as string)) {
          throw new ValidationError("role must be manager or worker", "role");
        }
        spec.Role = params.role as typeof spec.Role;
      }
      const add = stringMap(params.labels_add, "labels_add");
      const remove = params.labels_remove ?? [];
      if (
        !Array.isArray(remove) || remove.length > 64 ||
        remove.some((key) => typeof key !== "string" || key.length > 255)
      ) {
        throw new ValidationError("labels_remove must be a list of label keys", "labels_remove");
      }
      const labels = { ...(spec.Labels ?? {}) };
      for (const key of remove as string[]) delete labels[key];
      Object.assign(labels, add);
      spec.Labels = labels;
      await updateNode(docker, node.ID, node.Version.Index, spec);
      return { node: nodeView(await inspectNode(docker, node.ID)) };
    },

    "swarm.node.remove": async ({ target }) => {
      const node = await inspectNode(docker, target);
      const view = nodeView(node);
      if (view.state !== "down") {
        throw new HttpError(
          409,
          `Node ${view.hostname || node.ID} is ${view.state}; only a down node can be removed ` +
            "(drain it and stop its Engine, or make it leave the swarm, first)",
        );
      }
      await removeNode(docker, node.ID);
      return { removed: node.ID, hostname: view.hostname };
    },

    "swarm.service.create": async ({ params }) => {
      const request = parseServiceRequest(params);
      const [secrets, configs] = await Promise.all([
        request.secrets.length ? listSwarmObjects(docker, "secret") : [],
        request.configs.length ? listSwarmObjects(docker, "config") : [],
      ]);
      const spec = resolveReferences(request, secrets, configs);
      const created = await createService(docker, spec);
      return { id: created.ID, name: spec.Name, warnings: created.Warnings ?? [] };
    },

    "swarm.service.scale": async ({ target, params }) => {
      onlyFields(params, ["replicas"]);
      const replicas = replicaCount(params.replicas);
      const service = await inspectService(docker, target);
      if (!service.Spec.Mode.Replicated) {
        throw new HttpError(
          409,
          `Service ${service.Spec.Name} is global; only replicated services scale`,
        );
      }
      const spec = structuredClone(service.Spec);
      spec.Mode = { Replicated: { Replicas: replicas } };
      await updateService(docker, service.ID, service.Version.Index, spec);
      return { id: service.ID, name: service.Spec.Name, replicas };
    },

    "swarm.service.update": async ({ target, params, progress }) => {
      onlyFields(params, ["image"]);
      const image = imageField(params.image);
      const service = await inspectService(docker, target);
      const previous = shownImage(service.Spec.TaskTemplate.ContainerSpec.Image);
      const base = { id: service.ID, name: service.Spec.Name, image, previous_image: previous };
      if (previous === image) return { ...base, unchanged: true };
      const startedBefore = service.UpdateStatus?.StartedAt;
      // The Engine rolls it out as the service's UpdateConfig says (parallelism, delay, order).
      const answer = await updateService(
        docker,
        service.ID,
        service.Version.Index,
        withImage(service, image),
      );
      progress({
        state: "updating",
        message: `Rolling out ${image}`,
        warnings: answer.Warnings ?? [],
      });
      const status = await followUpdate(docker, service.ID, startedBefore, progress, waitMs);
      if (status.state !== "completed" && !status.still_running) {
        throw new HttpError(
          409,
          `The rolling update of ${service.Spec.Name} to ${image} ended ${status.state}` +
            (status.message ? `: ${status.message}` : ""),
        );
      }
      return { ...base, update_status: status };
    },

    "swarm.service.rollback": async ({ target, progress }) => {
      const service = await inspectService(docker, target);
      if (!service.PreviousSpec) {
        throw new HttpError(
          409,
          `Service ${service.Spec.Name} has no previous version to roll back to`,
        );
      }
      const startedBefore = service.UpdateStatus?.StartedAt;
      await updateService(docker, service.ID, service.Version.Index, service.Spec, {
        rollback: true,
      });
      progress({ state: "rollback_started", message: "Rolling back" });
      const status = await followUpdate(docker, service.ID, startedBefore, progress, waitMs);
      if (status.state !== "rollback_completed" && !status.still_running) {
        throw new HttpError(
          409,
          `The rollback of ${service.Spec.Name} ended ${status.state}` +
            (status.message ? `: ${status.message}` : ""),
        );
      }
      const after = await inspectService(docker, service.ID);
      return {
        id: service.ID,
        name: service.Spec.Name,
        image: shownImage(after.Spec.TaskTemplate.ContainerSpec.Image),
        update_status: status,
      };
    },

    "swarm.service.remove": async ({ target }) => {
      const service = await inspectService(docker, target);
      await removeService(docker, service.ID);
      return { removed: service.Spec.Name, id: service.ID };
    },

    ...objectHandlers(docker, "secret"),
    ...objectHandlers(docker, "config"),
  };
}
