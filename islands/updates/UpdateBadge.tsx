/**
 * The "update" badge on a container row (or an image row: the results of the containers
 * running it), with the check's time and result in its tooltip. Colours come from the
 * theme's variables, set through the CSSOM (the CSP allows that; a style attribute it would
 * not), so a dark theme that redefines them restyles the badge too.
 */
import type { UpdateResult } from "./types.ts";
import { badgeLabel, hasUpdate, tooltip } from "./text.ts";

const LOOKS = {
  update: { background: "var(--amber-bg)", color: "var(--amber)" },
  version: { background: "var(--grey-bg)", color: "var(--text)" },
  failed: { background: "var(--grey-bg)", color: "var(--muted)" },
};

function look(result: UpdateResult) {
  if (result.state === "update_available") return LOOKS.update;
  return hasUpdate(result) ? LOOKS.version : LOOKS.failed;
}

export function UpdateBadge(
  { result, onUpdate, busy }: {
    result: UpdateResult | undefined;
    /** An admin's "Update" button beside a badge that has a newer digest for the tag. */
    onUpdate?: () => void;
    busy?: boolean;
  },
) {
  const label = badgeLabel(result);
  if (!result || !label) return null;
  const badge = (
    <span
      class="badge badge-update"
      title={tooltip(result)}
      data-update-state={result.state}
      style={look(result)}
    >
      {label}
    </span>
  );
  if (!onUpdate || result.state !== "update_available") return badge;
  return (
    <>
      {badge}
      <button
        type="button"
        class="btn small btn-update"
        disabled={busy}
        title={`Pull ${result.image} again and recreate this container on it, keeping its configuration`}
        onClick={onUpdate}
      >
        {busy ? "Updating…" : "Update"}
      </button>
    </>
  );
}

/** An image row: one badge for the containers on it that have an update (or failed). */
export function ImageUpdateBadge({ results }: { results: UpdateResult[] | undefined }) {
  if (!results?.length) return null;
  const shown = results.find((r) => r.state === "update_available") ??
    results.find(hasUpdate) ?? results.find((r) => r.state === "error");
  const label = badgeLabel(shown);
  if (!shown || !label) return null;
  const title = results.map((r) => `${r.name}:\n${tooltip(r)}`).join("\n\n");
  return (
    <span
      class="badge badge-update"
      title={title}
      data-update-state={shown.state}
      style={{ ...look(shown), marginLeft: "6px", alignSelf: "center" }}
    >
      {label}
    </span>
  );
}
