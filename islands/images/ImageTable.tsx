/** The image list: tags as chips, sizes and ages like the CLI, who uses each image, delete. */
import { formatAge, formatBytes, formatDate } from "./format.ts";
import type { ImageView } from "./types.ts";
import { SortHeader, type SortState } from "../shared/SortHeader.tsx";
import { OPEN_RUN_DIALOG } from "../containers/types.ts";
import { useUpdates } from "../updates/useUpdates.ts";
import { ImageUpdateBadge } from "../updates/UpdateBadge.tsx";
import { UpdatesControls } from "../updates/UpdatesControls.tsx";
import { hasUpdate } from "../updates/text.ts";
import type { UpdateResult } from "../updates/types.ts";
import { pagePath } from "../env.ts";

export type SortKey = "name" | "size" | "created" | "used";
export type Sort = SortState<SortKey>;

export const DEFAULT_SORT: Sort = { key: "created", dir: -1 };

/** The name an image sorts by: its first tag, dangling ones last. */
function sortName(image: ImageView): string {
  return image.repo_tags.length ? image.repo_tags[0].toLowerCase() : "\uffff" + image.id;
}

export function sortImages(images: readonly ImageView[], sort: Sort): ImageView[] {
  const by: Record<SortKey, (a: ImageView, b: ImageView) => number> = {
    name: (a, b) => sortName(a) < sortName(b) ? -1 : sortName(a) > sortName(b) ? 1 : 0,
    size: (a, b) => a.size - b.size,
    created: (a, b) => a.created - b.created,
    used: (a, b) => a.used_by - b.used_by || a.used_by_running - b.used_by_running,
  };
  return [...images].sort((a, b) =>
    by[sort.key](a, b) * sort.dir || (sortName(a) < sortName(b) ? -1 : 1)
  );
}

export function filterImages(images: readonly ImageView[], query: string): ImageView[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...images];
  return images.filter((image) => {
    const haystack = [
      ...image.repo_tags,
      ...image.repo_digests,
      image.id,
      image.short_id,
      ...image.containers.map((c) => c.name),
      image.dangling ? "dangling <none>" : "",
      image.used_by > 0 ? "in-use used" : "unused",
    ].join(" ").toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** "web (running), old-web (exited)" */
export function containerList(image: ImageView): string {
  return image.containers.map((c) => `${c.name} (${c.state})`).join(", ");
}

export interface ImageTableProps {
  images: ImageView[];
  sort: Sort;
  onSort: (sort: Sort) => void;
  isAdmin: boolean;
  now: number;
  /** An image to mark (just pulled). */
  highlight: string | null;
  onDelete: (image: ImageView) => void;
  /** Opens the image's details drawer. */
  onDetails: (image: ImageView) => void;
}

export function ImageTable(
  { images, sort, onSort, isAdmin, now, highlight, onDelete, onDetails }: ImageTableProps,
) {
  const updates = useUpdates();
  const rows = updates.onlyUpdates
    ? images.filter((image) => (updates.byImage.get(image.id) ?? []).some(hasUpdate))
    : images;
  const header = (key: SortKey, label: string, className: string, firstDir: 1 | -1) => (
    <SortHeader
      column={key}
      label={label}
      class={className}
      sort={sort}
      firstDir={firstDir}
      onSort={onSort}
    />
  );
  return (
    <table class="table im-table">
      <caption class="im-updates">
        <div class="ct-toolbar">
          <UpdatesControls updates={updates} isAdmin={isAdmin} />
        </div>
      </caption>
      <thead>
        <tr>
          {header("name", "Repository:tag", "im-col-name", 1)}
          <th class="im-col-id">Id</th>
          {header("size", "Size", "im-col-size", -1)}
          {header("created", "Created", "im-col-created", -1)}
          {header("used", "Used by", "im-col-used", -1)}
          {isAdmin && (
            <th class="im-col-actions">
              <span class="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((image) => (
          <ImageRow
            key={image.id}
            image={image}
            updates={updates.byImage.get(image.id)}
            isAdmin={isAdmin}
            now={now}
            highlight={highlight === image.id}
            onDelete={() => onDelete(image)}
            onDetails={() => onDetails(image)}
          />
        ))}
      </tbody>
    </table>
  );
}

function TagChip({ tag }: { tag: string }) {
  const colon = tag.lastIndexOf(":");
  const repo = colon > tag.lastIndexOf("/") ? tag.slice(0, colon) : tag;
  const version = colon > tag.lastIndexOf("/") ? tag.slice(colon) : "";
  const slash = repo.lastIndexOf("/");
  return (
    <span class="im-tag mono" title={tag}>
      <span class="im-tag-text" dir="ltr">
        {slash >= 0 && <span class="im-tag-prefix">{repo.slice(0, slash + 1)}</span>}
        <span class="im-tag-name">{repo.slice(slash + 1)}</span>
        <span class="im-tag-version">{version}</span>
      </span>
    </span>
  );
}

function ImageRow(
  { image, isAdmin, now, highlight, onDelete, onDetails, updates }: {
    image: ImageView;
    updates?: UpdateResult[];
    isAdmin: boolean;
    now: number;
    highlight: boolean;
    onDelete: () => void;
    onDetails: () => void;
  },
) {
  const digest = image.repo_digests[0];
  const running = image.used_by_running > 0;
  const usedTitle = image.used_by > 0
    ? `Used by ${containerList(image)}`
    : "Not used by any container";
  const deleteTitle = running
    ? `In use by running containers: ${containerList(image)}. Stop and remove them first.`
    : image.used_by > 0
    ? `Used by stopped containers: ${containerList(image)}. Deleting needs force.`
    : `Delete ${image.repo_tags[0] ?? image.short_id}`;
  return (
    <tr
      class={highlight ? "im-row is-new" : "im-row"}
      data-image-id={image.id}
      data-dangling={image.dangling ? "true" : undefined}
    >
      <td class="im-col-name">
        <div class="im-tags">
          {image.repo_tags.length > 0
            ? image.repo_tags.map((tag) => <TagChip key={tag} tag={tag} />)
            : (
              <>
                <span class="pill state-dangling">dangling</span>
                {digest && (
                  <span class="im-digest-ref mono muted truncate" title={digest}>
                    {digest.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, "@sha256:$1…")}
                  </span>
                )}
              </>
            )}
          <ImageUpdateBadge results={updates} />
          <button
            type="button"
            class="btn small im-details-narrow"
            aria-label={`Details of ${image.repo_tags[0] ?? image.short_id}`}
            onClick={onDetails}
          >
            Details
          </button>
        </div>
      </td>
      <td class="im-col-id mono">
        <button
          type="button"
          class="im-details-link mono"
          title={`Details of ${image.id}: layers, history, labels, tags`}
          aria-label={`Details of ${image.repo_tags[0] ?? image.short_id}`}
          onClick={onDetails}
        >
          {image.short_id}
        </button>
      </td>
      <td class="im-col-size" title={`${image.size.toLocaleString("en-US")} bytes`}>
        {formatBytes(image.size)}
      </td>
      <td class="im-col-created" title={formatDate(image.created * 1000)}>
        {formatAge(image.created, now)}
      </td>
      <td class="im-col-used" title={usedTitle}>
        {image.used_by === 0 ? <span class="muted im-unused">0</span> : (
          <a
            class="im-used-link"
            href={pagePath(`/containers?${new URLSearchParams({ image: image.id })}`)}
          >
            <span>{image.used_by} {image.used_by === 1 ? "container" : "containers"}</span>
            {running && (
              <span class="im-running">
                <span class="im-running-dot" aria-hidden="true" />
                {image.used_by_running} running
              </span>
            )}
          </a>
        )}
      </td>
      {isAdmin && (
        <td class="im-col-actions">
          {!image.dangling && (
            <button
              type="button"
              class="btn small"
              aria-label={`Run ${image.repo_tags[0]}`}
              onClick={() =>
                dispatchEvent(
                  new CustomEvent(OPEN_RUN_DIALOG, { detail: { image: image.repo_tags[0] } }),
                )}
            >
              Run
            </button>
          )}{" "}
          <span class="im-delete-wrap" title={deleteTitle}>
            <button
              type="button"
              class="btn small danger-outline"
              disabled={running}
              aria-label={`Delete ${image.repo_tags[0] ?? image.short_id}`}
              onClick={onDelete}
            >
              Delete
            </button>
          </span>
        </td>
      )}
    </tr>
  );
}
