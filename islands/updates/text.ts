/** What a badge says and its tooltip: the check's time and result. */
import type { NewerVersions, StackUpdated, UpdateApplied, UpdateResult } from "./types.ts";

/** A newer digest for the tag, or a newer version of it. */
export function hasUpdate(result: UpdateResult | undefined): boolean {
  return !!result &&
    (result.state === "update_available" || Object.keys(result.versions ?? {}).length > 0);
}

export function shortDigest(digest: string | null | undefined): string {
  return digest ? digest.replace(/^sha256:([0-9a-f]{12})[0-9a-f]*$/, "sha256:$1…") : "none";
}

export function versionsText(versions: NewerVersions | undefined): string {
  if (!versions) return "";
  return (["patch", "minor", "major"] as const)
    .filter((level) => versions[level])
    .map((level) => `${versions[level]} (${level})`)
    .join(", ");
}

function when(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The badge's label, or undefined when there is nothing to show on the row. */
export function badgeLabel(result: UpdateResult | undefined): string | undefined {
  if (!result) return undefined;
  if (result.state === "update_available") return "update";
  const newest = result.versions?.major ?? result.versions?.minor ?? result.versions?.patch;
  if (newest) return `${newest} available`;
  if (result.state === "error") return "update check failed";
  return undefined;
}

export function tooltip(result: UpdateResult): string {
  const lines: string[] = [];
  switch (result.state) {
    case "update_available":
      lines.push(
        `Update available for ${result.image}: new digest ${shortDigest(result.remote_digest)}` +
          (result.update_seen_at ? ` (first seen ${when(result.update_seen_at)})` : ""),
        `Running ${shortDigest(result.local_digest)}`,
      );
      break;
    case "up_to_date":
      lines.push(
        result.pinned
          ? `${result.image} is pinned to a digest`
          : `${result.image} is up to date (${shortDigest(result.remote_digest)})`,
      );
      break;
    case "unknown":
      lines.push(`No registry digest to compare: ${result.error ?? "unknown"}`);
      break;
    case "error":
      lines.push(`The check failed (${result.error_kind ?? "error"}): ${result.error ?? ""}`);
      break;
  }
  const versions = versionsText(result.versions);
  if (versions) lines.push(`Newer versions: ${versions}`);
  lines.push(`Checked ${when(result.checked_at)}`);
  return lines.join("\n");
}

/** One progress line of an update (the Engine's pull lines, then the update's own steps). */
export function progressText(event: unknown): string {
  if (!event || typeof event !== "object") return "";
  const line = event as { status?: unknown; id?: unknown; progress?: unknown };
  if (typeof line.status !== "string") return "";
  return [line.id, line.status, line.progress].filter((part) => typeof part === "string")
    .join(" ");
}

/** What an update did, in a sentence. */
export function appliedText(answer: UpdateApplied): string {
  switch (answer.outcome) {
    case "updated":
      return `Updated ${answer.name} to ${answer.new_image} (${
        shortDigest(answer.new_digest)
      }, was ${shortDigest(answer.old_digest)})${answer.running ? "; it is running" : ""}`;
    case "up_to_date":
      return `${answer.name} already runs the newest ${answer.new_image}`;
    case "rolled_back":
      return `Update of ${answer.name} rolled back to ${answer.old_image}: ${
        answer.reason ?? "the new container did not keep running"
      }`;
  }
}

/** What a stack update did, in words: which services changed, which did not, any rollback. */
export function stackUpdatedText(answer: StackUpdated): string {
  const parts: string[] = [];
  for (const { service, containers } of answer.updated) {
    const rolledBack = containers.filter((c) => c.outcome === "rolled_back");
    const updated = containers.filter((c) => c.outcome === "updated");
    if (updated.length) {
      const first = updated[0];
      parts.push(
        `updated ${service} (${updated.length} ${
          updated.length === 1 ? "container" : "containers"
        }, ${shortDigest(first.old_digest)} → ${shortDigest(first.new_digest)})`,
      );
    }
    for (const container of rolledBack) {
      parts.push(
        `rolled ${service} back to its old image: ${
          container.reason ?? "the new container did not keep running"
        }`,
      );
    }
  }
  const unchanged = answer.unchanged.length
    ? `${answer.unchanged.join(", ")} already ${
      answer.unchanged.length === 1 ? "runs its" : "run their"
    } newest image`
    : "";
  if (!parts.length) {
    return `${answer.project}: nothing to update${unchanged ? `; ${unchanged}` : ""}.`;
  }
  return `${answer.project}: ${parts.join("; ")}${unchanged ? `; ${unchanged}` : ""}.`;
}
