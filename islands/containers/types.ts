/** The shapes of /api/containers as the islands read them (the server's JSON, snake_case). */

export type Role = "admin" | "viewer";

// The server's own types: one definition for both sides (type-only imports vanish in the bundle).
export type {
  ContainerState,
  ContainerView,
  InspectView,
  PortView,
} from "../../lib/docker/views.ts";
export type { StatsSample } from "../../lib/docker/stats.ts";
import type { ContainerView } from "../../lib/docker/views.ts";

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
