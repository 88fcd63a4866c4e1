/**
 * "Prune dangling": first what would go (the dangling images no container uses, from a
 * fresh list), then the server's answer with the bytes it reclaimed.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { formatAge, formatBytes } from "./format.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import type { ImageView } from "./types.ts";

export interface PruneResult {
  deleted: string[];
  reclaimed_bytes: number;
}

export function PruneDialog(
  { images: initial, refresh, onClose, onPruned }: {
    images: ImageView[];
    /** Reads the list again, so the preview is current. */
    refresh: () => Promise<ImageView[]>;
    onClose: () => void;
    onPruned: (result: PruneResult) => void;
  },
) {
  const [images, setImages] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [result, setResult] = useState<PruneResult | null>(null);

  useEffect(() => {
    refresh().then(setImages).catch(() => {});
  }, []);

  const dangling = images.filter((image) => image.dangling);
  const candidates = dangling.filter((image) => image.used_by === 0);
  const kept = dangling.filter((image) => image.used_by > 0);
  const total = candidates.reduce((sum, image) => sum + image.size, 0);
  const now = Date.now();

  async function prune() {
    setBusy(true);
    setError("");
    try {
      const answer = await api<PruneResult>("POST", "/api/containers/images/prune");
      setResult(answer);
      onPruned(answer);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <TitledModal
      id="im-prune"
      class="im-prune"
      title="Prune dangling images"
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          {result || candidates.length === 0
            ? <button type="button" class="btn" data-autofocus onClick={onClose}>Close</button>
            : (
              <>
                {/* Cancel is the default: Enter must never delete. */}
                <button type="button" class="btn ghost-dark" data-autofocus onClick={onClose}>
                  Cancel
                </button>
                <button
                  type="button"
                  class="btn danger"
                  disabled={busy}
                  onClick={prune}
                >
                  {busy
                    ? "Pruning…"
                    : `Prune ${candidates.length} ${candidates.length === 1 ? "image" : "images"}`}
                </button>
              </>
            )}
        </div>
      }
    >
      {result
        ? (
          <div class="notice ok im-prune-result" role="status">
            <strong>Reclaimed {formatBytes(result.reclaimed_bytes)}.</strong>{" "}
            {prunedText(result, candidates)}
          </div>
        )
        : candidates.length === 0
        ? (
          <p class="im-prune-empty">
            No dangling images to prune.{" "}
            <span class="muted">
              Dangling images are untagged leftovers of pulls and builds that replaced a tag.
            </span>
          </p>
        )
        : (
          <>
            <p>
              These untagged images are not used by any container and will be deleted:
            </p>
            <div class="im-prune-list">
              <table class="table compact">
                <thead>
                  <tr>
                    <th>Id</th>
                    <th>Created</th>
                    <th class="im-num">Size</th>
                  </tr>
                </thead>
                <tbody>
                  {candidates.map((image) => (
                    <tr key={image.id} data-image-id={image.id}>
                      <td class="mono" title={image.id}>{image.short_id}</td>
                      <td class="muted">{formatAge(image.created, now)}</td>
                      <td class="im-num">{formatBytes(image.size)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th colSpan={2}>Total</th>
                    <th class="im-num im-prune-total">{formatBytes(total)}</th>
                  </tr>
                </tfoot>
              </table>
            </div>
            <p class="muted im-small">
              The space actually freed can be smaller: layers shared with other images stay.
            </p>
          </>
        )}
      {!result && kept.length > 0 && (
        <p class="muted im-small">
          {kept.length} dangling {kept.length === 1 ? "image is" : "images are"}{" "}
          kept because containers use {kept.length === 1 ? "it" : "them"}.
        </p>
      )}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}

/** "Deleted 2 images." The Engine's list also names layers, so count the images we knew. */
function prunedText(result: PruneResult, candidates: ImageView[]): string {
  if (result.deleted.length === 0) return "Nothing was deleted.";
  const ids = new Set(result.deleted);
  const images = candidates.filter((image) => ids.has(image.id)).length;
  if (images > 0) return `Deleted ${images} ${images === 1 ? "image" : "images"}.`;
  return `Deleted ${result.deleted.length} ${result.deleted.length === 1 ? "entry" : "entries"}.`;
}
