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
