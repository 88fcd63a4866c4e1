/**
 * Executes a parsed project against the Engine: networks and volumes first, then each
 * service in dependency order (pull if absent, create or recreate, start, wait for the
 * conditions its dependents need). Container operations go through `dispatch`, so each
 * is audited on its own; a failure stops the deploy and names the service.
 */
import type { DockerClient } from "../docker/client.ts";
import { inspectContainer } from "../docker/containers.ts";
import { listProjectContainers } from "./stacks.ts";
import { DockerError } from "../docker/errors.ts";
import { HttpError } from "../errors.ts";
import { inspectImage, type PullProgress } from "../docker/images.ts";
import {
  aliasesOf,
  COMPOSE_VERSION,
  configHash,
  containerNameOf,
  createBody,
  engineWarnings,
  LABEL,
} from "./plan.ts";
import type { ComposeProject, ServiceSpec } from "./types.ts";
import { displayName } from "../docker/views.ts";
import type { ContainerSummary } from "../docker/types.ts";

export type DeployStatus =
  | "network"
  | "volume"
  | "pulling"
  | "creating"
  | "recreating"
  | "restarting"
  | "starting"
  | "waiting"
  | "unchanged"
  | "done"
  | "failed"
  | "orphan"
  /** A setting this daemon cannot apply (project-wide, with a message). */
  | "warning";

export interface DeployEvent {
  service?: string;
  status: DeployStatus;
  message?: string;
  current?: number;
  total?: number;
}

export interface DeployContext {
  docker: DockerClient;
  /** Dispatches a verb as the deploying user (audited). */
  dispatch: (
    verb: string,
    target: string,
    params: Record<string, unknown>,
    progress?: (event: unknown) => void,
    attachment?: unknown,
  ) => Promise<unknown>;
  stackDir: string;
  progress: (event: DeployEvent) => void;
  healthTimeoutMs?: number;
}

export interface ServiceResult {
  service: string;
  container: string;
  /** "restarted": unchanged, but restarted because a dependency with `restart: true` changed. */
  action: "created" | "recreated" | "unchanged" | "started" | "restarted";
}

export interface DeployResult {
  project: string;
  services: ServiceResult[];
  orphans: string[];
  removed_orphans: string[];
}

/** A deploy step failed: the message names the service and carries the daemon's words. */
export class DeployError extends Error {
  override name = "DeployError";
  /** What the deploy had done per service before it stopped (set by deployProject). */
  results: ServiceResult[] = [];
  /** Services in deploy order that were not reached. */
  notReached: string[] = [];
  constructor(readonly service: string | null, message: string, readonly status = 502) {
    super(service ? `Service "${service}": ${message}` : message);
  }
}

/**
 * The per-service outcome of a failed deploy in words, for the error the audit row keeps:
 * "done before the failure: web created, db unchanged; not reached: worker".
 */
export function failureSummary(error: DeployError): string {
  const parts: string[] = [];
  if (error.results.length) {
    parts.push(
      `done before the failure: ${error.results.map((r) => `${r.service} ${r.action}`).join(", ")}`,
    );
  } else {
    parts.push("no service was changed");
  }
  if (error.notReached.length) parts.push(`not reached: ${error.notReached.join(", ")}`);
  return parts.join("; ");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exists(docker: DockerClient, path: string): Promise<boolean> {
  try {
    await docker.json("GET", path);
    return true;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return false;
    throw error;
  }
}

async function ensureNetworksAndVolumes(ctx: DeployContext, project: ComposeProject) {
  const { docker } = ctx;
  for (const [key, network] of Object.entries(project.networks)) {
    const present = await exists(docker, `/networks/${encodeName(network.name)}`);
    if (network.external) {
      if (!present) {
        throw new DeployError(null, `External network "${network.name}" does not exist`, 400);
      }
      continue;
    }
    if (present) continue;
    ctx.progress({ status: "network", message: `Creating network ${network.name}` });
    await docker.json("POST", "/networks/create", {
      json: {
        Name: network.name,
        CheckDuplicate: true,
        Driver: network.driver ?? "bridge",
        Labels: {
          [LABEL.project]: project.name,
          [LABEL.network]: key,
          [LABEL.version]: COMPOSE_VERSION,
        },
      },
    });
  }
  for (const [key, volume] of Object.entries(project.volumes)) {
    const present = await exists(docker, `/volumes/${encodeName(volume.name)}`);
    if (volume.external) {
      if (!present) {
        throw new DeployError(null, `External volume "${volume.name}" does not exist`, 400);
      }
      continue;
    }
    if (present) continue;
    ctx.progress({ status: "volume", message: `Creating volume ${volume.name}` });
    await docker.json("POST", "/volumes/create", {
      json: {
        Name: volume.name,
        Driver: volume.driver ?? "local",
        Labels: {
          [LABEL.project]: project.name,
          [LABEL.volume]: key,
          [LABEL.version]: COMPOSE_VERSION,
        },
      },
    });
  }
}

/** Network and volume names come from the parser's validated keys; this is a last guard. */
function encodeName(name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    throw new DeployError(null, `Invalid name "${name}"`, 400);
  }
  return name;
}

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

/** Waits until a dependency meets its condition (healthy, or exited 0). */
async function waitFor(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  dependency: string,
  condition: string,
) {
  const dep = project.services.find((s) => s.name === dependency)!;
  const name = containerNameOf(project.name, dep);
  const deadline = Date.now() + (ctx.healthTimeoutMs ?? 120_000);
  ctx.progress({
    service: service.name,
    status: "waiting",
    message: `Waiting for ${dependency} (${condition})`,
  });
  while (true) {
    const info = await inspectContainer(ctx.docker, name);
    if (condition === "service_healthy") {
      const health = info.State.Health?.Status;
      if (!health) {
        throw new DeployError(
          dependency,
          "has no healthcheck, so it can never become healthy",
          400,
        );
      }
      if (health === "healthy") return;
      if (health === "unhealthy") throw new DeployError(dependency, "is unhealthy");
      if (!info.State.Running) {
        throw new DeployError(
          dependency,
          `exited with code ${info.State.ExitCode} before becoming healthy`,
        );
      }
    } else if (condition === "service_completed_successfully") {
      if (!info.State.Running && info.State.Status === "exited") {
        if (info.State.ExitCode === 0) return;
        throw new DeployError(
          dependency,
          `did not complete successfully (exit code ${info.State.ExitCode})`,
        );
      }
    } else return;
    if (Date.now() > deadline) {
      throw new DeployError(
        dependency,
        `did not become ${condition.replace("service_", "")} in time`,
      );
    }
    await delay(250);
  }
}

export async function deployProject(
  ctx: DeployContext,
  project: ComposeProject,
  order: ServiceSpec[],
  options: { removeOrphans?: boolean } = {},
): Promise<DeployResult> {
  const { docker } = ctx;
  const results: ServiceResult[] = [];
  let reached = 0;
  try {
    const apiVersion = await docker.apiVersion();
    for (const warning of engineWarnings(project, apiVersion)) {
      ctx.progress({ status: "warning", message: warning.message });
    }
    await ensureNetworksAndVolumes(ctx, project);
    const existing = await listProjectContainers(docker, project.name);
    const byService = new Map(existing.map((c) => [c.Labels?.[LABEL.service] ?? "", c]));
    /** Services whose container this deploy created, recreated, started or restarted. */
    const renewed = new Set<string>();
    /** Services whose container this deploy replaced (a new container id). */
    const replaced = new Set<string>();

    for (const service of order) {
      reached++;
      const name = containerNameOf(project.name, service);
      try {
        // The Engine pins network_mode container:<name> to the container's id at create, so
        // sharing the stack of a replaced container means being recreated too.
        const shared = service.network_mode?.startsWith("service:")
          ? service.network_mode.slice("service:".length)
          : null;
        const action = await deployService(ctx, project, service, name, {
          current: byService.get(service.name),
          apiVersion,
          recreateFor: shared && replaced.has(shared) ? shared : null,
          // A dependency with `restart: true` was renewed.
          restartFor: Object.entries(service.depends_on)
            .filter(([dependency, dep]) => dep.restart && renewed.has(dependency))
            .map(([dependency]) => dependency),
        });
        if (action !== "unchanged") renewed.add(service.name);
        if (action === "created" || action === "recreated") replaced.add(service.name);
        results.push({ service: service.name, container: name, action });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.progress({ service: service.name, status: "failed", message });
        if (error instanceof DeployError) throw error;
        throw new DeployError(
          service.name,
          message,
          error instanceof HttpError ? error.status : 502,
        );
      }
    }
    return await finish(ctx, project, existing, results, options);
  } catch (error) {
    const failure = error instanceof DeployError ? error : new DeployError(
      null,
      error instanceof Error ? error.message : String(error),
      error instanceof HttpError ? error.status : 502,
    );
    failure.results = results;
    failure.notReached = order.slice(reached).map((service) => service.name);
    throw failure;
  }
}

async function deployService(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  name: string,
  facts: {
    current: ContainerSummary | undefined;
    apiVersion: string;
    /** The service whose network stack this one shares, when that was replaced. */
    recreateFor: string | null;
    restartFor: string[];
  },
): Promise<ServiceResult["action"]> {
  const { docker } = ctx;
  for (const [dependency, dep] of Object.entries(service.depends_on)) {
    await waitFor(ctx, project, service, dependency, dep.condition);
  }
  if (!(await hasImage(docker, service.image))) {
    ctx.progress({
      service: service.name,
      status: "pulling",
      message: `Pulling ${service.image}`,
    });
    await ctx.dispatch("docker.pull", service.image, { reference: service.image }, (line) => {
      const progress = line as PullProgress;
      ctx.progress({
        service: service.name,
        status: "pulling",
        message: [progress.id, progress.status].filter(Boolean).join(" "),
        current: progress.progressDetail?.current,
        total: progress.progressDetail?.total,
      });
    });
  }
  const { current } = facts;
  if (current && !facts.recreateFor && current.Labels?.[LABEL.hash] === configHash(service)) {
    let action: ServiceResult["action"] = "unchanged";
    if (current.State !== "running") {
      ctx.progress({ service: service.name, status: "starting" });
      await ctx.dispatch("docker.start", current.Id, {});
      action = "started";
    } else if (facts.restartFor.length) {
      ctx.progress({
        service: service.name,
        status: "restarting",
        message: `Restarting: ${facts.restartFor.join(", ")} changed`,
      });
      await ctx.dispatch("docker.restart", current.Id, {});
      action = "restarted";
    }
    ctx.progress({ service: service.name, status: action === "unchanged" ? "unchanged" : "done" });
    return action;
  }
  if (current) {
    ctx.progress({
      service: service.name,
      status: "recreating",
      ...(facts.recreateFor
        ? {
          message: `Recreating: it shares the network of ${facts.recreateFor}, which was replaced`,
        }
        : {}),
    });
    await ctx.dispatch("docker.rm", current.Id, { volumes: false });
  } else {
    ctx.progress({ service: service.name, status: "creating" });
  }
  const extraNetworks = service.network_mode
    ? []
    : Object.keys(service.networks).slice(1).map((key) => ({
      name: project.networks[key].name,
      aliases: aliasesOf(service, key),
    }));
  await ctx.dispatch(
    "docker.create",
    name,
    { name, image: service.image, networks: extraNetworks.map((network) => network.name) },
    undefined,
    {
      body: createBody(project, service, ctx.stackDir, { apiVersion: facts.apiVersion }),
      networks: extraNetworks,
    },
  );
  ctx.progress({ service: service.name, status: "starting" });
  await ctx.dispatch("docker.start", name, {});
  ctx.progress({ service: service.name, status: "done" });
  return current ? "recreated" : "created";
}

async function finish(
  ctx: DeployContext,
  project: ComposeProject,
  existing: ContainerSummary[],
  results: ServiceResult[],
  options: { removeOrphans?: boolean },
): Promise<DeployResult> {
  const inFile = new Set(project.services.map((service) => service.name));
  const orphans = existing.filter((c) => !inFile.has(c.Labels?.[LABEL.service] ?? ""));
  const removed: string[] = [];
  for (const orphan of orphans) {
    const orphanName = displayName(orphan);
    ctx.progress({
      service: orphan.Labels?.[LABEL.service],
      status: "orphan",
      message: orphanName,
    });
    if (options.removeOrphans) {
      await ctx.dispatch("docker.rm", orphan.Id, { volumes: false });
      removed.push(orphanName);
    }
  }
  return {
    project: project.name,
    services: results,
    orphans: orphans.map(displayName),
    removed_orphans: removed,
  };
}
