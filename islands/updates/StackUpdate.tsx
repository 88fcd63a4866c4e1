/**
 * A compose stack's update: the services whose images the last check found behind, an
 * Update that pulls every image the stack runs and recreates only the services whose image
 * changed (POST /api/containers/updates/stacks/{project}), its progress, and the result in
 * words.
 */
import { useState } from "preact/hooks";
import { apiWithProgress } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { hasUpdate, progressText, stackUpdatedText, versionsText } from "./text.ts";
import type { StackUpdated, UpdateResult } from "./types.ts";

/** The services of `project` the last check found an update for, with their results. */
export function stackUpdates(
  results: Iterable<UpdateResult>,
  project: string,
): Map<string, UpdateResult[]> {
  const services = new Map<string, UpdateResult[]>();
  for (const result of results) {
    if (result.stack !== project || !hasUpdate(result)) continue;
    const service = result.service ?? result.name;
    services.set(service, [...services.get(service) ?? [], result]);
  }
  return services;
}

export function StackUpdateDialog(
  { project, results, onClose, onDone }: {
    project: string;
    /** The stack's check results with an update (by service). */
    results: Map<string, UpdateResult[]>;
    onClose: () => void;
    /** The update finished: its words, and whether anything went wrong. */
    onDone: (answer: StackUpdated) => void;
  },
) {
  const [running, setRunning] = useState(false);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<StackUpdated | null>(null);
  const services = [...results].sort(([a], [b]) => a.localeCompare(b));
  const digestChanged = services.filter(([, list]) =>
    list.some((r) => r.state === "update_available")
  );

  async function run() {
    setRunning(true);
    setError(null);
    setStatus("Starting…");
    try {
      const result = await apiWithProgress<StackUpdated>(
        "POST",
        `/api/containers/updates/stacks/${encodeURIComponent(project)}`,
        {},
        (event) => {
          const text = progressText(event);
          if (text) setStatus(text);
        },
      );
      setAnswer(result);
      onDone(result);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(false);
    }
  }

  return (
    <TitledModal
      id="up-stack"
      title={`Update ${project}`}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" disabled={running} onClick={onClose}>
            {answer ? "Close" : "Cancel"}
          </button>
          {!answer && (
            <button
              type="button"
              class="btn primary"
              disabled={running}
              onClick={run}
              data-autofocus
            >
              {running ? "Updating…" : "Update"}
            </button>
          )}
        </div>
      }
    >
      {digestChanged.length > 0
        ? (
          <>
            <p>The last check found newer images for these services:</p>
            <ul class="up-services">
              {digestChanged.map(([service, list]) => (
                <li key={service}>
                  <strong>{service}</strong>{" "}
                  <span class="mono muted up-image" title={list[0].image}>{list[0].image}</span>
                </li>
              ))}
            </ul>
          </>
        )
        : (
          <p class="muted">
            The last check found no newer image for this stack's tags; an update still pulls each
            image and recreates only what changed.
          </p>
        )}
      {services.some(([, list]) => list.some((r) => versionsText(r.versions))) && (
        <p class="muted up-note">
          Newer versions (
          {services.flatMap(([service, list]) =>
            list[0].versions ? [`${service}: ${versionsText(list[0].versions)}`] : []
          ).join("; ")}) need a change of tag in the compose file; Update keeps each service's tag.
        </p>
      )}
      <p class="muted up-note">
        Each image is pulled once; only containers whose image changed are recreated, with the same
        configuration. A container that does not keep running is rolled back.
      </p>
      {(running || status) && !answer && !error && (
        <p class="up-progress" aria-live="polite">
          <span class="mono truncate" title={status}>{status}</span>
        </p>
      )}
      {answer && (
        <div
          class={`notice ${answer.rolled_back ? "error" : "ok"}`}
          role={answer.rolled_back ? "alert" : "status"}
        >
          {stackUpdatedText(answer)}
        </div>
      )}
      {error && <div class="notice error" role="alert">Update failed: {error}</div>}
    </TitledModal>
  );
}
