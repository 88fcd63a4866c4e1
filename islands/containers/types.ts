/** The shapes of /api/containers as the islands read them (the server's JSON, snake_case). */

export type Role = "admin" | "viewer";

export type ContainerState =
  | "running"
  | "paused"
  | "exited"
  | "restarting"
  | "created"
  | "dead"
  | "removing";

export interface PortView {
  host_ip: string | null;
  host_port: number | null;
  container_port: number;
  proto: "tcp" | "udp" | "sctp";
}

export interface ContainerView {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  /** The Engine's own text, e.g. "Up 5 minutes (healthy)". */
  status: string;
  /** Epoch seconds. */
  created: number;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  ports: PortView[];
  labels: Record<string, string>;
  compose: { project: string; service: string } | null;
  managed: boolean;
}

export interface InspectView {
  id: string;
  name: string;
  image: string;
  image_id: string;
  created: string;
  state: {
    status: string;
    running: boolean;
    exit_code: number;
    started_at: string;
    finished_at: string;
    health: string | null;
  };
  cmd: string[] | null;
  entrypoint: string[] | null;
  /** `value` is null for viewers. */
  env: { key: string; value: string | null }[];
  mounts: {
    type: string;
    name: string | null;
    source: string;
    destination: string;
    read_only: boolean;
  }[];
  networks: { name: string; ip_address: string; aliases: string[] }[];
  ports: PortView[];
  restart_policy: { name: string; max_retries: number };
  labels: Record<string, string>;
}

export interface StatsSample {
  id: string;
  time: string;
  cpu_percent: number;
  mem_bytes: number;
  mem_limit: number;
  mem_percent: number;
  net_rx: number;
  net_tx: number;
  blk_read: number;
  blk_write: number;
  pids: number;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
  ts: string | null;
}

export interface ContainerEvent {
  id: string;
  action: string;
  container: ContainerView | null;
}

/** Window events the two container islands use to talk to each other. */
export const OPEN_RUN_DIALOG = "cm:open-run-dialog";
export const CONTAINER_RUN = "cm:container-run";
