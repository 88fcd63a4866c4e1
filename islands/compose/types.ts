/** The shapes of /api/containers/compose as the Compose tab reads them (the server's JSON). */

export type Role = "admin" | "viewer";

// The server's own types: one definition for both sides (type-only imports vanish in the bundle).
export type { ComposeWarning, WarningKind } from "../../lib/compose/types.ts";
export type { ProjectPreview, ServicePreview } from "../../lib/compose/plan.ts";
export type { StackSummary } from "../../lib/compose/stacks.ts";
export type { DeployResult, DeployStatus } from "../../lib/compose/deploy.ts";
import type { DeployResult, DeployStatus } from "../../lib/compose/deploy.ts";

/** A network or volume in a preview. */
export type ResourcePreview =
  import("../../lib/compose/plan.ts").ProjectPreview["networks"][number];

/** One NDJSON line of a deploy. */
export interface DeployLine {
  status?: DeployStatus | "started";
  project?: string;
  services?: string[];
  service?: string;
  message?: string;
  current?: number;
  total?: number;
  done?: boolean;
  result?: DeployResult;
  error?: string;
}

/** What the editor holds: the request body of a preview or deploy. */
export interface ComposeSource {
  yaml: string;
  env: string;
  project: string;
  /** The `env_file:` texts stored with an opened stack, by path (not editable here). */
  envFiles?: Record<string, string> | null;
  /** Active profiles (chosen in the preview, stored with the stack). */
  profiles?: string[];
  /** Orphans are removed by the deploy (and shown so in the preview's plan). */
  removeOrphans?: boolean;
}
