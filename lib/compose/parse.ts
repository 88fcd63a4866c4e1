/**
 * The pure compose parser: a compose file (plus an optional .env text and env_file texts)
 * → a normalised ComposeProject (types.ts) with warnings. No I/O, and never the panel's
 * own environment: variables come only from the .env text and COMPOSE_PROJECT_NAME.
 *
 *   size check (413) → YAML with depth/alias/document limits (yaml.ts) → project name →
 *   .env (dotenv.ts) → per-value interpolation and normalisation (normalise.ts) →
 *   dependency check (order.ts)
 */
import { HttpError, ValidationError } from "../errors.ts";
import { checkProcessSettings } from "../docker/validate.ts";
import { DotenvError, parseDotenv } from "./dotenv.ts";
import { ComposeError, shown } from "./errors.ts";
import { interpolate, InterpolationError } from "./interpolate.ts";
import { MAX_ENV_BYTES, normaliseProject } from "./normalise.ts";
import { deployOrder } from "./order.ts";
import type { ComposeInput, ComposeProject, ComposeWarning, ServiceSpec } from "./types.ts";
import { loadYaml, type YNode } from "./yaml.ts";

export { ComposeError } from "./errors.ts";

export const MAX_COMPOSE_BYTES = 1024 * 1024;
/** Services in one file: each costs an image check in the preview and a container. */
export const MAX_SERVICES = 500;
/** Longest accepted project name. */
export const MAX_PROJECT_NAME = 64;

const PROJECT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Lowercases a project name after checking it holds only letters, digits, `_` and `-` and
 * starts with a letter or digit. Unlike compose-go nothing is stripped: `../../etc` is
 * refused, not turned into `etc`.
 */
export function normaliseProjectName(raw: string): string {
  if (typeof raw !== "string" || !PROJECT_NAME_RE.test(raw) || raw.length > MAX_PROJECT_NAME) {
    throw new ComposeError(
      `Invalid project name ${
        typeof raw === "string" ? shown(raw) : String(raw)
      }: use up to ${MAX_PROJECT_NAME} letters, digits, "_" and "-", starting with a letter or digit`,
      "project",
    );
  }
  return raw.toLowerCase();
}

function byteLength(text: string): number {
  // Every UTF-16 unit is at least one byte: skip the encoding when the answer is clear.
  if (text.length > MAX_COMPOSE_BYTES) return text.length;
  return new TextEncoder().encode(text).length;
}

export function parseCompose(input: ComposeInput): ComposeProject {
  if (typeof input?.yaml !== "string") throw new ComposeError("The compose file is missing");
  if (byteLength(input.yaml) > MAX_COMPOSE_BYTES) {
    throw new HttpError(413, "The compose file is larger than 1 MiB", "yaml");
  }
  if (input.env !== undefined && typeof input.env !== "string") {
    throw new ComposeError("The .env file must be text", "env");
  }
  if (input.env !== undefined && byteLength(input.env) > MAX_ENV_BYTES) {
    throw new HttpError(413, "The .env file is larger than 1 MiB", "env");
  }

  let root: YNode | null;
  try {
    root = loadYaml(input.yaml);
  } catch (error) {
    if (error instanceof RangeError) {
      // Belt and braces: the limits in yaml.ts should make this unreachable.
      throw new ComposeError("The YAML is too deeply nested");
    }
    throw error;
  }
  if (root === null) throw new ComposeError("The compose file is empty");
  if (root.kind !== "map") {
    throw new ComposeError(
      `The top level of a compose file must be a map of keys (services:, …), not ${
        root.kind === "seq" ? "a list" : "a single value"
      }`,
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
  const envWarning = (name: string, line: number) =>
    warnings.push({
      line: null,
      service: null,
      kind: "interpolation",
      message: `.env line ${line}: the ${
        JSON.stringify(name)
      } variable is not set. Defaulting to a blank string.`,
    });
  let vars: Map<string, string>;
  try {
    vars = input.env ? parseDotenv(input.env, { onUnset: envWarning }) : new Map();
  } catch (error) {
    if (error instanceof DotenvError) {
      throw new ComposeError(`.env line ${error.line}: ${error.message}`, "env");
    }
    throw error;
  }

  // The project name: the request's wins over the file's `name:` (which may use .env
  // variables, but not COMPOSE_PROJECT_NAME, which it defines).
  let project: string;
  if (typeof input.project === "string" && input.project !== "") {
    project = normaliseProjectName(input.project);
  } else {
    const entry = root.entries.get("name");
    const node = entry?.value;
    if (!node || (node.kind === "scalar" && node.value === null)) {
      throw new ComposeError(
        "A project name is required (give `name:` in the file or a project name)",
        "project",
      );
    }
    if (node.kind !== "scalar") {
      throw new ComposeError("name: must be a string", "yaml", node.line);
    }
    let raw = node.text;
    if (typeof node.value === "string") {
      try {
        raw = interpolate(node.value, (key) => vars.get(key), (key) =>
          warnings.push({
            line: node.line,
            service: null,
            kind: "interpolation",
            message: `The ${
              JSON.stringify(key)
            } variable is not set (name). Defaulting to a blank string.`,
          }));
      } catch (error) {
        if (error instanceof InterpolationError) {
          throw new ComposeError(`name: ${error.message}`, "yaml", node.line);
        }
        throw error;
      }
    }
    if (raw === "") {
      throw new ComposeError(
        "A project name is required (give `name:` in the file or a project name)",
        "project",
        node.line,
      );
    }
    try {
      project = normaliseProjectName(raw);
    } catch (error) {
      if (error instanceof ComposeError) {
        throw new ComposeError(error.message, "project", node.line);
      }
      throw error;
    }
  }
  vars.set("COMPOSE_PROJECT_NAME", project);

  const result = normaliseProject(root, {
    project,
    vars,
    envFiles: input.envFiles,
    files: stackFiles(input.files),
    profiles: activeProfiles(input.profiles),
    warnings,
  });
  if (result.services.length > MAX_SERVICES) {
    throw new ComposeError(`The project has more than ${MAX_SERVICES} services`, "yaml");
  }
  for (const service of result.services) checkServiceProcess(service);
  deployOrder(result); // throws on a dependency cycle
  result.warnings = sortWarnings(warnings);
  return result;
}

/** Active profiles: a list of names (at most 100). */
function activeProfiles(profiles: unknown): string[] {
  if (profiles === undefined || profiles === null) return [];
  if (
    !Array.isArray(profiles) || profiles.length > 100 ||
    !profiles.every((p) => typeof p === "string" && p.length <= 128)
  ) {
    throw new ComposeError("profiles must be a list of profile names", "profiles");
  }
  return profiles;
}

/** Other stack files for extends: and include:, each within the compose file's size cap. */
function stackFiles(files: unknown): Record<string, string> | undefined {
  if (files === undefined || files === null) return undefined;
  if (typeof files !== "object" || Array.isArray(files)) {
    throw new ComposeError("files must be a map of path to text", "files");
  }
  let total = 0;
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== "string") {
      throw new ComposeError(`files: ${shown(path)} must be text`, "files");
    }
    total += byteLength(text);
    if (total > MAX_COMPOSE_BYTES * 4) {
      throw new HttpError(413, "The stack files are larger than 4 MiB together", "files");
    }
  }
  return files as Record<string, string>;
}

/** The same size and NUL checks as the run API, before the Engine sees anything. */
function checkServiceProcess(service: ServiceSpec) {
  try {
    checkProcessSettings({
      command: service.command,
      entrypoint: service.entrypoint,
      env: Object.entries(service.environment).map(([key, value]) => `${key}=${value}`),
      labels: service.labels,
      healthcheck: service.healthcheck?.test,
    }, {
      command: "command",
      env: "environment",
      labels: "labels",
      healthcheck: "healthcheck",
    });
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ComposeError(`Service "${service.name}": ${error.message}`, "yaml", service.line);
    }
    throw error;
  }
}

/** By line (file-wide notes without a line first), duplicates removed. */
function sortWarnings(warnings: ComposeWarning[]): ComposeWarning[] {
  const seen = new Set<string>();
  const unique = warnings.filter((warning) => {
    const key = JSON.stringify([warning.line, warning.service, warning.kind, warning.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((warning, index) => ({ warning, index }))
    .sort((a, b) => (a.warning.line ?? 0) - (b.warning.line ?? 0) || a.index - b.index)
    .map(({ warning }) => warning);
}
