/**
 * A parsed compose project (+ its swarm settings, extras.ts) → what `docker stack deploy`
 * creates: overlay networks, secrets and configs, and services named `<stack>_<service>`,
 * every one labelled `com.docker.stack.namespace=<stack>`. Pure: file contents for `file:`
 * secrets and configs are handed in.
 */
import { ValidationError } from "../errors.ts";
import { bindSource } from "../compose/plan.ts";
import type { ComposeProject, ComposeWarning, ServiceSpec } from "../compose/types.ts";
import type {
  IgnoredKey,
  ServiceExtras,
  StackExtras,
  SwarmFileReference,
  SwarmUpdateConfig,
} from "./extras.ts";

export const NAMESPACE_LABEL = "com.docker.stack.namespace";
export const IMAGE_LABEL = "com.docker.stack.image";
/** Swarm's limit for one secret or config. */
export const MAX_OBJECT_BYTES = 500 * 1024;

export interface NetworkPlan {
  /** The compose key. */
  key: string;
  name: string;
  external: boolean;
  /** The Engine's create body (absent for external networks). */
  create?: Record<string, unknown>;
}

export interface ObjectPlan {
  key: string;
  name: string;
  external: boolean;
  labels: Record<string, string>;
  /** Base64 of the contents (absent for external ones). Never audited, never previewed. */
  data?: string;
}

export interface ServicePlan {
  key: string;
  name: string;
  /** The Engine's ServiceSpec; secret and config references carry names, ids come at deploy. */
  spec: Record<string, unknown>;
}

export interface StackPlan {
  name: string;
  networks: NetworkPlan[];
  secrets: ObjectPlan[];
  configs: ObjectPlan[];
  services: ServicePlan[];
  ignored: IgnoredKey[];
  warnings: ComposeWarning[];
}

export function scope(stack: string, name: string): string {
  return `${stack}_${name}`;
}

export function convertStack(
  project: ComposeProject,
  extras: StackExtras,
  options: {
    /** Texts of the stack folder's files that `file:` secrets and configs name. */
    files?: Record<string, string>;
    /** Where relative bind sources are resolved (the stack's folder on the manager). */
    stackDir: string;
  },
): StackPlan {
  const files = options.files ?? {};
  const stack = project.name;
  const withNamespace = (labels: Record<string, string> = {}) => ({
    ...labels,
    [NAMESPACE_LABEL]: stack,
  });
  const services = project.services;
  for (const service of services) {
    if (service.build) {
      throw new ValidationError(
        `Service "${service.name}" has build: but no image: swarm does not build images, so give it the image the nodes should pull`,
        "compose",
      );
    }
  }

  const usedNetworks = new Set<string>();
  for (const service of services) {
    for (const key of Object.keys(networksOf(service))) usedNetworks.add(key);
  }
  const networkName = (key: string) => project.networks[key]?.name ?? scope(stack, key);
  const networks: NetworkPlan[] = [...usedNetworks].sort().map((key) => {
    const spec = project.networks[key];
    const name = networkName(key);
    if (spec?.external) return { key, name, external: true };
    const more = extras.networks[key];
    const create: Record<string, unknown> = {
      Name: name,
      Driver: spec?.driver || "overlay",
      Labels: withNamespace(more?.labels),
      Attachable: more?.attachable ?? false,
      Internal: more?.internal ?? false,
      CheckDuplicate: true,
    };
    if (more && Object.keys(more.driver_opts).length) create.Options = more.driver_opts;
    if (spec?.ipam) {
      create.IPAM = {
        Driver: spec.ipam.driver || "default",
        Config: spec.ipam.config.filter((c) => c.subnet).map((c) => ({ Subnet: c.subnet })),
      };
    }
    return { key, name, external: false, create };
  });

  const objects = (kind: "secrets" | "configs"): ObjectPlan[] => {
    const used = new Set<string>();
    for (const service of services) {
      for (const reference of extras.services[service.name]?.[kind] ?? []) {
        if (!Object.hasOwn(extras[kind], reference.source)) {
          throw new ValidationError(
            `Service "${service.name}" uses the ${
              singular(kind)
            } "${reference.source}", which is not declared under the top-level ${kind}:`,
            "compose",
          );
        }
        used.add(reference.source);
      }
    }
    // As the CLI: every declared one is created, used or not.
    return Object.keys(extras[kind]).sort().map((key) => {
      const spec = extras[kind][key];
      const name = spec.name ?? scope(stack, key);
      if (spec.external) return { key, name, external: true, labels: {} };
      let text: string;
      if (spec.file !== undefined) {
        const path = stackRelative(spec.file, `${kind}.${key}.file`);
        const found = Object.hasOwn(files, path) ? files[path] : undefined;
        if (found === undefined) {
          throw new ValidationError(
            `The ${
              singular(kind)
            } "${key}" reads the file "${path}", which was not sent with the stack and is not in its folder`,
            "files",
          );
        }
        text = found;
      } else {
        text = spec.content ?? "";
      }
      const bytes = new TextEncoder().encode(text);
      if (bytes.length > MAX_OBJECT_BYTES) {
        throw new ValidationError(
          `The ${singular(kind)} "${key}" is larger than swarm's 500 KiB limit`,
          kind,
        );
      }
      return {
        key,
        name,
        external: false,
        labels: withNamespace(spec.labels),
        data: base64(bytes),
      };
    });
  };
  const secrets = objects("secrets");
  const configs = objects("configs");
  const objectName = (kind: "secrets" | "configs", key: string) =>
    extras[kind][key].name ?? scope(stack, key);

  const ignored: IgnoredKey[] = [];
  const servicePlans = services.map((service) => {
    const more: ServiceExtras = extras.services[service.name] ?? {
      deploy: { labels: {}, constraints: [], preferences: [] },
      secrets: [],
      configs: [],
      host_ports: [],
      ignored: [],
    };
    ignored.push(...more.ignored);
    const name = scope(stack, service.name);
    return {
      key: service.name,
      name,
      spec: serviceSpec(stack, name, service, more, {
        network: networkName,
        secret: (key) => objectName("secrets", key),
        config: (key) => objectName("configs", key),
        volume: (key) => project.volumes[key],
        volumeExtras: (key) => extras.volumes[key],
        bind: (source) => bindSource(source, options.stackDir),
      }),
    };
  });

  return {
    name: stack,
    networks,
    secrets,
    configs,
    services: servicePlans,
    ignored,
    warnings: swarmWarnings(project.warnings, ignored),
  };
}

interface Names {
  network(key: string): string;
  secret(key: string): string;
  config(key: string): string;
  volume(key: string): ComposeProject["volumes"][string] | undefined;
  volumeExtras(key: string): StackExtras["volumes"][string] | undefined;
  bind(source: string): string;
}

function networksOf(service: ServiceSpec): ServiceSpec["networks"] {
  // network_mode is ignored by swarm: such a service joins the stack's default network.
  return Object.keys(service.networks).length ? service.networks : { default: { aliases: [] } };
}

function serviceSpec(
  stack: string,
  name: string,
  service: ServiceSpec,
  more: ServiceExtras,
  names: Names,
): Record<string, unknown> {
  const deploy = more.deploy;
  const container: Record<string, unknown> = {
    Image: service.image,
    Labels: { ...service.labels, [NAMESPACE_LABEL]: stack },
    Env: Object.entries(service.environment).map(([k, v]) => `${k}=${v}`).sort(),
    Privileges: {},
  };
  if (service.entrypoint) container.Command = service.entrypoint;
  if (service.command) container.Args = service.command;
  if (service.hostname) container.Hostname = service.hostname;
  if (service.working_dir) container.Dir = service.working_dir;
  if (service.user) container.User = service.user;
  if (service.stop_signal) container.StopSignal = service.stop_signal;
  if (service.stop_grace_period_s !== undefined) {
    container.StopGracePeriod = service.stop_grace_period_s * 1e9;
  }
  if (service.tty) container.TTY = true;
  if (service.stdin_open) container.OpenStdin = true;
  if (Object.keys(service.sysctls).length) container.Sysctls = service.sysctls;
  if (service.extra_hosts.length) {
    // SwarmKit's notation: "IP hostname".
    container.Hosts = service.extra_hosts.map((entry) => {
      const at = entry.indexOf(":");
      return `${entry.slice(at + 1)} ${entry.slice(0, at)}`;
    });
  }
  if (service.healthcheck) {
    const check = service.healthcheck;
    const health: Record<string, unknown> = { Test: check.test };
    if (check.interval_ms !== undefined) health.Interval = check.interval_ms * 1e6;
    if (check.timeout_ms !== undefined) health.Timeout = check.timeout_ms * 1e6;
    if (check.start_period_ms !== undefined) health.StartPeriod = check.start_period_ms * 1e6;
    if (check.retries !== undefined) health.Retries = check.retries;
    container.Healthcheck = health;
  }
  const mounts = mountsOf(stack, service, names);
  if (mounts.length) container.Mounts = mounts;
  const reference = (kind: "secrets" | "configs", r: SwarmFileReference) => ({
    File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode },
    [kind === "secrets" ? "SecretName" : "ConfigName"]: kind === "secrets"
      ? names.secret(r.source)
      : names.config(r.source),
  });
  if (more.secrets.length) {
    container.Secrets = more.secrets.map((r) => reference("secrets", r))
      .sort((a, b) => String(a.SecretName).localeCompare(String(b.SecretName)));
  }
  if (more.configs.length) {
    container.Configs = more.configs.map((r) => reference("configs", r))
      .sort((a, b) => String(a.ConfigName).localeCompare(String(b.ConfigName)));
  }

  const task: Record<string, unknown> = {
    ContainerSpec: container,
    Placement: placementOf(deploy),
    Networks: Object.entries(networksOf(service)).map(([key, settings]) => ({
      Target: names.network(key),
      Aliases: [...settings.aliases, service.name],
    })).sort((a, b) => a.Target.localeCompare(b.Target)),
  };
  const resources: Record<string, unknown> = {};
  if (deploy.limits) {
    resources.Limits = dropUndefined({
      NanoCPUs: deploy.limits.nano_cpus,
      MemoryBytes: deploy.limits.memory_bytes,
      Pids: deploy.limits.pids,
    });
  }
  if (deploy.reservations) {
    resources.Reservations = dropUndefined({
      NanoCPUs: deploy.reservations.nano_cpus,
      MemoryBytes: deploy.reservations.memory_bytes,
    });
  }
  task.Resources = resources;
  const restart = restartPolicyOf(more, service);
  if (restart) task.RestartPolicy = restart;

  const spec: Record<string, unknown> = {
    Name: name,
    Labels: { ...deploy.labels, [NAMESPACE_LABEL]: stack, [IMAGE_LABEL]: service.image },
    TaskTemplate: task,
    Mode: modeOf(deploy.mode, deploy.replicas ?? service.replicas),
    EndpointSpec: dropUndefined({
      Mode: deploy.endpoint_mode,
      Ports: service.ports.map((port) => ({
        Protocol: port.protocol,
        TargetPort: port.target,
        PublishedPort: port.published === "" ? 0 : Number(port.published),
        PublishMode: more.host_ports.includes(`${port.target}/${port.protocol}`)
          ? "host"
          : "ingress",
      })).sort((a, b) =>
        a.PublishedPort - b.PublishedPort || a.TargetPort - b.TargetPort ||
        a.Protocol.localeCompare(b.Protocol)
      ),
    }),
  };
  if (deploy.update_config) spec.UpdateConfig = updateConfigOf(deploy.update_config);
  if (deploy.rollback_config) spec.RollbackConfig = updateConfigOf(deploy.rollback_config);
  return spec;
}

function mountsOf(stack: string, service: ServiceSpec, names: Names): Record<string, unknown>[] {
  const mounts: Record<string, unknown>[] = [];
  for (const volume of service.volumes) {
    if (volume.type === "volume") {
      const declared = names.volume(volume.source);
      const mount: Record<string, unknown> = {
        Type: "volume",
        Source: declared?.name ?? scope(stack, volume.source),
        Target: volume.target,
        ReadOnly: volume.read_only,
        VolumeOptions: {},
      };
      if (!declared?.external) {
        const more = names.volumeExtras(volume.source);
        const options: Record<string, unknown> = {
          Labels: { ...more?.labels, [NAMESPACE_LABEL]: stack },
        };
        if (declared?.driver || (more && Object.keys(more.driver_opts).length)) {
          options.DriverConfig = dropUndefined({
            Name: declared?.driver,
            Options: more && Object.keys(more.driver_opts).length ? more.driver_opts : undefined,
          });
        }
        mount.VolumeOptions = options;
      }
      mounts.push(mount);
    } else if (volume.type === "bind") {
      mounts.push({
        Type: "bind",
        Source: names.bind(volume.source),
        Target: volume.target,
        ReadOnly: volume.read_only,
      });
    } else if (volume.type === "anonymous") {
      mounts.push({ Type: "volume", Target: volume.target, ReadOnly: volume.read_only });
    } else {
      const options = dropUndefined({ SizeBytes: volume.size_bytes, Mode: volume.mode });
      mounts.push({
        Type: "tmpfs",
        Target: volume.target,
        ...(Object.keys(options).length ? { TmpfsOptions: options } : {}),
      });
    }
  }
  // Service-level tmpfs: ("PATH[:OPTIONS]") as tmpfs mounts.
  for (const entry of service.tmpfs ?? []) {
    const [target, options = ""] = entry.split(":", 2);
    const size = /(?:^|,)size=(\d+)(?:,|$)/.exec(options)?.[1];
    mounts.push({
      Type: "tmpfs",
      Target: target,
      ...(size ? { TmpfsOptions: { SizeBytes: Number(size) } } : {}),
    });
  }
  return mounts;
}

function placementOf(deploy: ServiceExtras["deploy"]): Record<string, unknown> {
  const placement: Record<string, unknown> = {};
  if (deploy.constraints.length) placement.Constraints = deploy.constraints;
  if (deploy.preferences.length) {
    placement.Preferences = deploy.preferences.map((spread) => ({
      Spread: { SpreadDescriptor: spread },
    }));
  }
  if (deploy.max_replicas_per_node !== undefined) {
    placement.MaxReplicas = deploy.max_replicas_per_node;
  }
  return placement;
}

function modeOf(mode: string | undefined, replicas: number | undefined): Record<string, unknown> {
  switch (mode) {
    case "global":
      return { Global: {} };
    case "global-job":
      return { GlobalJob: {} };
    case "replicated-job":
      return {
        ReplicatedJob: dropUndefined({ MaxConcurrent: replicas, TotalCompletions: replicas }),
      };
    default:
      return { Replicated: { Replicas: replicas ?? 1 } };
  }
}

/** deploy.restart_policy, else `restart:` as the CLI falls back to it. */
function restartPolicyOf(
  more: ServiceExtras,
  service: ServiceSpec,
): Record<string, unknown> | undefined {
  const policy = more.deploy.restart_policy;
  if (policy) {
    return dropUndefined({
      Condition: policy.condition,
      Delay: policy.delay_ns,
      MaxAttempts: policy.max_attempts,
      Window: policy.window_ns,
    });
  }
  if (more.restart === undefined) return undefined;
  const { name, max_retries } = service.restart;
  if (name === "no") return undefined;
  return dropUndefined({
    Condition: name === "on-failure" ? "on-failure" : "any",
    MaxAttempts: max_retries > 0 ? max_retries : undefined,
  });
}

function updateConfigOf(config: SwarmUpdateConfig): Record<string, unknown> {
  return dropUndefined({
    Parallelism: config.parallelism,
    Delay: config.delay_ns ?? 0,
    FailureAction: config.failure_action,
    Monitor: config.monitor_ns,
    MaxFailureRatio: config.max_failure_ratio ?? 0,
    Order: config.order,
  });
}

/**
 * The parse's warnings that still hold on a swarm: those about deploy keys, external
 * secrets and file modes are about running without swarm, and those about keys swarm
 * ignores (listed in `ignored`) say nothing more. Secret and config files are read from the
 * stack folder, never mounted from the host, so their mount warnings go too.
 */
export function swarmWarnings(warnings: ComposeWarning[], ignored: IgnoredKey[]): ComposeWarning[] {
  const ignoredAt = new Set(ignored.map((i) => `${i.service}:${i.line}`));
  return warnings.filter((warning) => {
    if (warning.service !== null && ignoredAt.has(`${warning.service}:${warning.line}`)) {
      return false;
    }
    const text = warning.message;
    if (warning.kind === "unsupported" && /\bdeploy\.[a-z_.]+ is not supported/.test(text)) {
      return false;
    }
    if (/need swarm mode|outside swarm mode|would have overridden restart/.test(text)) return false;
    if (warning.kind === "risk" && /^(secrets|configs)\./.test(text)) return false;
    return true;
  });
}

/** A `file:` of a secret or config: a path inside the stack folder, cleaned ("a/./b" → "a/b"). */
export function stackRelative(path: string, what: string): string {
  const parts: string[] = [];
  let outside = path.startsWith("/") || path.startsWith("~") || /[\0\n]/.test(path);
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) outside = true;
      parts.pop();
    } else parts.push(part);
  }
  if (outside || parts.length === 0) {
    throw new ValidationError(
      `${what} must name a file inside the stack's folder, got ${
        JSON.stringify(path.slice(0, 200))
      }`,
      "compose",
    );
  }
  return parts.join("/");
}

function singular(kind: "secrets" | "configs"): string {
  return kind === "secrets" ? "secret" : "config";
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
