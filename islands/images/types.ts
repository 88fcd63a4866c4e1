/** The shapes of /api/containers/images and /api/containers/registries as the islands read them. */

export type Role = "admin" | "viewer";

export interface ImageContainerRef {
  id: string;
  name: string;
  state: string;
}

export interface ImageView {
  /** `sha256:…` */
  id: string;
  short_id: string;
  /** [] when dangling. */
  repo_tags: string[];
  repo_digests: string[];
  /** Bytes. */
  size: number;
  /** Epoch seconds. */
  created: number;
  /** Containers using the image, stopped ones included. */
  used_by: number;
  used_by_running: number;
  containers: ImageContainerRef[];
  dangling: boolean;
}

export interface RegistryView {
  id: number;
  server_address: string;
  username: string;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

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
