/**
 * Deploys, removes and lists swarm stacks as `docker stack deploy|rm|ls` do.
 *
 * Deploy, in the CLI's order: external networks checked, the stack's networks created
 * (existing ones kept), secrets and configs created or updated, services created or updated
 * with their version index. Services no longer in the file stay (the CLI without --prune).
 * Remove: services, then (once their tasks are gone) networks, secrets and configs of the
 * namespace.
 */
import type { DockerClient } from "../docker/client.ts";
import { HttpError } from "../errors.ts";
import { IMAGE_LABEL, NAMESPACE_LABEL, type StackPlan } from "./convert.ts";
import {
  createNetwork,
  createObject,
  createService,
  findNetwork,
  findObject,
  listNodes,
  listObjects,
  listServiceTasks,
  listStackNetworks,
  listStackServices,
  type ObjectKind,
  removeNetwork,
  removeObject,
  removeService,
  type SwarmService,
  updateObject,
  updateService,
} from "./engine.ts";

export type Progress = (event: { status: string; id?: string; message?: string }) => void;

export interface DeployResult {
  stack: string;
  created: string[];
  updated: string[];
  /** Services of the namespace the file no longer has (kept, as the CLI keeps them). */
  kept: string[];
  warnings: string[];
}

export async function deployStack(
  docker: DockerClient,
  plan: StackPlan,
  progress: Progress,
): Promise<DeployResult> {
  const stack = plan.name;
  for (const network of plan.networks.filter((n) => n.external)) {
    const found = await findNetwork(docker, network.name);
    if (!found) {
      throw new HttpError(
        400,
        `Network "${network.name}" is declared as external, but could not be found: create a swarm-scoped network before the stack is deployed`,
      );
    }
    if (found.Scope !== "swarm" && !["host", "bridge", "none"].includes(network.name)) {
      throw new HttpError(
        400,
        `Network "${network.name}" is declared as external, but it is not in the right scope: "${found.Scope}" instead of "swarm"`,
      );
    }
  }
  const existingNetworks = new Set(
    (await listStackNetworks(docker, stack)).map((network) => network.Name),
  );
  for (const network of plan.networks) {
    if (network.external || existingNetworks.has(network.name)) continue;
    progress({ status: "creating", id: network.name, message: `Creating network ${network.name}` });
    await createNetwork(docker, network.create);
  }

  for (const kind of ["secrets", "configs"] as ObjectKind[]) {
    const what = kind === "secrets" ? "secret" : "config";
    for (const object of plan[kind]) {
      if (object.external) {
        if (!(await findObject(docker, kind, object.name))) {
          throw new HttpError(
            400,
            `The external ${what} "${object.name}" does not exist on the swarm: create it first`,
          );
        }
        continue;
      }
      const spec = { Name: object.name, Labels: object.labels, Data: object.data ?? "" };
      const existing = await findObject(docker, kind, object.name);
      if (existing) {
        progress({
          status: "updating",
          id: object.name,
          message: `Updating ${what} ${object.name}`,
        });
        try {
          await updateObject(docker, kind, existing, spec);
        } catch (error) {
          // Swarm never changes a secret's or config's data (only its labels).
          if (!(error instanceof HttpError) || error.status !== 400) throw error;
          throw new HttpError(
            409,
            `The ${what} "${object.name}" exists with other contents and swarm cannot change them: remove the stack first, or give the ${what} a new name (${error.message})`,
          );
        }
      } else {
        progress({
          status: "creating",
          id: object.name,
          message: `Creating ${what} ${object.name}`,
        });
        await createObject(docker, kind, spec);
      }
    }
  }

  // Secret and config references need ids: look them up by name once they exist.
  const ids: Record<ObjectKind, Map<string, string>> = { secrets: new Map(), configs: new Map() };
  for (const kind of ["secrets", "configs"] as ObjectKind[]) {
    const names = new Set(
      plan.services.flatMap((service) => referencesOf(service.spec, kind)).map((r) => nameOf(r)),
    );
    for (const name of names) {
      const found = await findObject(docker, kind, name);
      if (!found) throw new HttpError(400, `The ${kind.slice(0, -1)} "${name}" does not exist`);
      ids[kind].set(name, found.ID);
    }
  }

  const existing = new Map<string, SwarmService>(
    (await listStackServices(docker, stack)).map((service) => [service.Spec.Name, service]),
  );
  const result: DeployResult = { stack, created: [], updated: [], kept: [], warnings: [] };
  for (const service of plan.services) {
    const spec = structuredClone(service.spec);
    for (const kind of ["secrets", "configs"] as ObjectKind[]) {
      for (const reference of referencesOf(spec, kind)) {
        reference[kind === "secrets" ? "SecretID" : "ConfigID"] = ids[kind].get(nameOf(reference));
      }
    }
    const current = existing.get(service.name);
    if (current) {
      progress({
        status: "updating",
        id: service.name,
        message: `Updating service ${service.name} (id: ${current.ID})`,
      });
      const task = spec.TaskTemplate as Record<string, unknown>;
      // As the CLI: an unchanged image keeps the digest the Engine pinned, and ForceUpdate
      // stays, so an unchanged service is not redeployed.
      const image = (task.ContainerSpec as Record<string, unknown>).Image;
      if (image === current.Spec.Labels?.[IMAGE_LABEL]) {
        (task.ContainerSpec as Record<string, unknown>).Image = current.Spec.TaskTemplate
          ?.ContainerSpec?.Image;
      }
      task.ForceUpdate = current.Spec.TaskTemplate?.ForceUpdate ?? 0;
      result.warnings.push(...await updateService(docker, current.ID, current.Version.Index, spec));
      result.updated.push(service.name);
    } else {
      progress({
        status: "creating",
        id: service.name,
        message: `Creating service ${service.name}`,
      });
      await createService(docker, spec);
      result.created.push(service.name);
    }
  }
  const names = new Set(plan.services.map((service) => service.name));
  result.kept = [...existing.keys()].filter((name) => !names.has(name)).sort();
  return result;
}

type Reference = Record<string, unknown>;

function referencesOf(spec: Record<string, unknown>, kind: ObjectKind): Reference[] {
  const container = (spec.TaskTemplate as Record<string, unknown> | undefined)?.ContainerSpec as
    | Record<string, unknown>
    | undefined;
  return (container?.[kind === "secrets" ? "Secrets" : "Configs"] as Reference[] | undefined) ?? [];
}

function nameOf(reference: Reference): string {
  return String(reference.SecretName ?? reference.ConfigName);
}

export interface RemoveResult {
  stack: string;
  removed: { services: string[]; networks: string[]; secrets: string[]; configs: string[] };
}

/** How long a remove waits for the services' tasks to go before it removes the networks. */
const TASKS_GONE_MS = 60_000;

export async function removeStack(
  docker: DockerClient,
  stack: string,
  progress: Progress,
  options: { waitMs?: number } = {},
): Promise<RemoveResult> {
  const services = await listStackServices(docker, stack);
  const networks = await listStackNetworks(docker, stack);
  const secrets = await listObjects(docker, "secrets", stack);
  const configs = await listObjects(docker, "configs", stack);
  if (services.length + networks.length + secrets.length + configs.length === 0) {
    throw new HttpError(404, `Nothing found in stack "${stack}"`);
  }
  const removed: RemoveResult["removed"] = { services: [], networks: [], secrets: [], configs: [] };
  const failures: string[] = [];
  const attempt = async (what: string, name: string, action: () => Promise<void>) => {
    progress({ status: "removing", id: name, message: `Removing ${what} ${name}` });
    try {
      await action();
      return true;
    } catch (error) {
      failures.push(`${what} ${name}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  };
  for (const service of [...services].sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))) {
    if (await attempt("service", service.Spec.Name, () => removeService(docker, service.ID))) {
      removed.services.push(service.Spec.Name);
    }
  }
  // A network (and a secret) in use by a task that is still stopping cannot go yet.
  await tasksGone(docker, services.map((s) => s.ID), options.waitMs ?? TASKS_GONE_MS);
  for (const network of networks) {
    if (await attempt("network", network.Name, () => removeNetworkWhenFree(docker, network.Id))) {
      removed.networks.push(network.Name);
    }
  }
  for (const [kind, objects] of [["secrets", secrets], ["configs", configs]] as const) {
    for (const object of objects) {
      const what = kind === "secrets" ? "secret" : "config";
      if (await attempt(what, object.Spec.Name, () => removeObject(docker, kind, object.ID))) {
        removed[kind].push(object.Spec.Name);
      }
    }
  }
  if (failures.length) {
    throw new HttpError(
      502,
      `Some parts of stack "${stack}" could not be removed: ${failures.join("; ")}`,
    );
  }
  return { stack, removed };
}

async function tasksGone(docker: DockerClient, serviceIds: string[], waitMs: number) {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const tasks = await listServiceTasks(docker, serviceIds).catch(() => []);
    if (tasks.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The network's last endpoints leave a moment after the tasks: retry briefly. */
async function removeNetworkWhenFree(docker: DockerClient, id: string) {
  for (let attempt = 0;; attempt++) {
    try {
      return await removeNetwork(docker, id);
    } catch (error) {
      if (attempt >= 20 || !(error instanceof HttpError) || error.status !== 409) {
        // 404: gone already
        if (error instanceof HttpError && error.status === 404) return;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export interface StackSummary {
  name: string;
  services: number;
  tasks_running: number;
  tasks_desired: number;
  created_by: "panel" | "cli";
}

/** Every stack on the swarm, found by the namespace label of its services. */
export async function listStacks(
  docker: DockerClient,
  isPanelStack: (name: string) => Promise<boolean>,
): Promise<StackSummary[]> {
  const services = await listStackServices(docker);
  const tasks = await listServiceTasks(docker, services.map((s) => s.ID));
  const stacks = new Map<string, StackSummary>();
  const stackOf = new Map<string, StackSummary>();
  for (const service of services) {
    const name = service.Spec.Labels?.[NAMESPACE_LABEL];
    if (!name) continue;
    const summary = stacks.get(name) ??
      { name, services: 0, tasks_running: 0, tasks_desired: 0, created_by: "cli" as const };
    summary.services++;
    stacks.set(name, summary);
    stackOf.set(service.ID, summary);
  }
  for (const task of tasks) {
    const summary = stackOf.get(task.ServiceID);
    if (!summary) continue;
    if (task.DesiredState === "running") summary.tasks_desired++;
    if (task.Status.State === "running") summary.tasks_running++;
  }
  for (const summary of stacks.values()) {
    if (await isPanelStack(summary.name)) summary.created_by = "panel";
  }
  return [...stacks.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface StackServiceView {
  id: string;
  name: string;
  mode: "replicated" | "global";
  image: string;
  replicas_desired: number | null;
  replicas_running: number;
  ports: { published: number; target: number; protocol: string; mode: string }[];
  update_status?: { state: string; message?: string };
  tasks: {
    id: string;
    slot?: number;
    node_id?: string;
    node_hostname?: string;
    state: string;
    desired_state: string;
    error?: string;
    image?: string;
    updated_at?: string;
  }[];
}

/** A stack's services with their tasks (404 when the namespace has none). */
export async function stackDetail(docker: DockerClient, stack: string) {
  const services = await listStackServices(docker, stack);
  if (services.length === 0) throw new HttpError(404, `No swarm stack "${stack}"`);
  const [tasks, nodes] = await Promise.all([
    listServiceTasks(docker, services.map((s) => s.ID)),
    listNodes(docker),
  ]);
  const hostname = new Map(nodes.map((node) => [node.ID, node.Description?.Hostname ?? ""]));
  const views: StackServiceView[] = services
    .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
    .map((service) => {
      const own = tasks.filter((task) => task.ServiceID === service.ID);
      const ports = (service.Spec.EndpointSpec?.Ports ?? []) as {
        PublishedPort?: number;
        TargetPort?: number;
        Protocol?: string;
        PublishMode?: string;
      }[];
      return {
        id: service.ID,
        name: service.Spec.Name,
        mode: service.Spec.Mode?.Global ? "global" : "replicated",
        image: service.Spec.Labels?.[IMAGE_LABEL] ??
          service.Spec.TaskTemplate?.ContainerSpec?.Image ?? "",
        replicas_desired: service.Spec.Mode?.Replicated?.Replicas ?? null,
        replicas_running: own.filter((task) => task.Status.State === "running").length,
        ports: ports.map((port) => ({
          published: port.PublishedPort ?? 0,
          target: port.TargetPort ?? 0,
          protocol: port.Protocol ?? "tcp",
          mode: port.PublishMode ?? "ingress",
        })),
        ...(service.UpdateStatus?.State
          ? {
            update_status: {
              state: service.UpdateStatus.State,
              ...(service.UpdateStatus.Message ? { message: service.UpdateStatus.Message } : {}),
            },
          }
          : {}),
        tasks: own
          .sort((a, b) =>
            (a.Slot ?? 0) - (b.Slot ?? 0) || (b.UpdatedAt ?? "").localeCompare(a.UpdatedAt ?? "")
          )
          .map((task) => ({
            id: task.ID,
            ...(task.Slot !== undefined ? { slot: task.Slot } : {}),
            node_id: task.NodeID,
            node_hostname: task.NodeID ? hostname.get(task.NodeID) : undefined,
            state: task.Status.State,
            desired_state: task.DesiredState,
            ...(task.Status.Err ? { error: task.Status.Err } : {}),
            image: task.Spec?.ContainerSpec?.Image,
            updated_at: task.UpdatedAt,
          })),
      };
    });
  return { name: stack, services: views };
}
