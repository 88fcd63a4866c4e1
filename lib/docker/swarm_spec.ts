/**
 * The body of `POST /api/swarm/services` → the Engine's ServiceSpec. Every problem is a
 * ValidationError naming the field. Secrets and configs are named by the caller and
 * resolved to ids by `resolveReferences` (they must exist).
 */
import { ValidationError } from "../errors.ts";
import { splitShellwords } from "../shellwords.ts";
import { parseCpus, parseMemory } from "./limits.ts";
import { checkProcessSettings, imageRef, onlyFields, stringMap } from "./validate.ts";
import type {
  ConfigReference,
  SecretReference,
  ServiceSpec,
  UpdateConfig,
} from "./swarm_services.ts";
import type { EngineSwarmObject } from "./swarm_secrets.ts";

export const SERVICE_CREATE_FIELDS = [
  "name",
  "image",
  "command",
  "env",
  "ports",
  "mode",
  "replicas",
  "constraints",
  "limits",
  "reservations",
  "update",
  "restart",
  "secrets",
  "configs",
  "networks",
  "labels",
] as const;

/** Swarm service names are DNS labels (they name the service's VIP). */
const SERVICE_NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
/** Secret and config names as swarm accepts them. */
const OBJECT_NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?$/;
const NETWORK_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const TARGET_RE = /^[a-zA-Z0-9_.-]{1,128}$/;
const CONFIG_TARGET_RE = /^\/?[a-zA-Z0-9_.-]+(\/[a-zA-Z0-9_.-]+){0,15}$/;
export const MAX_REPLICAS = 1000;

export function serviceName(value: unknown, field = "name"): string {
  if (typeof value !== "string" || !SERVICE_NAME_RE.test(value)) {
    throw new ValidationError(
      `${field} must be 1 to 63 letters, digits, - or _, starting and ending with a letter or digit`,
      field,
    );
  }
  return value;
}

/** The name of a new secret or config. */
export function swarmObjectName(value: unknown, field = "name"): string {
  if (typeof value !== "string" || !OBJECT_NAME_RE.test(value)) {
    throw new ValidationError(
      `${field} must be 1 to 64 letters, digits, -, _ or ., starting and ending with a letter or digit`,
      field,
    );
  }
  return value;
}

/** A request's `image`: a valid reference, refused naming the field. */
export function imageField(value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new ValidationError("image is required", "image");
  }
  try {
    return imageRef(value);
  } catch (error) {
    throw new ValidationError((error as Error).message, "image");
  }
}

export function replicaCount(value: unknown, field = "replicas"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_REPLICAS) {
    throw new ValidationError(`${field} must be a whole number from 0 to ${MAX_REPLICAS}`, field);
  }
  return value;
}

const NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A duration ("10s", "1m30s", "500ms") or a number of seconds → nanoseconds. */
export function durationNs(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  let ns = NaN;
  if (typeof value === "number" && value >= 0) ns = value * 1e9;
  else if (typeof value === "string" && /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(value)) {
    ns = 0;
    for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|ms|s|m|h)/g)) {
      ns += Number(amount) * NS[unit];
    }
  }
  if (!Number.isFinite(ns) || ns > 365 * 24 * 3600e9) {
    throw new ValidationError(`${field} must be a duration like 10s, 1m30s or 500ms`, field);
  }
  return Math.round(ns);
}

function objectOf(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError(`${field} must be an object`, field);
  }
  return value as Record<string, unknown>;
}

function listOf(value: unknown, field: string, max = 100): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > max) {
    throw new ValidationError(`${field} must be a list of at most ${max} entries`, field);
  }
  return value;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
): T | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new ValidationError(`${field} must be one of ${allowed.join(", ")}`, field);
  }
  return value as T;
}

function wholeNumber(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ValidationError(`${field} must be a whole number from 0 to ${max}`, field);
  }
  return value;
}

function commandOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") {
    try {
      return splitShellwords(value);
    } catch (error) {
      throw new ValidationError(`command: ${(error as Error).message}`, "command");
    }
  }
  if (Array.isArray(value) && value.every((word) => typeof word === "string")) return value;
  throw new ValidationError("command must be a string or a list of strings", "command");
}

function envOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const entries = Array.isArray(value)
    ? value.map((entry) => {
      if (typeof entry !== "string" || !/^[^=\s]+=/.test(entry)) {
        throw new ValidationError("env entries must look like KEY=value", "env");
      }
      return entry;
    })
    : Object.entries(objectOf(value, "env")!).map(([key, item]) => {
      if (!/^[^=\s]+$/.test(key) || typeof item !== "string") {
        throw new ValidationError(`env.${key.slice(0, 64)} must be a string`, "env");
      }
      return `${key}=${item}`;
    });
  return entries;
}

function portOf(value: unknown, index: number) {
  const field = `ports[${index}]`;
  const port = objectOf(value, field);
  if (!port) throw new ValidationError(`${field} must be an object`, field);
  onlyFields(port, ["published", "target", "protocol", "mode"]);
  const number = (item: unknown, name: string, required: boolean) => {
    if (item === undefined || item === null) {
      if (required) throw new ValidationError(`${field}.${name} is required`, field);
      return undefined;
    }
    if (typeof item !== "number" || !Number.isInteger(item) || item < 1 || item > 65535) {
      throw new ValidationError(`${field}.${name} must be a port from 1 to 65535`, field);
    }
    return item;
  };
  return {
    TargetPort: number(port.target, "target", true)!,
    PublishedPort: number(port.published, "published", false),
    Protocol: oneOf(port.protocol, ["tcp", "udp", "sctp"] as const, `${field}.protocol`) ?? "tcp",
    PublishMode: oneOf(port.mode, ["ingress", "host"] as const, `${field}.mode`) ?? "ingress",
  };
}

function resourcesOf(value: unknown, field: string) {
  const resources = objectOf(value, field);
  if (!resources) return undefined;
  onlyFields(resources, ["cpus", "memory"]);
  const cpus = parseCpus(resources.cpus, `${field}.cpus`);
  const memory = parseMemory(resources.memory, `${field}.memory`);
  return {
    ...(cpus !== null ? { NanoCPUs: cpus } : {}),
    ...(memory !== null ? { MemoryBytes: memory } : {}),
  };
}

function updateOf(value: unknown): UpdateConfig | undefined {
  const update = objectOf(value, "update");
  if (!update) return undefined;
  onlyFields(update, ["parallelism", "delay", "failure_action", "order", "monitor"]);
  return {
    Parallelism: wholeNumber(update.parallelism, "update.parallelism", MAX_REPLICAS) ?? 1,
    Delay: durationNs(update.delay, "update.delay") ?? 0,
    FailureAction: oneOf(
      update.failure_action,
      ["continue", "pause", "rollback"] as const,
      "update.failure_action",
    ) ?? "pause",
    Monitor: durationNs(update.monitor, "update.monitor"),
    Order: oneOf(update.order, ["stop-first", "start-first"] as const, "update.order") ??
      "stop-first",
  };
}

function restartOf(value: unknown): ServiceSpec["TaskTemplate"]["RestartPolicy"] {
  const restart = objectOf(value, "restart");
  if (!restart) return undefined;
  onlyFields(restart, ["condition", "delay", "max_attempts"]);
  return {
    Condition:
      oneOf(restart.condition, ["none", "on-failure", "any"] as const, "restart.condition") ??
        "any",
    Delay: durationNs(restart.delay, "restart.delay"),
    MaxAttempts: wholeNumber(restart.max_attempts, "restart.max_attempts", 1_000_000),
  };
}

/** `[{source, target?}]`: a secret or config named by the caller, mounted as `target`. */
export interface ObjectMount {
  source: string;
  target: string;
}

function mountsOf(value: unknown, field: "secrets" | "configs"): ObjectMount[] {
  return listOf(value, field).map((entry, index) => {
    const item = typeof entry === "string"
      ? { source: entry }
      : objectOf(entry, `${field}[${index}]`);
    if (!item) throw new ValidationError(`${field}[${index}] must be an object`, field);
    onlyFields(item, ["source", "target"]);
    const source = swarmObjectName(item.source, `${field}[${index}].source`);
    const target = item.target === undefined || item.target === "" ? source : item.target;
    // A secret is a file in /run/secrets; a config may be put at any absolute path.
    const pattern = field === "secrets" ? TARGET_RE : CONFIG_TARGET_RE;
    if (
      typeof target !== "string" || !pattern.test(target) ||
      target.split("/").some((part) => part === "." || part === "..")
    ) {
      throw new ValidationError(
        field === "secrets"
          ? `${field}[${index}].target must be a file name (letters, digits, _ . -)`
          : `${field}[${index}].target must be a file name or an absolute path`,
        field,
      );
    }
    return {
      source,
      target: field === "configs" && !target.startsWith("/") ? `/${target}` : target,
    };
  });
}

export interface ServiceRequest {
  spec: ServiceSpec;
  secrets: ObjectMount[];
  configs: ObjectMount[];
}

/** Checks a create body and builds the spec; secrets and configs are resolved later. */
export function parseServiceRequest(body: Record<string, unknown>): ServiceRequest {
  onlyFields(body, SERVICE_CREATE_FIELDS);
  const name = serviceName(body.name);
  const image = imageField(body.image);
  const args = commandOf(body.command);
  const env = envOf(body.env);
  const labels = stringMap(body.labels, "labels");
  checkProcessSettings({ command: args, env, labels });
  const mode = oneOf(body.mode, ["replicated", "global"] as const, "mode") ?? "replicated";
  if (mode === "global" && body.replicas !== undefined && body.replicas !== null) {
    throw new ValidationError("replicas is for replicated services, not global ones", "replicas");
  }
  const replicas = mode === "replicated"
    ? (body.replicas === undefined || body.replicas === null ? 1 : replicaCount(body.replicas))
    : undefined;
  const constraints = listOf(body.constraints, "constraints", 32).map((item) => {
    if (typeof item !== "string" || !/^[^\0\n]{1,256}$/.test(item) || !/(==|!=)/.test(item)) {
      throw new ValidationError(
        "constraints must be expressions like node.role==worker or node.labels.zone!=a",
        "constraints",
      );
    }
    return item;
  });
  const networks = listOf(body.networks, "networks", 32).map((item) => {
    if (typeof item !== "string" || !NETWORK_RE.test(item)) {
      throw new ValidationError("networks must be network names or ids", "networks");
    }
    return { Target: item };
  });
  const ports = listOf(body.ports, "ports").map(portOf);
  const limits = resourcesOf(body.limits, "limits");
  const reservations = resourcesOf(body.reservations, "reservations");
  const update = updateOf(body.update);
  const restart = restartOf(body.restart);

  const spec: ServiceSpec = {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        ...(args ? { Args: args } : {}),
        ...(env.length ? { Env: env } : {}),
      },
      ...(limits || reservations
        ? { Resources: { Limits: limits ?? {}, Reservations: reservations ?? {} } }
        : {}),
      ...(restart ? { RestartPolicy: restart } : {}),
      ...(constraints.length ? { Placement: { Constraints: constraints } } : {}),
      ...(networks.length ? { Networks: networks } : {}),
    },
    Mode: mode === "global" ? { Global: {} } : { Replicated: { Replicas: replicas } },
    ...(update ? { UpdateConfig: update } : {}),
    ...(ports.length ? { EndpointSpec: { Mode: "vip", Ports: ports } } : {}),
  };
  return {
    spec,
    secrets: mountsOf(body.secrets, "secrets"),
    configs: mountsOf(body.configs, "configs"),
  };
}

/**
 * Puts the secrets and configs into the spec by id. A name that does not exist is the
 * caller's 400, naming it.
 */
export function resolveReferences(
  request: ServiceRequest,
  secrets: EngineSwarmObject[],
  configs: EngineSwarmObject[],
): ServiceSpec {
  const find = (objects: EngineSwarmObject[], name: string, field: string, kind: string) => {
    const found = objects.find((object) => object.Spec.Name === name || object.ID === name);
    if (!found) throw new ValidationError(`No ${kind} named ${name}`, field);
    return found;
  };
  const file = (target: string) => ({ Name: target, UID: "0", GID: "0", Mode: 0o444 });
  const secretRefs: SecretReference[] = request.secrets.map((mount) => {
    const secret = find(secrets, mount.source, "secrets", "secret");
    return { File: file(mount.target), SecretID: secret.ID, SecretName: secret.Spec.Name };
  });
  const configRefs: ConfigReference[] = request.configs.map((mount) => {
    const config = find(configs, mount.source, "configs", "config");
    return { File: file(mount.target), ConfigID: config.ID, ConfigName: config.Spec.Name };
  });
  const container = request.spec.TaskTemplate.ContainerSpec;
  return {
    ...request.spec,
    TaskTemplate: {
      ...request.spec.TaskTemplate,
      ContainerSpec: {
        ...container,
        ...(secretRefs.length ? { Secrets: secretRefs } : {}),
        ...(configRefs.length ? { Configs: configRefs } : {}),
      },
    },
  };
}
