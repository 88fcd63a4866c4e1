/**
 * Keeps every environment's state (up or down, latency, Engine version, containers, images,
 * swarm role) fresh in the background, each on its own timer and with short timeouts, so
 * listing environments never waits on a slow or dead Engine, and one never delays another.
 */
import type { DockerClient } from "../docker/client.ts";

export interface EnvironmentState {
  status: "up" | "down" | "unknown";
  latency_ms?: number;
  engine_version?: string;
  containers_running?: number;
  containers_total?: number;
  images?: number;
  swarm?: { active: boolean; manager: boolean };
  checked_at: string | null;
  error?: string;
}

export interface MonitorOptions {
  /** Between checks of an Engine that answers. Default 10 s. */
  upIntervalMs?: number;
  /** Between checks of one that does not (so a recovery shows soon). Default 3 s. */
  downIntervalMs?: number;
  /** Each request of a check. Default 3 s. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

export const UP_INTERVAL_MS = 10_000;
export const DOWN_INTERVAL_MS = 3_000;
export const PROBE_TIMEOUT_MS = 3_000;

interface Target {
  /** The client a check uses; undefined while it cannot be built (its key does not open). */
  client: () => Promise<DockerClient>;
  /** Says why a failed check failed, in words. */
  explain: (error: unknown) => string;
  state: EnvironmentState;
  timer?: ReturnType<typeof setTimeout>;
  /** Bumped when the target is replaced or removed: a check still running is then ignored. */
  generation: number;
  checking: boolean;
}

interface Info {
  ContainersRunning?: number;
  Containers?: number;
  Images?: number;
  ServerVersion?: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

export interface EnvironmentMonitor {
  /** Starts (or restarts, after an update) watching one environment, checking it now. */
  watch(id: string, client: () => Promise<DockerClient>, explain: (error: unknown) => string): void;
  forget(id: string): void;
  state(id: string): EnvironmentState;
  /** Checks one now (a request found it down, or it was just added). */
  checkNow(id: string): void;
  close(): void;
}

const UNKNOWN: EnvironmentState = { status: "unknown", checked_at: null };

export function createEnvironmentMonitor(options: MonitorOptions = {}): EnvironmentMonitor {
  const upMs = options.upIntervalMs ?? UP_INTERVAL_MS;
  const downMs = options.downIntervalMs ?? DOWN_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const targets = new Map<string, Target>();
  let closed = false;

  async function probe(docker: DockerClient): Promise<EnvironmentState> {
    const started = performance.now();
    const ping = await docker.request("GET", "/_ping", { timeoutMs });
    await ping.body?.cancel();
    const latency = Math.round(performance.now() - started);
    const info = await docker.json<Info>("GET", "/info", { timeoutMs });
    const swarmState = info.Swarm?.LocalNodeState;
    return {
      status: "up",
      latency_ms: latency,
      engine_version: info.ServerVersion,
      containers_running: info.ContainersRunning,
      containers_total: info.Containers,
      images: info.Images,
      swarm: {
        active: swarmState === "active",
        manager: swarmState === "active" && info.Swarm?.ControlAvailable === true,
      },
      checked_at: new Date().toISOString(),
    };
  }

  async function check(id: string, target: Target) {
    if (target.checking || closed) return;
    target.checking = true;
    clearTimeout(target.timer);
    const generation = target.generation;
    let next: EnvironmentState;
    try {
      next = await probe(await target.client());
    } catch (error) {
      next = {
        status: "down",
        checked_at: new Date().toISOString(),
        error: target.explain(error),
      };
    }
    target.checking = false;
    if (closed || targets.get(id) !== target || generation !== target.generation) return;
    if (next.status !== target.state.status && target.state.status !== "unknown") {
      options.log?.(
        next.status === "up"
          ? `Environment ${id} is reachable again`
          : `Environment ${id} is down: ${next.error}`,
      );
    }
    target.state = next;
    target.timer = setTimeout(() => check(id, target), next.status === "up" ? upMs : downMs);
  }

  return {
    watch(id, client, explain) {
      const previous = targets.get(id);
      if (previous) clearTimeout(previous.timer);
      const target: Target = {
        client,
        explain,
        state: UNKNOWN,
        generation: (previous?.generation ?? 0) + 1,
        checking: false,
      };
      targets.set(id, target);
      void check(id, target);
    },
    forget(id) {
      const target = targets.get(id);
      if (!target) return;
      clearTimeout(target.timer);
      target.generation++;
      targets.delete(id);
    },
    state(id) {
      return targets.get(id)?.state ?? UNKNOWN;
    },
    checkNow(id) {
      const target = targets.get(id);
      if (target) void check(id, target);
    },
    close() {
      closed = true;
      for (const target of targets.values()) clearTimeout(target.timer);
      targets.clear();
    },
  };
}
