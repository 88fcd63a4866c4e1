/**
 * A compose file read for a swarm stack. The settings only swarm has (extras.ts) are read
 * from a copy of the YAML tree; the keys swarm ignores and `deploy:` are then taken out of
 * the tree the compose normaliser reads, so container-only rules (container_name with
 * replicas, depends_on targets, deploy.replicas: 0 skipping a service) do not apply.
 */
import { HttpError, ValidationError } from "../errors.ts";
import { checkProcessSettings } from "../docker/validate.ts";
import { ComposeError } from "../compose/errors.ts";
import { DotenvError, parseDotenv } from "../compose/dotenv.ts";
import { MAX_ENV_BYTES, normaliseProject } from "../compose/normalise.ts";
import { MAX_COMPOSE_BYTES, MAX_SERVICES, normaliseProjectName } from "../compose/parse.ts";
import type { ComposeProject, ComposeWarning, ServiceSpec } from "../compose/types.ts";
import { loadYaml, type YMap } from "../compose/yaml.ts";
import { convertStack, type StackPlan } from "./convert.ts";
import { IGNORED_SERVICE_KEYS, readStackExtras, type StackExtras } from "./extras.ts";

export interface SwarmStackInput {
  /** The stack's name (the namespace). */
  name: string;
  yaml: string;
  env?: string;
}

export interface ParsedStack {
  project: ComposeProject;
  extras: StackExtras;
}

export function parseSwarmStack(input: SwarmStackInput): ParsedStack {
  const encoder = new TextEncoder();
  if (
    input.yaml.length > MAX_COMPOSE_BYTES || encoder.encode(input.yaml).length > MAX_COMPOSE_BYTES
  ) {
    throw new HttpError(413, "The compose file is larger than 1 MiB", "compose");
  }
  if (input.env !== undefined && encoder.encode(input.env).length > MAX_ENV_BYTES) {
    throw new HttpError(413, "The .env file is larger than 1 MiB", "env");
  }
  const project = normaliseProjectName(input.name);
  let root;
  try {
    root = loadYaml(input.yaml);
  } catch (error) {
    if (error instanceof RangeError) throw new ComposeError("The YAML is too deeply nested");
    throw error;
  }
  if (root === null) throw new ComposeError("The compose file is empty");
  if (root.kind !== "map") {
    throw new ComposeError(
      "The top level of a compose file must be a map of keys (services:, …)",
      "yaml",
      root.line,
    );
  }
  const services = root.entries.get("services")?.value;
  if (services?.kind === "map" && services.entries.size > MAX_SERVICES) {
    throw new ComposeError(
      `The file has more than ${MAX_SERVICES} services`,
      "yaml",
      services.line,
    );
  }
  const warnings: ComposeWarning[] = [];
  let vars: Map<string, string>;
  try {
    vars = input.env
      ? parseDotenv(input.env, {
        onUnset: (name, line) =>
          warnings.push({
            line: null,
            service: null,
            kind: "interpolation",
            message: `.env line ${line}: the ${
              JSON.stringify(name)
            } variable is not set. Defaulting to a blank string.`,
          }),
      })
      : new Map();
  } catch (error) {
    if (error instanceof DotenvError) {
      throw new ComposeError(`.env line ${error.line}: ${error.message}`, "env");
    }
    throw error;
  }
  vars.set("COMPOSE_PROJECT_NAME", project);

  const extras = readStackExtras(structuredClone(root), { project, vars: new Map(vars) });
  withoutSwarmKeys(root);
  const parsed = normaliseProject(root, { project, vars, warnings });
  for (const service of parsed.services) checkProcess(service);
  parsed.warnings = warnings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { project: parsed, extras };
}

/** The same size and NUL checks as the compose parser and the run API. */
function checkProcess(service: ServiceSpec) {
  try {
    checkProcessSettings({
      command: service.command,
      entrypoint: service.entrypoint,
      env: Object.entries(service.environment).map(([key, value]) => `${key}=${value}`),
      labels: service.labels,
      healthcheck: service.healthcheck?.test,
    }, { command: "command", env: "environment", labels: "labels", healthcheck: "healthcheck" });
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ComposeError(`Service "${service.name}": ${error.message}`, "yaml", service.line);
    }
    throw error;
  }
}

/** Takes `deploy:` and the keys swarm ignores out of every service (extras.ts read them). */
function withoutSwarmKeys(root: YMap) {
  const services = root.entries.get("services")?.value;
  if (services?.kind !== "map") return;
  for (const entry of services.entries.values()) {
    if (entry.value.kind !== "map") continue;
    for (const key of [...entry.value.entries.keys()]) {
      // build: stays only where it names the image (a service needs one).
      if (key === "build" && entry.value.entries.has("image")) entry.value.entries.delete(key);
      else if (key !== "build" && (key === "deploy" || Object.hasOwn(IGNORED_SERVICE_KEYS, key))) {
        entry.value.entries.delete(key);
      }
    }
  }
}

/** Parses and converts in one step. */
export function planSwarmStack(
  input: SwarmStackInput,
  options: { files?: Record<string, string>; stackDir: string },
): StackPlan {
  const { project, extras } = parseSwarmStack(input);
  return convertStack(project, extras, options);
}
