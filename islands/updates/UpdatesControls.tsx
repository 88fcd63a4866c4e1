/** The "Has updates" filter and, for admins, "Check for updates" with what the check said. */
import type { Updates } from "./useUpdates.ts";

export function UpdatesControls(
  { updates, isAdmin, containers }: {
    updates: Updates;
    isAdmin: boolean;
    /** Only these containers (the image tab's); all when absent. */
    containers?: string[];
  },
) {
  return (
    <>
      <label class="ct-check" title="Only rows with a newer image digest or version">
        <input
          type="checkbox"
          checked={updates.onlyUpdates}
          onChange={(e) => updates.setOnlyUpdates((e.target as HTMLInputElement).checked)}
        />
        Has updates{updates.count > 0 ? ` (${updates.count})` : ""}
      </label>
      {isAdmin && (
        <button
          type="button"
          class="btn small"
          disabled={updates.checking}
          title="Ask the registries whether the images in use have newer digests or versions"
          onClick={() => updates.check(containers)}
        >
          {updates.checking ? "Checking…" : "Check for updates"}
        </button>
      )}
      {updates.status && (
        <span
          class={updates.failed ? "ct-update-status error-text" : "ct-update-status muted"}
          role="status"
          style={{ fontSize: "13px", color: updates.failed ? "var(--red)" : undefined }}
        >
          {updates.status}
        </span>
      )}
    </>
  );
}
