/**
 * A deploy's NDJSON stream as state: one row per service (in deploy order) with its status,
 * a pull's bytes while pulling, the project-wide steps (networks, volumes, orphans) and the
 * final result or error. Pure, so it is tested without a browser.
 */
import type { DeployLine, DeployResult, DeployStatus } from "./types.ts";

export type RowPhase = "queued" | "active" | "done" | "failed" | "skipped";

export interface ServiceRow {
  service: string;
  status: DeployStatus | "queued";
  phase: RowPhase;
  /** The server's words for the current step, e.g. "Waiting for db (service_healthy)". */
  message: string;
  /** While pulling: the latest layer line, e.g. "a1b2c3d4e5f6 Downloading". */
  detail: string;
  /** Pull progress by layer id: bytes so far and size. */
  layers: Record<string, { current: number; total: number }>;
}

export interface DeployState {
  project: string;
  outcome: "connecting" | "deploying" | "done" | "failed";
  rows: ServiceRow[];
  /** Project-wide steps: "Creating network x", orphans. */
  steps: string[];
  result: DeployResult | null;
  error: string | null;
  /** The service the error names, when it names one. */
  failedService: string | null;
}

const ACTIVE: ReadonlySet<string> = new Set([
  "pulling",
  "building",
  "creating",
  "recreating",
  "replacing",
  "restarting",
  "removing",
  "starting",
  "waiting",
]);

export function initialDeploy(project: string, services: string[] = []): DeployState {
  return {
    project,
    outcome: "connecting",
    rows: services.map(queuedRow),
    steps: [],
    result: null,
    error: null,
    failedService: null,
  };
}

function queuedRow(service: string): ServiceRow {
  return { service, status: "queued", phase: "queued", message: "", detail: "", layers: {} };
}

function phaseOf(status: DeployStatus): RowPhase {
  if (status === "done" || status === "unchanged") return "done";
  if (status === "failed") return "failed";
  return ACTIVE.has(status) ? "active" : "queued";
}

/** Applies a batch of lines; returns a new state. */
export function applyDeployLines(state: DeployState, lines: readonly DeployLine[]): DeployState {
  if (lines.length === 0) return state;
  const next: DeployState = { ...state, rows: [...state.rows], steps: [...state.steps] };
  const rowIndex = (service: string) => {
    let i = next.rows.findIndex((row) => row.service === service);
    if (i === -1) {
      i = next.rows.length;
      next.rows.push(queuedRow(service));
    }
    return i;
  };
  for (const line of lines) {
    if (line.done === true) {
      next.outcome = "done";
      next.result = line.result ?? null;
      const actions = new Map((line.result?.services ?? []).map((s) => [s.service, s.action]));
      next.rows = next.rows.map((row) =>
        row.phase === "done"
          ? row
          : actions.has(row.service)
          ? { ...row, phase: "done", status: "done", message: "", detail: "" }
          : row
      );
      continue;
    }
    if (line.done === false) {
      next.outcome = "failed";
      next.error = line.error ?? "The deploy failed";
      // The row that failed; else the service the error names ('Service "web": …').
      next.failedService = next.rows.find((row) => row.phase === "failed")?.service ??
        line.error?.match(/^Service "([^"]+)"/)?.[1] ?? null;
      next.rows = next.rows.map((row) =>
        row.phase === "queued" ? { ...row, phase: "skipped" } : row.phase === "active"
          ? {
            ...row,
            phase: row.service === next.failedService ? "failed" : "skipped",
            status: row.service === next.failedService ? "failed" : row.status,
          }
          : row
      );
      continue;
    }
    if (line.status === "started") {
      next.outcome = "deploying";
      if (line.project) next.project = line.project;
      const known = new Map(next.rows.map((row) => [row.service, row]));
      if (line.services) {
        next.rows = line.services.map((service) => known.get(service) ?? queuedRow(service));
      }
      continue;
    }
    if (!line.status) continue;
    if (next.outcome === "connecting") next.outcome = "deploying";
    const status = line.status;
    if (status === "orphan") {
      next.steps.push(`Orphan container ${line.message ?? line.service ?? ""}`.trim());
      continue;
    }
    if (!line.service) {
      if (line.message) {
        next.steps.push(status === "warning" ? `Warning: ${line.message}` : line.message);
      }
      continue;
    }
    const i = rowIndex(line.service);
    const row = next.rows[i];
    const updated: ServiceRow = {
      ...row,
      status,
      phase: phaseOf(status),
      message: line.message ?? (status === row.status ? row.message : ""),
      detail: "",
    };
    if (status === "pulling") {
      const layer = line.message?.match(/^([0-9a-f]{12,64})\b/)?.[1];
      if (layer) {
        // A layer's line: the row keeps saying what it pulls; the layer line is the detail.
        updated.message = row.status === "pulling" ? row.message : "";
        updated.detail = line.message ?? "";
        if (typeof line.total === "number" && line.total > 0) {
          updated.layers = {
            ...row.layers,
            [layer]: { current: Math.min(line.current ?? 0, line.total), total: line.total },
          };
        } else if (/complete|exists/i.test(line.message ?? "") && row.layers[layer]) {
          const size = row.layers[layer].total;
          updated.layers = { ...row.layers, [layer]: { current: size, total: size } };
        }
      } else if (row.status === "pulling" && !line.message) {
        updated.message = row.message;
      }
    }
    next.rows[i] = updated;
  }
  return next;
}

/** A pulling row's bar: 0..1, or null while no layer size is known. */
export function pullFraction(row: ServiceRow): number | null {
  let current = 0;
  let total = 0;
  for (const layer of Object.values(row.layers)) {
    current += layer.current;
    total += layer.total;
  }
  return total > 0 ? Math.min(1, current / total) : null;
}

const STATUS_TEXT: Record<ServiceRow["status"], string> = {
  queued: "Queued",
  network: "Creating network",
  volume: "Creating volume",
  pulling: "Pulling image",
  building: "Building image",
  creating: "Creating container",
  recreating: "Recreating container",
  replacing: "Replacing the old container",
  restarting: "Restarting",
  removing: "Removing a replica above deploy.replicas",
  starting: "Starting",
  waiting: "Waiting for dependencies",
  unchanged: "Unchanged",
  done: "Running",
  failed: "Failed",
  orphan: "Orphan",
  warning: "Warning",
};

/** The row's words: the server's message where it says more than the status. */
export function rowText(row: ServiceRow, result: DeployResult | null): string {
  if (row.phase === "skipped") return row.status === "queued" ? "Not started" : "Stopped";
  if (row.phase === "done") {
    const action = result?.services.find((s) => s.service === row.service)?.action;
    if (action === "created") return "Created and started";
    if (action === "recreated") return "Recreated and started";
    if (action === "started") return "Started (unchanged)";
    if (action === "restarted") return "Restarted (unchanged; a dependency was renewed)";
    if (action === "removed") return "Scaled down";
    if (action === "unchanged" || row.status === "unchanged") return "Unchanged, running";
    return "Running";
  }
  // The server says why it waits, restarts or recreates (a dependency, a shared network).
  if (
    (row.status === "waiting" || row.status === "restarting" || row.status === "recreating" ||
      row.status === "replacing") &&
    row.message
  ) return row.message;
  if (row.status === "failed") return row.message ? `Failed: ${row.message}` : "Failed";
  if (row.status === "pulling") return row.message || "Pulling image";
  // The latest line of the build output ("Step 2/3 : RUN …").
  if (row.status === "building") return row.message || "Building image";
  return STATUS_TEXT[row.status];
}
