/**
 * The body of a preview or deploy request, and the key that says when the preview on screen
 * is stale. Everything that changes the plan is in both: remove_orphans too, so the preview
 * shows orphans removed exactly when the deploy removes them.
 */
import type { ComposeSource } from "./types.ts";

export function previewBody(source: ComposeSource): Record<string, unknown> {
  return {
    yaml: source.yaml,
    ...(source.env.trim() ? { env: source.env } : {}),
    ...(source.project ? { project: source.project } : {}),
    ...(source.envFiles ? { env_files: source.envFiles } : {}),
    ...(source.profiles?.length ? { profiles: source.profiles } : {}),
    ...(source.removeOrphans ? { remove_orphans: true } : {}),
  };
}

export function previewKey(source: ComposeSource): string {
  return JSON.stringify([
    source.yaml,
    source.env,
    source.project,
    source.envFiles ?? null,
    source.profiles ?? [],
    source.removeOrphans === true,
  ]);
}
