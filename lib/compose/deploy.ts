/**
 * Executes a deploy's plan (planProject, the same function the preview shows) against the
 * Engine: networks and volumes first, then each service in dependency order (pull if absent,
 * wait for the conditions it depends on, then create, recreate, start or restart as
 * planned). A recreate works as the CLI's: the replacement is created under a temporary
 * name first, then the old container is stopped and removed and the new one renamed, so an
 * Engine that refuses the new container leaves the old one running. Container operations go
 * through `dispatch`, so each is audited on its own; a failure stops the deploy, names the
 * service and says what exists now.
 */
import type { DockerClient } from "../docker/client.ts";
import { inspectContainer } from "../docker/containers.ts";
import { listProjectContainers } from "./stacks.ts";
import { HttpError } from "../errors.ts";
import type { PullProgress } from "../docker/images.ts";
import {
  COMPOSE_VERSION,
  containerNameOf,
  createBody,
  engineWarnings,
  LABEL,
  networkAttachments,
  type PlanContainer,
  planProject,
  type ProjectPlan,
  type ServiceAction,
  type ServiceStep,
} from "./plan.ts";
import { hasImage, readPlanFacts } from "./facts.ts";
import type { ComposeProject, ServiceSpec } from "./types.ts";
import { displayName } from "../docker/views.ts";
import { buildService } from "./build.ts";
import { fileObjectFiles } from "./secrets.ts";

export { hasImage };

export type DeployStatus =
  | "network"
  | "volume"
  | "pulling"
  /** A `build:` service's image is built (message: a line of the build output). */
  | "building"
  | "creating"
  | "recreating"
  /** A recreate's old container is stopped and removed (the replacement exists). */
  | "replacing"
  | "restarting"
  /** A replica above deploy.replicas is stopped and removed. */
  | "removing"
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

export type ServiceOutcome =
  | "created"
  | "recreated"
  | "unchanged"
  | "started"
  | "restarted"
  /** A replica above deploy.replicas, stopped and removed. */
  | "removed";

export interface ServiceResult {
  service: string;
  container: string;
  /** "restarted": unchanged, but restarted because a dependency with `restart: true` changed. */
  action: ServiceOutcome;
}

export interface DeployResult {
  project: string;
  /** The plan this deploy executed (what its preview showed for the same Engine state). */
  plan: ProjectPlan;
  services: ServiceResult[];
  orphans: string[];
  removed_orphans: string[];
}

/** The outcome of each planned action once done. */
export const DONE: Record<ServiceAction, ServiceOutcome> = {
  create: "created",
  recreate: "recreated",
  unchanged: "unchanged",
  start: "started",
  restart: "restarted",
  remove: "removed",
};

/** A deploy step failed: the message names the service and carries the daemon's words. */
export class DeployError extends Error {
  override name = "DeployError";
  /** What the deploy had done per service before it stopped (set by deployProject). */
  results: ServiceResult[] = [];
  /** Services in deploy order that were not reached. */
  notReached: string[] = [];
  /** Per service in deploy order, what exists after the failure ("demo-web-1 running"). */
  now: { service: string; containers: string }[] = [];
  constructor(
    readonly service: string | null,
    message: string,
    readonly status = 502,
    /** What the failure left of the failing service: "not replaced: …". */
    readonly outcome?: string,
  ) {
    super(service ? `Service "${service}": ${message}` : message);
  }
}

/**
 * The per-service outcome of a failed deploy in words, for the error the audit row keeps:
 * "done before the failure: db unchanged; web not replaced (its old container still runs
 * unchanged); not reached: worker; now: db: demo-db-1 running, web: demo-web-1 running, …".
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
  if (error.service && error.outcome) parts.push(`${error.service} ${error.outcome}`);
  if (error.notReached.length) parts.push(`not reached: ${error.notReached.join(", ")}`);
  if (error.now.length) {
    parts.push(
      `now: ${error.now.map((entry) => `${entry.service}: ${entry.containers}`).join(", ")}`,
    );
  }
  return parts.join("; ");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createNetworksAndVolumes(
  ctx: DeployContext,
  project: ComposeProject,
  plan: ProjectPlan,
) {
  const { docker } = ctx;
  for (const step of [...plan.networks, ...plan.volumes]) {
    if (step.action === "missing") {
      const what = plan.networks.includes(step) ? "network" : "volume";
      throw new DeployError(null, `External ${what} "${step.name}" does not exist`, 400);
    }
  }
  for (const step of plan.networks) {
    if (step.action !== "create") continue;
    const network = project.networks[step.key];
    ctx.progress({ status: "network", message: `Creating network ${network.name}` });
    await docker.json("POST", "/networks/create", {
      json: {
        Name: encodeName(network.name),
        CheckDuplicate: true,
        Driver: network.driver ?? "bridge",
        ...(network.ipam
          ? {
            IPAM: {
              Driver: network.ipam.driver ?? "default",
              Config: network.ipam.config.map((entry) => ({
                ...(entry.subnet ? { Subnet: entry.subnet } : {}),
                ...(entry.ip_range ? { IPRange: entry.ip_range } : {}),
                ...(entry.gateway ? { Gateway: entry.gateway } : {}),
              })),
            },
          }
          : {}),
        ...(network.enable_ipv6 ? { EnableIPv6: true } : {}),
        Labels: {
          [LABEL.project]: project.name,
          [LABEL.network]: step.key,
          [LABEL.version]: COMPOSE_VERSION,
        },
      },
    });
  }
  for (const step of plan.volumes) {
    if (step.action !== "create") continue;
    const volume = project.volumes[step.key];
    ctx.progress({ status: "volume", message: `Creating volume ${volume.name}` });
    await docker.json("POST", "/volumes/create", {
      json: {
        Name: encodeName(volume.name),
        Driver: volume.driver ?? "local",
        Labels: {
          [LABEL.project]: project.name,
          [LABEL.volume]: step.key,
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

/** Waits until a dependency meets its condition (healthy, or exited 0). */
async function waitFor(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  dependency: string,
  condition: string,
) {
  const dep = project.services.find((s) => s.name === dependency)!;
  const deadline = Date.now() + (ctx.healthTimeoutMs ?? 120_000);
  ctx.progress({
    service: service.name,
    status: "waiting",
    message: `Waiting for ${dependency} (${condition})`,
  });
  // Every replica of the dependency, as the CLI waits for each.
  for (let number = 1; number <= (dep.replicas ?? 1); number++) {
    await waitForContainer(
      ctx,
      containerNameOf(project.name, dep, number),
      dependency,
      condition,
      deadline,
    );
  }
}

async function waitForContainer(
  ctx: DeployContext,
  name: string,
  dependency: string,
  condition: string,
  deadline: number,
) {
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

/**
 * Plans the deploy from the Engine's state now (the caller holds the project's lock) and
 * executes the plan.
 */
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
    const facts = await readPlanFacts(docker, project);
    const plan = planProject(project, order, facts, options);
    await createNetworksAndVolumes(ctx, project, plan);
    const containers = new Map(facts.containers.map((container) => [container.Id, container]));
    const specs = new Map(order.map((service) => [service.name, service]));
    /** Services whose image was pulled or built and whose dependencies were waited for. */
    const prepared = new Set<string>();

    for (const step of plan.services) {
      if (!results.some((result) => result.service === step.service)) reached++;
      const service = specs.get(step.service)!;
      try {
        await executeStep(ctx, project, service, step, {
          apiVersion,
          current: step.current ? containers.get(step.current) : undefined,
          prepared,
        });
        results.push({
          service: step.service,
          container: step.container,
          action: DONE[step.action],
        });
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
    return await removeOrphans(ctx, plan, results);
  } catch (error) {
    const failure = error instanceof DeployError ? error : new DeployError(
      null,
      error instanceof Error ? error.message : String(error),
      error instanceof HttpError ? error.status : 502,
    );
    failure.results = results;
    failure.notReached = order.slice(reached).map((service) => service.name);
    failure.now = await whatExists(docker, project, order).catch(() => []);
    throw failure;
  }
}

/** Per service, the containers of it that exist now and their state. */
async function whatExists(docker: DockerClient, project: ComposeProject, order: ServiceSpec[]) {
  const containers = await listProjectContainers(docker, project.name);
  return order.map((service) => {
    const found = containers.filter((c) => c.Labels?.[LABEL.service] === service.name);
    return {
      service: service.name,
      containers: found.length
        ? found.map((c) => `${displayName(c)} ${c.State}`).join(" and ")
        : "no container",
    };
  });
}

async function executeStep(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  step: ServiceStep,
  facts: { apiVersion: string; current: PlanContainer | undefined; prepared: Set<string> },
): Promise<void> {
  if (step.action === "remove") {
    // A replica above the count: stopped as the service asks, then removed.
    ctx.progress({ service: service.name, status: "removing", message: step.container });
    await ctx.dispatch("docker.stop", step.current!, stopParams(service));
    await ctx.dispatch("docker.rm", step.current!, { volumes: false });
    ctx.progress({ service: service.name, status: "done" });
    return;
  }
  // Once per service, whatever its number of replicas.
  if (!facts.prepared.has(service.name)) {
    for (const [dependency, dep] of Object.entries(service.depends_on)) {
      await waitFor(ctx, project, service, dependency, dep.condition);
    }
  }
  const renew = step.action === "create" || step.action === "recreate";
  if (renew && !facts.prepared.has(`${service.name}#image`)) {
    await (service.build
      ? buildService(ctx.dispatch, project, service, ctx.progress)
      : ensureImage(ctx, service));
    facts.prepared.add(`${service.name}#image`);
  }
  facts.prepared.add(service.name);
  const current = step.current;
  switch (step.action) {
    case "unchanged":
      ctx.progress({ service: service.name, status: "unchanged" });
      return;
    case "start":
      ctx.progress({ service: service.name, status: "starting" });
      await ctx.dispatch("docker.start", current!, {});
      break;
    case "restart":
      ctx.progress({ service: service.name, status: "restarting", message: step.reason });
      await ctx.dispatch("docker.restart", current!, {});
      break;
    case "create":
      ctx.progress({ service: service.name, status: "creating" });
      await createContainer(ctx, project, service, step, facts.apiVersion);
      ctx.progress({ service: service.name, status: "starting" });
      await ctx.dispatch("docker.start", step.container, {});
      break;
    case "recreate":
      await recreate(ctx, project, service, step, facts.apiVersion, facts.current);
      break;
  }
  ctx.progress({ service: service.name, status: "done" });
}

async function ensureImage(ctx: DeployContext, service: ServiceSpec) {
  if (await hasImage(ctx.docker, service.image)) return;
  ctx.progress({ service: service.name, status: "pulling", message: `Pulling ${service.image}` });
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

/**
 * Creates the step's container as `name` (its own name unless a recreate's temporary one);
 * docker.create removes it again if a connect fails.
 */
async function createContainer(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  step: ServiceStep,
  apiVersion: string,
  inherit?: Record<string, string>,
  name = step.container,
): Promise<string> {
  const { later } = networkAttachments(project, service, apiVersion);
  const created = await ctx.dispatch(
    "docker.create",
    name,
    { name, image: service.image, networks: later.map((network) => network.name) },
    undefined,
    {
      body: createBody(project, service, ctx.stackDir, {
        apiVersion,
        inherit,
        number: step.number,
      }),
      networks: later,
      files: fileObjectFiles(project, service),
    },
  ) as { id: string };
  return created.id;
}

/** The replaced container's anonymous volumes by target, which the new one keeps (as the CLI). */
function anonymousVolumes(current: PlanContainer | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mount of current?.Mounts ?? []) {
    // Named volumes carry the project's label key; an anonymous one is a 64-hex name.
    if (mount.Type === "volume" && mount.Name && /^[0-9a-f]{64}$/.test(mount.Name)) {
      out[mount.Destination] = mount.Name;
    }
  }
  return out;
}

/**
 * The CLI's recreate: create the replacement as `<old id[:12]>_<name>`, stop and remove the
 * old container, rename the new one, start it. Each failure says what it left.
 */
async function recreate(
  ctx: DeployContext,
  project: ComposeProject,
  service: ServiceSpec,
  step: ServiceStep,
  apiVersion: string,
  current: PlanContainer | undefined,
) {
  const old = step.current!;
  const name = step.container;
  const temporary = `${old.slice(0, 12)}_${name}`;
  const fail = (error: unknown, outcome: string) =>
    new DeployError(
      service.name,
      error instanceof Error ? error.message : String(error),
      error instanceof HttpError ? error.status : 502,
      outcome,
    );
  ctx.progress({ service: service.name, status: "recreating", message: step.reason });
  let id: string;
  try {
    id = await createContainer(
      ctx,
      project,
      service,
      step,
      apiVersion,
      anonymousVolumes(current),
      temporary,
    );
  } catch (error) {
    throw fail(
      error,
      "not replaced: the new container could not be created, so the old one still runs unchanged",
    );
  }
  ctx.progress({
    service: service.name,
    status: "replacing",
    message: "Stopping the old container",
  });
  try {
    await ctx.dispatch("docker.stop", old, stopParams(service));
    await ctx.dispatch("docker.rm", old, { volumes: false });
  } catch (error) {
    // The old container stays (perhaps stopped); the unused replacement goes.
    await ctx.dispatch("docker.rm", id, { volumes: false }).catch(() => {});
    throw fail(
      error,
      "not replaced: the old container could not be stopped and removed (start it again if it stopped); the new one was removed",
    );
  }
  try {
    await ctx.dispatch("docker.rename", id, { name });
  } catch (error) {
    throw fail(
      error,
      `replaced but not renamed: the old container was removed; the new one is "${temporary}", not started`,
    );
  }
  ctx.progress({ service: service.name, status: "starting" });
  try {
    await ctx.dispatch("docker.start", id, {});
  } catch (error) {
    throw fail(
      error,
      "replaced but not started: the old container was removed; the new one exists, not running",
    );
  }
}

/**
 * docker.stop's params for a container of `service`: its stop_grace_period (the CLI's
 * timeout) and stop_signal; without them the container's own settings apply.
 */
export function stopParams(service: ServiceSpec): Record<string, unknown> {
  return {
    ...(service.stop_grace_period_s !== undefined ? { timeout: service.stop_grace_period_s } : {}),
    ...(service.stop_signal ? { signal: service.stop_signal } : {}),
  };
}

async function removeOrphans(
  ctx: DeployContext,
  plan: ProjectPlan,
  results: ServiceResult[],
): Promise<DeployResult> {
  const removed: string[] = [];
  for (const orphan of plan.orphans) {
    ctx.progress({ service: orphan.service, status: "orphan", message: orphan.container });
    if (orphan.action === "remove") {
      await ctx.dispatch("docker.rm", orphan.id, { volumes: false });
      removed.push(orphan.container);
    }
  }
  return {
    project: plan.project,
    plan,
    services: results,
    orphans: plan.orphans.map((orphan) => orphan.container),
    removed_orphans: removed,
  };
}
