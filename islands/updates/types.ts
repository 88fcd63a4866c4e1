/**
 * The update check as /api/containers/updates answers it. The server's own types: one
 * definition for both sides (type-only imports vanish in the bundle).
 */
export type { UpdateResult, UpdateState } from "../../lib/updates/store.ts";
export type { NewerVersions } from "../../lib/updates/versions.ts";
export type { UpdateCheckAnswer as CheckAnswer } from "../../lib/updates/handler.ts";
export type { UpdateApplied } from "../../lib/updates/apply.ts";
export type { StackUpdated } from "../../lib/updates/stack.ts";
