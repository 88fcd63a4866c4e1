/**
 * The island registry: name → component. The server renders islands from here; the
 * browser entry (client.ts) mirrors the names with lazy imports so each island is its own
 * chunk. `IslandName`/`IslandProps` type the server's <Island> marker.
 */
import type { ComponentProps } from "preact";
import { EngineStatus } from "./EngineStatus.tsx";

export const ISLANDS = {
  EngineStatus,
} as const;

export type IslandName = keyof typeof ISLANDS;
export type IslandProps<N extends IslandName> = ComponentProps<(typeof ISLANDS)[N]>;
