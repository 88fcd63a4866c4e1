/** Words and numbers for an environment's state, shared by the header switcher and the page. */
import type { EnvironmentState, EnvironmentView } from "./types.ts";

export function statusLabel(state: EnvironmentState): string {
  return state.status === "up" ? "Up" : state.status === "down" ? "Down" : "Checking";
}

export function latencyText(state: EnvironmentState): string {
  if (state.status !== "up" || state.latency_ms === undefined) return "—";
  return state.latency_ms < 1 ? "<1 ms" : `${Math.round(state.latency_ms)} ms`;
}

export function containersText(state: EnvironmentState): string {
  if (state.status !== "up" || state.containers_total === undefined) return "—";
  return `${state.containers_running ?? 0} / ${state.containers_total}`;
}

export function swarmText(state: EnvironmentState): string {
  if (!state.swarm) return "—";
  if (!state.swarm.active) return "Not in a swarm";
  return state.swarm.manager ? "Manager" : "Worker";
}

/** One line for the switcher's menu: "Up · 3 ms · 4/7 running" or "Down: refused". */
export function summaryText(state: EnvironmentState): string {
  if (state.status === "down") return state.error ? `Down: ${state.error}` : "Down";
  if (state.status !== "up") return "Checking…";
  const parts = ["Up"];
  if (state.latency_ms !== undefined) parts.push(latencyText(state));
  if (state.containers_total !== undefined) {
    parts.push(`${state.containers_running ?? 0}/${state.containers_total} running`);
  }
  return parts.join(" · ");
}

/** The kind of address, for a small badge: TLS, socket, or plain TCP. */
export function transportLabel(env: EnvironmentView): string {
  if (env.url.startsWith("unix://")) return "socket";
  return env.tls ? "TLS" : "TCP, no TLS";
}
