/**
 * compose.deploy and the stack actions, plus docker.create, the container creation the
 * deployer dispatches per service. Each container operation inside a deploy is its own
 * dispatch (and audit row); the compose.deploy row carries the per-service results.
 */
import type { DockerClient } from "../../docker/client.ts";
import { type InjectedFile, injectFiles } from "../../compose/secrets.ts";
import { explainEngineError } from "../../docker/error_text.ts";
import { DockerError } from "../../docker/errors.ts";
import {
  checkProcessSettings,
  containerName,
  networkRef,
  volumeName,
} from "../../docker/validate.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { deployOrder } from "../../compose/order.ts";
import { DeployError, deployProject, failureSummary } from "../../compose/deploy.ts";
import { type EndpointConfig, LABEL } from "../../compose/plan.ts";
import {
  checkProjectName,
  listProjectContainers,
  removeStackFiles,
  restoreStackFiles,
  snapshotStackFiles,
  type StoredStackFiles,
  writeStackFiles,
} from "../../compose/stacks.ts";
import { createProjectLocks, type ProjectLocks } from "../../compose/lock.ts";
import type { ComposeInput, ComposeProject } from "../../compose/types.ts";
import type { Dispatcher, HandlerContext, Handlers } from "../dispatch.ts";
import { displayName } from "../../docker/views.ts";
import { anonymousVolumesOf } from "../../docker/volumes.ts";

/**
 * What compose.deploy is handed (unaudited): the input and its parse, made once by the
 * caller (in the parse worker), which also needs the project's name for the audit row's target. A file that
 * does not parse carries its error, which the handler throws so the refusal is audited.
 */
export type DeployAttachment =
  & { input: ComposeInput }
  & ({ project: ComposeProject } | { error: unknown });

/** The compose input of a preview or deploy request body, type-checked. */
export function composeInputOf(params: Record<string, unknown>): ComposeInput {
  const text = (value: unknown, field: string) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new ValidationError(`${field} must be a string`, field);
    return value;
  };
  const yaml = text(params.yaml, "yaml");
  if (!yaml) throw new ValidationError("yaml is required", "yaml");
  const envFiles = params.env_files;
  if (
    envFiles !== undefined &&
    (typeof envFiles !== "object" || envFiles === null || Array.isArray(envFiles))
  ) {
    throw new ValidationError("env_files must be a map of file name to text", "env_files");
  }
  for (const [path, value] of Object.entries(envFiles ?? {})) {
    if (typeof value !== "string") {
      throw new ValidationError(
        `env_files: the file ${JSON.stringify(path.slice(0, 100))} must be text`,
        "env_files",
      );
    }
  }
  return {
    yaml,
    env: text(params.env, "env"),
    project: text(params.project, "project"),
    envFiles: envFiles as Record<string, string> | undefined,
    // Checked by parseCompose (a 400 naming the field): active profiles, other stack files.
    ...(params.profiles !== undefined ? { profiles: params.profiles as string[] } : {}),
    ...(params.files !== undefined ? { files: params.files as Record<string, string> } : {}),
  };
}

/** Restores the stored files after a failed deploy; says what the stack's files are now. */
async function putBack(
  stacksDir: string,
  project: string,
  previous: StoredStackFiles,
): Promise<string> {
  try {
    await restoreStackFiles(stacksDir, project, previous);
  } catch {
    return "restoring the stack's previous stored files failed: the stored file is this one";
  }
  return previous["compose.yaml"] === null
    ? "no file was stored for the stack: it had none before"
    : "the stack's stored files are the previous deploy's again";
}

/** A 404 from a removal: someone else removed it meanwhile, which is what was wanted. */
function goneIsFine(error: unknown) {
  if (error instanceof DockerError && error.daemonStatus === 404) return;
  throw error;
}

async function projectContainers(docker: DockerClient, project: string) {
  const containers = await listProjectContainers(docker, checkProjectName(project));
  if (containers.length === 0) {
    throw new HttpError(404, `No containers belong to the compose project "${project}"`);
  }
  return containers;
}

export function composeHandlers(
  docker: DockerClient,
  stacksDir: string,
  dispatcher: () => Dispatcher,
  /** Shared with every other mutation of a project (the stack update). */
  locks: ProjectLocks = createProjectLocks(),
): Handlers {
  const nested = (context: HandlerContext) =>
  (
    verb: string,
    target: string,
    params: Record<string, unknown>,
    progress?: (event: unknown) => void,
    attachment?: unknown,
  ) =>
    dispatcher().dispatch({
      verb,
      target,
      params,
      actor: context.actor,
      requestId: context.requestId,
      progress,
      attachment,
    });

  // One mutation of a project at a time: a second one is a 409 (audited as this verb's row).
  const locked =
    (operation: string, handler: (context: HandlerContext) => Promise<unknown>) =>
    async (context: HandlerContext) => {
      const release = locks.acquire(checkProjectName(context.target), {
        operation,
        actor: context.actor.username,
      });
      try {
        return await handler(context);
      } finally {
        release();
      }
    };

  const eachContainer = (verb: string) => async (context: HandlerContext) => {
    const containers = await projectContainers(docker, context.target);
    const done: string[] = [];
    for (const container of containers) {
      await nested(context)(verb, container.Id, {});
      done.push(displayName(container));
    }
    return { project: context.target, containers: done };
  };

  return {
    // The create body travels as the attachment: after interpolation its command, healthcheck
    // and labels may hold secrets, which must not reach the audit row. Params name the image.
    "docker.create": async ({ params, attachment }) => {
      const name = containerName(params.name);
      const { body, networks, files } = (attachment ?? {}) as {
        body?: Record<string, unknown>;
        /** Secrets and configs with environment:/content: sources (lib/compose/secrets.ts). */
        files?: InjectedFile[];
        /** Connected after create (below API 1.44, which takes one endpoint at create). */
        networks?: { name: string; endpoint: EndpointConfig }[];
      };
      if (!body || typeof body !== "object") throw new ValidationError("body is required", "body");
      // The parser checked these already; this is the last stop before the Engine.
      const strings = (value: unknown) => Array.isArray(value) ? value.map(String) : undefined;
      checkProcessSettings({
        command: strings(body.Cmd),
        entrypoint: strings(body.Entrypoint),
        env: strings(body.Env),
        labels: body.Labels as Record<string, string> | undefined,
        healthcheck: strings((body.Healthcheck as { Test?: unknown } | undefined)?.Test),
      }, { command: "Cmd", env: "Env", labels: "Labels", healthcheck: "Healthcheck" });
      let id: string;
      try {
        ({ Id: id } = await docker.json<{ Id: string }>("POST", "/containers/create", {
          query: { name },
          json: body,
        }));
      } catch (error) {
        const explained = await explainEngineError(docker, error);
        if (explained !== error) throw explained;
        if (error instanceof DockerError && error.daemonStatus === 409) {
          throw new HttpError(409, error.message, "name");
        }
        throw error;
      }
      await injectFiles(docker, id, name, files ?? []);
      // Never left half-configured: a connect that fails removes the container again.
      for (const network of networks ?? []) {
        try {
          if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(network.name)) {
            throw new ValidationError("Invalid network name", "networks");
          }
          await docker.json("POST", `/networks/${network.name}/connect`, {
            json: { Container: id, EndpointConfig: network.endpoint },
          });
        } catch (error) {
          const removed = await docker.json("DELETE", `/containers/${id}`, {
            query: { force: 1, v: 1 },
          }).then(() => true, () => false);
          const reason = error instanceof Error ? error.message : String(error);
          throw new HttpError(
            error instanceof HttpError ? error.status : 502,
            `Connecting container "${name}" to network "${
              network.name.slice(0, 100)
            }" failed: ${reason}; ${
              removed
                ? "the container was removed again"
                : "removing the container again failed too"
            }`,
          );
        }
      }
      return { id, name };
    },

    // The compose file travels as the attachment, never in params: its environment values
    // would otherwise land in the audit row.
    "compose.deploy": async (context) => {
      const attached = context.attachment as DeployAttachment | undefined;
      if (!attached) throw new ValidationError("yaml is required", "yaml");
      if ("error" in attached) throw attached.error;
      const { input, project } = attached;
      const order = deployOrder(project);
      const risks = project.warnings.filter((warning) => warning.kind === "risk");
      if (risks.length && context.params.acknowledge_risks !== true) {
        throw new ValidationError(
          `This file has risky settings; deploy it with acknowledge_risks: ${
            risks.map((r) => r.message).join("; ")
          }`,
          "acknowledge_risks",
        );
      }
      // Taken before the file is stored, so the stored file is always the one that runs.
      const release = locks.acquire(project.name, {
        operation: "deploy",
        actor: context.actor.username,
      });
      let previous: StoredStackFiles | undefined;
      try {
        previous = await snapshotStackFiles(stacksDir, project.name);
        const stackDir = await writeStackFiles(
          stacksDir,
          project.name,
          input.yaml,
          input.env,
          input.envFiles,
          project.active_profiles,
        );
        context.progress({
          status: "started",
          project: project.name,
          services: order.map((s) => s.name),
        });
        return await deployProject(
          { docker, dispatch: nested(context), stackDir, progress: context.progress },
          project,
          order,
          { removeOrphans: context.params.remove_orphans === true },
        );
      } catch (error) {
        // The stored files stay those of what ran before (a failed deploy replaced nothing,
        // or only part of it): the stack opens and redeploys as it was.
        const stored = previous ? await putBack(stacksDir, project.name, previous) : "";
        if (error instanceof DeployError) {
          // The audit row keeps only the error's message: it carries the per-service outcome.
          throw new HttpError(
            error.status >= 400 ? error.status : 502,
            `${error.message} (${stored}) [${failureSummary(error)}]`,
          );
        }
        throw error;
      } finally {
        release();
      }
    },

    "compose.stack.start": locked("start", eachContainer("docker.start")),
    "compose.stack.stop": locked("stop", eachContainer("docker.stop")),
    "compose.stack.restart": locked("restart", eachContainer("docker.restart")),

    // As `docker compose down [-v]`: whatever the project left, containers or not (a failed
    // deploy may leave only a network); with volumes, anonymous ones go with their containers.
    "compose.stack.down": locked("teardown", async (context) => {
      const project = checkProjectName(context.target);
      const withVolumes = context.params.volumes === true;
      const containers = await listProjectContainers(docker, project);
      const filters = JSON.stringify({ label: [`${LABEL.project}=${project}`] });
      const [networks, volumeList] = await Promise.all([
        docker.json<{ Id: string; Name: string }[]>("GET", "/networks", { query: { filters } }),
        withVolumes
          ? docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", {
            query: { filters },
          })
          : { Volumes: [] },
      ]);
      if (containers.length === 0 && networks.length === 0 && !volumeList.Volumes?.length) {
        throw new HttpError(404, `Nothing of the compose project "${project}" exists`);
      }
      // A recreated container mounts its predecessor's anonymous volume by name, and the
      // Engine's `rm -v` keeps a volume mounted by name: those go by name after the containers.
      const inherited = withVolumes ? anonymousVolumesOf(containers) : [];
      const removed: string[] = [];
      for (const container of containers) {
        await nested(context)("docker.rm", container.Id, { volumes: withVolumes });
        removed.push(displayName(container));
      }
      // Ids and names from the daemon go through the same checks as any other before a URL.
      for (const network of networks) {
        await docker.json("DELETE", `/networks/${networkRef(network.Id)}`).catch(goneIsFine);
      }
      const volumes: string[] = [];
      for (const volume of volumeList.Volumes ?? []) {
        await docker.json("DELETE", `/volumes/${volumeName(volume.Name)}`).catch(goneIsFine);
        volumes.push(volume.Name);
      }
      for (const name of inherited) {
        // Still used by a container outside the project (409): it stays, as with the CLI.
        const deleted = await docker.json("DELETE", `/volumes/${volumeName(name)}`).then(
          () => true,
          (error) => {
            if (error instanceof DockerError && error.daemonStatus === 409) return false;
            goneIsFine(error);
            return false;
          },
        );
        if (deleted) volumes.push(name);
      }
      return { project, containers: removed, networks: networks.map((n) => n.Name), volumes };
    }),

    // A stack brought down keeps its file (to redeploy from the list); forgetting deletes it.
    "compose.stack.forget": locked("forget", async ({ target }) => {
      if ((await listProjectContainers(docker, checkProjectName(target))).length > 0) {
        throw new HttpError(409, `Stack "${target}" still has containers; bring it down first`);
      }
      if (!(await removeStackFiles(stacksDir, target))) {
        throw new HttpError(404, `The panel holds no compose file for "${target}"`);
      }
      return { project: target, forgotten: true };
    }),
  };
}
