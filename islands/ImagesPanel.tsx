/**
 * The Images tab: pull with live progress, the image list (filter, sort, who uses what,
 * delete), an image's details (layers, history, labels, tag, untag, push), prune of
 * dangling images, and the saved private registry credentials (with a registry browser). Viewers
 * see everything but get no control that changes anything.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { api } from "./api.ts";
import { DeleteDialog, type DeleteResult } from "./images/DeleteDialog.tsx";
import { formatBytes } from "./images/format.ts";
import {
  DEFAULT_SORT,
  filterImages,
  ImageTable,
  type Sort,
  sortImages,
} from "./images/ImageTable.tsx";
import { PruneDialog, type PruneResult } from "./images/PruneDialog.tsx";
import { ImageDetails } from "./images/ImageDetails.tsx";
import { Webhooks } from "./images/Webhooks.tsx";
import { PullBox } from "./images/PullBox.tsx";
import { Registries } from "./images/Registries.tsx";
import type { ImageView, RegistryView, Role } from "./images/types.ts";
import { useLive } from "./shared/live.ts";

export interface ImagesPanelProps {
  /** The signed-in user's role; null makes the island ask /api/auth/me. */
  role: Role | null;
  images: ImageView[];
  registries: RegistryView[];
}

const CLOCK_MS = 30_000;

export function ImagesPanel(
  { role: initialRole, images: initialImages, registries: initialRegistries }: ImagesPanelProps,
) {
  const [role, setRole] = useState<Role>(initialRole ?? "viewer");
  const [images, setImages] = useState(initialImages);
  const [registries, setRegistries] = useState(initialRegistries);
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<Sort>(DEFAULT_SORT);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [deleting, setDeleting] = useState<ImageView | null>(null);
  const [details, setDetails] = useState<ImageView | null>(null);
  const [pruning, setPruning] = useState(false);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const isAdmin = role === "admin";

  /** Lists asked for so far: an answer that a newer list overtook is not shown. */
  const loads = useRef(0);

  async function loadImages(): Promise<ImageView[]> {
    const mine = ++loads.current;
    const answer = await api<{ images: ImageView[] }>("GET", "/api/containers/images");
    if (mine !== loads.current) return answer.images;
    setImages(answer.images);
    setNow(Date.now());
    return answer.images;
  }

  async function refresh() {
    setRefreshing(true);
    try {
      await loadImages();
    } catch (e) {
      setNotice({ kind: "error", text: `Could not read the images: ${(e as Error).message}` });
    } finally {
      setRefreshing(false);
    }
  }

  async function loadRegistries() {
    const answer = await api<{ registries: RegistryView[] }>("GET", "/api/containers/registries");
    setRegistries(answer.registries);
  }

  // A tag, untag, pull, delete or import from anywhere (the CLI too); a container's create
  // or destroy changes an image's "used by".
  useLive(
    (event) =>
      (event.kind === "object" && event.type === "image") ||
      (event.kind === "container" && (event.action === "create" || event.action === "destroy")),
    () => void loadImages().catch(() => {}),
  );

  useEffect(() => {
    if (initialRole === null) {
      api<{ user: { role: Role } }>("GET", "/api/auth/me")
        .then((answer) => setRole(answer.user.role))
        .catch(() => setRole("viewer"));
    }
    const clock = setInterval(() => setNow(Date.now()), CLOCK_MS);
    // Coming back to the tab: the list may have changed meanwhile (a pull finished).
    const onVisible = () => {
      if (document.visibilityState === "visible") loadImages().catch(() => {});
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(clock);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, []);

  const shown = useMemo(() => sortImages(filterImages(images, query), sort), [images, query, sort]);
  const totalSize = images.reduce((sum, image) => sum + image.size, 0);
  const danglingCount = images.filter((image) => image.dangling && image.used_by === 0).length;

  return (
    <div class="stack im-panel">
      {isAdmin && (
        <PullBox
          registries={registries}
          onPulled={async (imageId) => {
            try {
              await loadImages();
              setHighlight(imageId);
              // Saved credentials may have been used: their "last used" changed.
              await loadRegistries();
            } catch {
              // the list refreshes on the next visit
            }
          }}
        />
      )}

      <section class="im-images" aria-labelledby="im-images-title">
        <div class="im-toolbar">
          <h2 id="im-images-title" class="im-toolbar-title">Local images</h2>
          <input
            type="search"
            class="im-filter"
            placeholder="Filter by tag, id or container…"
            aria-label="Filter images"
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
          <span class="muted im-count">
            {query && shown.length !== images.length
              ? `${shown.length} of ${images.length} images`
              : `${images.length} ${images.length === 1 ? "image" : "images"}`} ·{" "}
            {formatBytes(totalSize)}
          </span>
          <div class="im-toolbar-actions">
            <button
              type="button"
              class="btn"
              disabled={refreshing}
              onClick={refresh}
              title="Read the list again"
            >
              {refreshing ? "Refreshing…" : "Refresh"}
            </button>
            {isAdmin && (
              <button
                type="button"
                class="btn"
                onClick={() => {
                  setNotice(null);
                  setPruning(true);
                }}
                title="Delete untagged images no container uses"
              >
                Prune dangling
                {danglingCount > 0 && <span class="im-badge">{danglingCount}</span>}
              </button>
            )}
          </div>
        </div>

        {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}

        {images.length === 0
          ? (
            <div class="empty">
              <p class="empty-title">No images on this node yet.</p>
              <p class="muted">
                {isAdmin
                  ? "Pull one above, e.g. nginx:1.25, or run a container: its image is pulled then."
                  : "Images appear here once an admin pulls one or runs a container."}
              </p>
            </div>
          )
          : shown.length === 0
          ? (
            <div class="empty">
              <p class="empty-title">No image matches “{query}”.</p>
              <button type="button" class="btn" onClick={() => setQuery("")}>
                Clear the filter
              </button>
            </div>
          )
          : (
            <ImageTable
              images={shown}
              sort={sort}
              onSort={setSort}
              isAdmin={isAdmin}
              now={now}
              highlight={highlight}
              onDelete={(image) => {
                setNotice(null);
                setDeleting(image);
              }}
              onDetails={setDetails}
            />
          )}
      </section>

      <Registries
        registries={registries}
        isAdmin={isAdmin}
        now={now}
        reload={loadRegistries}
      />

      {isAdmin && <Webhooks now={now} />}

      {details && (
        <ImageDetails
          image={details}
          registries={registries}
          isAdmin={isAdmin}
          now={now}
          onClose={() => setDetails(null)}
          onChanged={() => void loadImages().catch(() => {})}
        />
      )}
      {deleting && (
        <DeleteDialog
          image={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={async (result: DeleteResult, what: string) => {
            setDeleting(null);
            setNotice({ kind: "ok", text: deletedText(result, what) });
            await refresh();
          }}
        />
      )}
      {pruning && (
        <PruneDialog
          images={images}
          refresh={loadImages}
          onClose={() => setPruning(false)}
          onPruned={(result: PruneResult) => {
            setNotice({
              kind: "ok",
              text: `Pruned dangling images: reclaimed ${formatBytes(result.reclaimed_bytes)}.`,
            });
            loadImages().catch(() => {});
          }}
        />
      )}
    </div>
  );
}

function deletedText(result: DeleteResult, what: string): string {
  if (result.deleted.length === 0) {
    return result.untagged.length
      ? `Removed the tag ${result.untagged.join(", ")}; the image keeps its other tags.`
      : `${what}: nothing changed.`;
  }
  const untagged = result.untagged.length ? ` (untagged ${result.untagged.join(", ")})` : "";
  return `Deleted ${what}${untagged}.`;
}
