/** The shapes of /api/containers/compose as the Compose tab reads them (the server's JSON). */

export type Role = "admin" | "viewer";

export type WarningKind = "unsupported" | "unknown" | "obsolete" | "risk" | "interpolation";

export interface ComposeWarning {
  /** 1-based line in the YAML, when known. */
  line: number | null;
  service: string | null;
  kind: WarningKind;
  message: string;
}

export interface ServicePreview {
  name: string;
  container_name: string;
  image: string;
  image_local: boolean;
  /** "127.0.0.1:8080:80/tcp", "random:80/tcp" */
  ports: string[];
  volumes: {
    type: "volume" | "bind" | "anonymous" | "tmpfs" | string;
    source: string | null;
    target: string;
    mode: "ro" | "rw";
  }[];
  env_keys: string[];
  restart: string;
  command: string[] | null;
  networks: string[];
  depends_on: { service: string; condition: string }[];
  action: "create" | "recreate" | "unchanged";
  warnings: ComposeWarning[];
}

export interface ResourcePreview {
  key: string;
  name: string;
  external: boolean;
  exists: boolean;
}

export interface ProjectPreview {
  project: string;
  /** In deploy order. */
  services: ServicePreview[];
  networks: ResourcePreview[];
  volumes: ResourcePreview[];
  warnings: ComposeWarning[];
  risks: ComposeWarning[];
  orphans: string[];
}

export interface StackSummary {
  name: string;
  services: string[];
  containers: number;
  running: number;
  /** The panel holds this project's compose file. */
  ours: boolean;
  working_dir: string | null;
}

export type DeployStatus =
  | "network"
  | "volume"
  | "pulling"
  | "creating"
  | "recreating"
  | "starting"
  | "waiting"
  | "unchanged"
  | "done"
  | "failed"
  | "orphan";

export interface DeployResult {
  project: string;
  services: {
    service: string;
    container: string;
    action: "created" | "recreated" | "unchanged" | "started";
  }[];
  orphans: string[];
  removed_orphans: string[];
}

/** One NDJSON line of a deploy. */
export interface DeployLine {
  status?: DeployStatus | "started";
  project?: string;
  services?: string[];
  service?: string;
  message?: string;
  current?: number;
  total?: number;
  done?: boolean;
  result?: DeployResult;
  error?: string;
}

/** What the editor holds: the request body of a preview or deploy. */
export interface ComposeSource {
  yaml: string;
  env: string;
  project: string;
}
