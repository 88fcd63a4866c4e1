/**
 * The normalised shape of a compose project, as the pure parser (parse.ts) produces it and
 * the planner and deployer (plan.ts, deploy.ts) consume it. Field names follow the Compose
 * Specification where one exists.
 */

export type WarningKind =
  | "unsupported"
  | "unknown"
  | "obsolete"
  | "risk"
  | "interpolation"
  /** About the host the file runs on (a bind source that does not exist). */
  | "host";

export interface ComposeWarning {
  /** 1-based line in the YAML, when known. */
  line: number | null;
  service: string | null;
  kind: WarningKind;
  message: string;
}

export interface PortMapping {
  /** "" for all addresses. */
  host_ip: string;
  /** "" lets the Engine pick a free host port. */
  published: string;
  target: number;
  protocol: "tcp" | "udp" | "sctp";
}

export type VolumeMount =
  /** A named volume: `source` is its key under the top-level `volumes:`. */
  | { type: "volume"; source: string; target: string; read_only: boolean }
  /** A bind mount: `source` as written (`./data`, `/srv/x`, `~/x`); the deployer resolves it. */
  | {
    type: "bind";
    source: string;
    target: string;
    read_only: boolean;
    selinux?: "z" | "Z";
    create_host_path: boolean;
  }
  /** An anonymous volume: a target only. */
  | { type: "anonymous"; target: string; read_only: boolean }
  /** `size_bytes`/`mode` (octal as a number) only when the file gives them. */
  | { type: "tmpfs"; target: string; size_bytes?: number; mode?: number };

/** One `networks:` entry of a service; the optional fields only when the file gives them. */
export interface ServiceNetwork {
  aliases: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  /** Higher first; the primary network is the first by priority, then by key. */
  priority?: number;
}

/** `deploy.resources` as the CLI applies them outside swarm mode (each only when given). */
export interface ServiceResources {
  memory_bytes?: number;
  nano_cpus?: number;
  pids?: number;
  memory_reservation_bytes?: number;
}

export interface HealthCheck {
  /**
   * The Engine's form: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]; [] (a healthcheck
   * with timings but no test) keeps the image's own test.
   */
  test: string[];
  interval_ms?: number;
  timeout_ms?: number;
  retries?: number;
  start_period_ms?: number;
  /** The Engine's StartInterval (compose `start_interval`). */
  start_interval_ms?: number;
}

export type DependsOnCondition =
  | "service_started"
  | "service_healthy"
  | "service_completed_successfully";

export interface ServiceSpec {
  name: string;
  /** Line of the service's key in the YAML. */
  line: number;
  image: string;
  container_name?: string;
  command?: string[];
  entrypoint?: string[];
  /** Values included: the API shows keys only. */
  environment: Record<string, string>;
  labels: Record<string, string>;
  ports: PortMapping[];
  /** "80", "8080/udp" */
  expose: string[];
  volumes: VolumeMount[];
  /**
   * Network keys (top-level `networks:` keys, "default" when none is given) → settings, in
   * the CLI's order: priority (highest first), then key. The first one is the primary.
   */
  networks: Record<string, ServiceNetwork>;
  network_mode?: string;
  restart: { name: "no" | "always" | "unless-stopped" | "on-failure"; max_retries: number };
  /** `restart` (restart this service when the dependency is recreated) is present only when true. */
  depends_on: Record<
    string,
    { condition: DependsOnCondition; required: boolean; restart?: true }
  >;
  healthcheck?: HealthCheck;
  user?: string;
  working_dir?: string;
  hostname?: string;
  cap_add: string[];
  cap_drop: string[];
  /** "host:ip" */
  extra_hosts: string[];
  stop_signal?: string;
  stop_grace_period_s?: number;
  sysctls: Record<string, string>;
  tty: boolean;
  stdin_open: boolean;
  privileged: boolean;
  /** Only "host" is kept (flagged as a risk); other `pid:` values are dropped with a warning. */
  pid?: "host";
  /** Only "host" is kept (flagged as a risk); other `ipc:` values are dropped with a warning. */
  ipc?: "host";
  /** `devices:` as "HOST[:CONTAINER[:PERMISSIONS]]" (flagged as a risk). */
  devices?: string[];
  /** Service-level `tmpfs:` as "PATH[:OPTIONS]". */
  tmpfs?: string[];
  resources?: ServiceResources;
  /** `deploy.replicas` when it is not 1. */
  replicas?: number;
  /** Present when the service is built from the stack directory (image: is its tag). */
  build?: BuildSpec;
  secrets?: FileReference[];
  configs?: FileReference[];
}

export interface NetworkSpec {
  /** The Engine name: `name:` when given, otherwise `<project>_<key>`; external ones as written. */
  name: string;
  external: boolean;
  driver?: string;
  ipam?: NetworkIpam;
  enable_ipv6?: boolean;
}

/** A network's `ipam:` in the Engine's terms. */
export interface NetworkIpam {
  driver?: string;
  config: { subnet?: string; ip_range?: string; gateway?: string }[];
}

export interface VolumeSpec {
  name: string;
  external: boolean;
  driver?: string;
}

/** `build:` of a service; paths as written, relative to the stack directory (checked). */
export interface BuildSpec {
  /** "." for the stack directory itself; never absolute, never leaving the directory. */
  context: string;
  /** Relative to the context; the Engine's default (Dockerfile) when absent. */
  dockerfile?: string;
  /** Values included (they may be secret: audit rows keep only the keys). */
  args: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
}

/** A service's use of a top-level secret or config (`secrets:` / `configs:` entries). */
export interface FileReference {
  /** The top-level key. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  uid?: string;
  gid?: string;
  /** Permission bits, 0o444 when not given. */
  mode?: number;
}

/**
 * A top-level secret or config. `content` (from `content:` or `environment:`) is the value
 * itself: it travels only in the deploy's unaudited attachment and never reaches a preview.
 */
export type FileObjectSpec =
  | { kind: "file"; file: string }
  | { kind: "content"; content: string }
  | { kind: "external"; name: string };

export interface ComposeProject {
  name: string;
  /**
   * Alphabetical by service name. Services skipped (build without image, inactive profile)
   * are not here.
   */
  services: ServiceSpec[];
  /** Every profile named in the file, sorted. */
  profiles?: string[];
  /** The profiles this parse treated as active. */
  active_profiles?: string[];
  /** Services left out because none of their profiles is active. */
  disabled_services?: string[];
  /** Keyed by the compose key; includes "default" when a service uses it. */
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, VolumeSpec>;
  /** Top-level `secrets:` and `configs:` that services use (only those). */
  secrets?: Record<string, FileObjectSpec>;
  configs?: Record<string, FileObjectSpec>;
  warnings: ComposeWarning[];
}

export interface ComposeInput {
  yaml: string;
  /** The text of an optional `.env` file. The panel's own environment is never used. */
  env?: string;
  /** A project name that wins over the file's `name:`. */
  project?: string;
  /** Files a service's `env_file:` may name, by the path as written. */
  envFiles?: Record<string, string>;
  /** Active profiles (`--profile`); "*" activates all. */
  profiles?: string[];
  /**
   * Other files of the stack directory that `extends: {file:}` and `include:` may name, by
   * path relative to the stack directory.
   */
  files?: Record<string, string>;
}
