export type { VolumeUser, VolumeView } from "../../lib/docker/volumes.ts";
export type { FileEntry, Listing } from "../../lib/docker/volume_files.ts";
export type Role = "admin" | "viewer";
export interface VolumeSizes {
  sizes: Record<string, { size: number; ref_count: number }>;
  measured_at: string;
}
