/** The shapes of /api/containers/images and /api/containers/registries as the islands read them. */

export type Role = "admin" | "viewer";

// The server's own types: one definition for both sides (type-only imports vanish in the bundle).
export type { ImageView } from "../../lib/docker/views.ts";
export type { RegistrySummary as RegistryView } from "../../lib/registries.ts";
/** A container that uses an image. */
export type ImageContainerRef = import("../../lib/docker/views.ts").ImageView["containers"][number];

/** One line of the pull stream: the Engine's progress, or the panel's final line. */
export interface PullLine {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  done?: boolean;
  reference?: string;
  digest?: string | null;
  image_id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Asks the Pull box to pull a reference (the registry browser's "Pull"). */
export const PULL_IMAGE = "cm:pull-image";

/** The parts of GET /api/containers/images/{id}/json the details drawer shows. */
export interface ImageInspectView {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  Size: number;
  Os?: string;
  Architecture?: string;
  Variant?: string;
  Author?: string;
  Config?: {
    Labels?: Record<string, string> | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    ExposedPorts?: Record<string, unknown> | null;
    WorkingDir?: string;
    User?: string;
  } | null;
  RootFS?: { Layers?: string[] };
}

/** One entry of GET /api/containers/images/{id}/history (newest first). */
export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment?: string;
}
