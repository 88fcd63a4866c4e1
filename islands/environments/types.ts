/** GET /api/environments, as the contract shared with the environments backend says. */
export interface EnvironmentState {
  status: "up" | "down" | "unknown";
  latency_ms?: number;
  engine_version?: string;
  containers_running?: number;
  containers_total?: number;
  images?: number;
  swarm?: { active: boolean; manager: boolean };
  checked_at?: string | null;
  error?: string;
}

export interface EnvironmentView {
  id: string;
  name: string;
  url: string;
  tls: boolean;
  warning?: string;
  state: EnvironmentState;
}

export type Role = "admin" | "viewer";
