/**
 * swarm.stack.deploy and swarm.stack.remove. The route parses and converts the file; the
 * handler checks the Engine is a manager, deploys (or removes) and keeps the panel's copy
 * of the stack's files. Secret and config contents travel only in the attachment.
 */
import type { DockerClient } from "../../docker/client.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import type { StackPlan } from "../../swarm_stacks/convert.ts";
import { deployStack, removeStack } from "../../swarm_stacks/deploy.ts";
import { assertManager } from "../../swarm_stacks/engine.ts";
import {
  checkStackName,
  removeSwarmStackFiles,
  writeSwarmStackFiles,
} from "../../swarm_stacks/store.ts";
import type { Handlers } from "../dispatch.ts";

export interface SwarmDeployAttachment {
  plan: StackPlan;
  yaml: string;
  env?: string;
  /** Files sent with the deploy (their texts may be secret). */
  files: Record<string, string>;
}

export function swarmStackHandlers(docker: DockerClient, stacksDir: string): Handlers {
  // One mutation per stack at a time.
  const busy = new Set<string>();
  const exclusive = async <T>(stack: string, run: () => Promise<T>): Promise<T> => {
    if (busy.has(stack)) {
      throw new HttpError(
        409,
        `Swarm stack "${stack}" is being changed already; try again shortly`,
      );
    }
    busy.add(stack);
    try {
      return await run();
    } finally {
      busy.delete(stack);
    }
  };

  return {
    "swarm.stack.deploy": ({ target, params, attachment, progress }) => {
      const input = attachment as SwarmDeployAttachment | undefined;
      if (!input?.plan || input.plan.name !== target) {
        throw new ValidationError("A compose file is required", "compose");
      }
      const risks = input.plan.warnings.filter((warning) => warning.kind === "risk");
      if (risks.length && params.acknowledge_risks !== true) {
        throw new ValidationError(
          `The file asks for settings that can take over the nodes (${
            risks.map((risk) => risk.message).join("; ")
          }): deploy again with acknowledge_risks to accept them`,
          "acknowledge_risks",
        );
      }
      return exclusive(target, async () => {
        await assertManager(docker);
        progress({ status: "started", id: target });
        const result = await deployStack(docker, input.plan, progress);
        await writeSwarmStackFiles(stacksDir, target, input.yaml, input.env, input.files);
        return result;
      });
    },
    "swarm.stack.remove": ({ target, progress }) => {
      const stack = checkStackName(target);
      return exclusive(stack, async () => {
        await assertManager(docker);
        let result;
        try {
          result = await removeStack(docker, stack, progress);
        } catch (error) {
          // Nothing left on the swarm: the panel's copy of the files still goes.
          const gone = error instanceof HttpError && error.status === 404;
          if (!gone || !(await removeSwarmStackFiles(stacksDir, stack))) throw error;
          return { stack, removed: null, files_removed: true };
        }
        const files = await removeSwarmStackFiles(stacksDir, stack);
        return { ...result, files_removed: files };
      });
    },
  };
}
