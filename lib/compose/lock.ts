/**
 * One mutation of a compose project at a time (deploy, start, stop, restart, down, forget):
 * a second one while the first runs is refused with a 409 that says what runs, who started
 * it and when, instead of interleaving with it.
 */
import { HttpError } from "../errors.ts";

export interface ProjectLockHolder {
  /** What runs, in words: "deploy", "stop", "teardown", … */
  operation: string;
  actor: string;
  startedAt: Date;
}

export interface ProjectLocks {
  /**
   * Takes the project's lock for `holder` or throws a 409; the returned function releases
   * it (once; later calls do nothing).
   */
  acquire(project: string, holder: Omit<ProjectLockHolder, "startedAt">): () => void;
  /** Who holds the project's lock, if anyone. */
  holder(project: string): ProjectLockHolder | undefined;
}

/** The 409 a second mutation of a busy project gets. */
export class ProjectBusyError extends HttpError {
  constructor(project: string, holder: ProjectLockHolder) {
    super(
      409,
      `A ${holder.operation} of "${project}" is running, started by ${holder.actor} at ${holder.startedAt.toISOString()}; try again when it has finished`,
    );
  }
}

export function createProjectLocks(now: () => Date = () => new Date()): ProjectLocks {
  const held = new Map<string, ProjectLockHolder>();
  return {
    acquire(project, holder) {
      const current = held.get(project);
      if (current) throw new ProjectBusyError(project, current);
      const mine: ProjectLockHolder = { ...holder, startedAt: now() };
      held.set(project, mine);
      return () => {
        if (held.get(project) === mine) held.delete(project);
      };
    },
    holder: (project) => held.get(project),
  };
}
