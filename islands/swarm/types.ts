/** The swarm API's answers (the contract in the project's swarm API notes). */
export type Role = "admin" | "viewer";

export interface SwarmInfo {
  active: boolean;
  manager: boolean;
  node_id?: string;
  cluster?: { id: string; created_at: string; nodes: number; managers: number };
}

export interface SwarmNode {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  availability: "active" | "pause" | "drain";
  state: string;
  address: string;
  engine_version: string;
  labels: Record<string, string>;
  leader: boolean;
  manager_reachability?: string;
}

export interface ServicePort {
  published?: number;
  target: number;
  protocol: string;
  mode?: string;
}

export interface SwarmService {
  id: string;
  name: string;
  mode: "replicated" | "global";
  replicas_running: number;
  replicas_desired: number;
  image: string;
  ports: ServicePort[];
  update_status?: { state: string; message?: string };
  stack?: string;
  created_at: string;
  updated_at: string;
}

export interface SwarmTask {
  id: string;
  slot?: number;
  node_id: string;
  node_hostname: string;
  state: string;
  desired_state: string;
  error?: string;
  image: string;
  updated_at: string;
}

export interface ServiceDetail extends SwarmService {
  tasks: SwarmTask[];
  spec_summary?: unknown;
}

export interface SwarmObject {
  id: string;
  name: string;
  created_at?: string;
  updated_at?: string;
  labels?: Record<string, string>;
  /** Names of the services that use it. */
  used_by?: string[];
  /** Configs only, on inspect (null when the content is not text). */
  data?: string | null;
}
