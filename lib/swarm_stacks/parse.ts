/**
 * A compose file read for a swarm stack: the project as the compose parser normalises it,
 * plus the settings only swarm has (extras.ts), then converted (convert.ts).
 */
import { parseCompose } from "../compose/parse.ts";
import type { ComposeProject } from "../compose/types.ts";
import { convertStack, type StackPlan } from "./convert.ts";
import { readStackExtras, type StackExtras } from "./extras.ts";

export interface SwarmStackInput {
  /** The stack's name (the namespace), already checked. */
  name: string;
  yaml: string;
  env?: string;
}

export interface ParsedStack {
  project: ComposeProject;
  extras: StackExtras;
}

export function parseSwarmStack(input: SwarmStackInput): ParsedStack {
  const project = parseCompose({ yaml: input.yaml, env: input.env, project: input.name });
  const extras = readStackExtras(
    { yaml: input.yaml, env: input.env, project: project.name },
    project.services.map((service) => service.name),
  );
  return { project, extras };
}

/** Parses and converts in one step. */
export function planSwarmStack(
  input: SwarmStackInput,
  options: { files?: Record<string, string>; stackDir: string },
): StackPlan {
  const { project, extras } = parseSwarmStack(input);
  return convertStack(project, extras, options);
}
