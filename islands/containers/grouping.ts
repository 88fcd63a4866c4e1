/** "Group by stack" in the Containers table: rows grouped by compose project. */
import type { ContainerView } from "./types.ts";

export interface RowGroup {
  /** The compose project, or null for containers outside any stack. */
  project: string | null;
  rows: ContainerView[];
}

export const GROUP_KEY = "cm.containers.groupByStack";
export const COLLAPSED_KEY = "cm.containers.collapsedStacks";

/**
 * Groups already-sorted rows by compose project, keeping their order within a group:
 * stacks by name, then the containers outside any stack.
 */
export function groupByStack(rows: ContainerView[]): RowGroup[] {
  const byProject = new Map<string, ContainerView[]>();
  const loose: ContainerView[] = [];
  for (const row of rows) {
    if (row.compose) {
      const list = byProject.get(row.compose.project);
      if (list) list.push(row);
      else byProject.set(row.compose.project, [row]);
    } else loose.push(row);
  }
  const groups: RowGroup[] = [...byProject.keys()]
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((project) => ({ project, rows: byProject.get(project)! }));
  if (loose.length) groups.push({ project: null, rows: loose });
  return groups;
}

/** The collapsed stacks as stored (a JSON list of names); anything else reads as none. */
export function parseCollapsed(stored: string | null): Set<string> {
  try {
    const value = JSON.parse(stored ?? "[]");
    return new Set(Array.isArray(value) ? value.filter((v) => typeof v === "string") : []);
  } catch {
    return new Set();
  }
}
