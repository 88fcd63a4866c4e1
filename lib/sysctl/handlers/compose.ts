/**
 * compose.deploy and the stack actions, plus docker.create, the container creation the
 * deployer dispatches per service. Each container operation inside a deploy is its own
 * dispatch (and audit row); the compose.deploy row carries the per-service results.
 */
import type { DockerClient } from "../../docker/client.ts";
import { DockerError } from "../../docker/errors.ts";
import {
  checkProcessSettings,
  containerName,
  networkRef,
  volumeName,
} from "../../docker/validate.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import { parseCompose } from "../../compose/parse.ts";
import { deployOrder } from "../../compose/order.ts";
import { DeployError, deployProject, failureSummary } from "../../compose/deploy.ts";
import { LABEL } from "../../compose/plan.ts";
import {
  checkProjectName,
  listProjectContainers,
  removeStackFiles,
  writeStackFiles,
} from "../../compose/stacks.ts";
import type { ComposeInput, ComposeProject } from "../../compose/types.ts";
import type { Dispatcher, HandlerContext, Handlers } from "../dispatch.ts";
import { displayName } from "../../docker/views.ts";

/**
 * What compose.deploy is handed (unaudited): the input and its parse, made once by the
 * caller, which also needs the project's name for the audit row's target. A file that
 * does not parse carries its error, which the handler throws so the refusal is audited.
 */
export type DeployAttachment =
  & { input: ComposeInput }
  & ({ project: ComposeProject } | { error: unknown });

export function parseForDeploy(input: ComposeInput): DeployAttachment {
  try {
    return { input, project: parseCompose(input) };
  } catch (error) {
    return { input, error };
  }
}

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
  };
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
      const { body, networks } = (attachment ?? {}) as {
        body?: Record<string, unknown>;
        networks?: { name: string; aliases: string[] }[];
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
        if (error instanceof DockerError && error.daemonStatus === 409) {
          throw new HttpError(409, error.message, "name");
        }
        throw error;
      }
      for (const network of networks ?? []) {
        if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(network.name)) {
          throw new ValidationError("Invalid network name", "networks");
        }
        await docker.json("POST", `/networks/${network.name}/connect`, {
          json: { Container: id, EndpointConfig: { Aliases: network.aliases } },
        });
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
      const stackDir = await writeStackFiles(
        stacksDir,
        project.name,
        input.yaml,
        input.env,
        input.envFiles,
      );
      context.progress({
        status: "started",
        project: project.name,
        services: order.map((s) => s.name),
      });
      try {
        return await deployProject(
          { docker, dispatch: nested(context), stackDir, progress: context.progress },
          project,
          order,
          { removeOrphans: context.params.remove_orphans === true },
        );
      } catch (error) {
        if (error instanceof DeployError) {
          // The audit row keeps only the error's message: it carries the per-service outcome.
          throw new HttpError(
            error.status >= 400 ? error.status : 502,
            `${error.message} [${failureSummary(error)}]`,
          );
        }
        throw error;
      }
    },

    "compose.stack.start": eachContainer("docker.start"),
    "compose.stack.stop": eachContainer("docker.stop"),
    "compose.stack.restart": eachContainer("docker.restart"),

    "compose.stack.down": async (context) => {
      const project = context.target;
      const containers = await projectContainers(docker, project);
      const removed: string[] = [];
      for (const container of containers) {
        await nested(context)("docker.rm", container.Id, { volumes: false });
        removed.push(displayName(container));
      }
      const filters = JSON.stringify({ label: [`${LABEL.project}=${project}`] });
      const networks = await docker.json<{ Id: string; Name: string }[]>("GET", "/networks", {
        query: { filters },
      });
      // Ids and names from the daemon go through the same checks as any other before a URL.
      const networkIds = networks.map((network) => networkRef(network.Id));
      for (const id of networkIds) await docker.json("DELETE", `/networks/${id}`);
      const volumes: string[] = [];
      if (context.params.volumes === true) {
        const list = await docker.json<{ Volumes: { Name: string }[] | null }>("GET", "/volumes", {
          query: { filters },
        });
        const names = (list.Volumes ?? []).map((volume) => volumeName(volume.Name));
        for (const name of names) {
          await docker.json("DELETE", `/volumes/${name}`);
          volumes.push(name);
        }
      }
      return { project, containers: removed, networks: networks.map((n) => n.Name), volumes };
    },

    // A stack brought down keeps its file (to redeploy from the list); forgetting deletes it.
    "compose.stack.forget": async ({ target }) => {
      if ((await listProjectContainers(docker, checkProjectName(target))).length > 0) {
        throw new HttpError(409, `Stack "${target}" still has containers; bring it down first`);
      }
      if (!(await removeStackFiles(stacksDir, target))) {
        throw new HttpError(404, `The panel holds no compose file for "${target}"`);
      }
      return { project: target, forgotten: true };
    },
  };
}
