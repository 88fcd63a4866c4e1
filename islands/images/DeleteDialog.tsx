/**
 * The delete confirmation. An image with several tags can lose one tag or go entirely;
 * an image used only by stopped containers needs an explicit "force" (the server refuses
 * force for one a running container uses, so the table never offers it).
 */
import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { formatBytes } from "./format.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import type { ImageView } from "./types.ts";

export interface DeleteResult {
  deleted: string[];
  untagged: string[];
}

export function DeleteDialog(
  { image, onClose, onDeleted }: {
    image: ImageView;
    onClose: () => void;
    onDeleted: (result: DeleteResult, what: string) => void;
  },
) {
  const tags = image.repo_tags;
  const [mode, setMode] = useState<"image" | "tag">("image");
  const [tag, setTag] = useState(tags[0] ?? "");
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const stopped = image.used_by > 0;
  const name = tags[0] ?? image.short_id;
  const needsForce = mode === "image" && stopped;

  async function confirm() {
    setBusy(true);
    setError("");
    try {
      let result: DeleteResult;
      if (mode === "tag") {
        // The server refuses any delete of an image containers use unless forced, even
        // removing one of several tags; untagging cannot affect the containers.
        result = await api<DeleteResult>(
          "DELETE",
          `/api/containers/images/${encodeURIComponent(tag)}${stopped ? "?force=1" : ""}`,
        );
      } else {
        const query = tags.length > 1 || stopped ? "?force=1" : "";
        result = await api<DeleteResult>(
          "DELETE",
          `/api/containers/images/${encodeURIComponent(image.id)}${query}`,
        );
      }
      onDeleted(result, mode === "tag" ? tag : name);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <TitledModal
      id="im-delete"
      class="im-confirm"
      title={mode === "tag" ? "Remove tag" : "Delete image"}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          <button type="button" class="btn ghost-dark" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            class="btn danger"
            disabled={busy || (needsForce && !force)}
            onClick={confirm}
          >
            {busy
              ? "Deleting…"
              : mode === "tag"
              ? "Remove tag"
              : needsForce
              ? "Force delete"
              : "Delete image"}
          </button>
        </div>
      }
    >
      <p class="im-confirm-what">
        <span class="mono im-break">{name}</span>
        {/* A dangling image's name is its id already: the id is not repeated. */}
        <span class="muted im-small">
          {tags.length ? `${image.short_id} · ${formatBytes(image.size)}` : formatBytes(image.size)}
        </span>
      </p>
      {tags.length > 1 && (
        <fieldset class="im-choice">
          <legend class="sr-only">What to delete</legend>
          <label>
            <input
              type="radio"
              name="im-delete-mode"
              checked={mode === "image"}
              onChange={() => setMode("image")}
            />
            Delete the image with all {tags.length} tags
          </label>
          <label>
            <input
              type="radio"
              name="im-delete-mode"
              checked={mode === "tag"}
              onChange={() => setMode("tag")}
            />
            Remove only the tag
            <select
              class="mono"
              aria-label="Tag to remove"
              value={tag}
              onChange={(e) => {
                setTag((e.target as HTMLSelectElement).value);
                setMode("tag");
              }}
            >
              {tags.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
        </fieldset>
      )}
      {mode === "image" && tags.length > 1 && (
        <p class="muted im-small">
          Tags: <span class="mono im-break">{tags.join(", ")}</span>
        </p>
      )}
      {mode === "tag" && (
        <p class="muted im-small">
          The image keeps its other tags; nothing is deleted from disk.
        </p>
      )}
      {needsForce && (
        <div class="notice im-warn">
          <p>
            Used by stopped {image.used_by === 1 ? "container" : "containers"}{" "}
            <strong class="im-break">{image.containers.map((c) => c.name).join(", ")}</strong>.
            Docker refuses to delete it unless forced.
          </p>
          <label class="im-check">
            <input
              type="checkbox"
              checked={force}
              onChange={(e) => setForce((e.target as HTMLInputElement).checked)}
            />
            Force: delete it anyway (the containers are kept)
          </label>
        </div>
      )}
      {mode === "image" && !stopped && (
        <p class="im-small">This cannot be undone; pull it again to get it back.</p>
      )}
      {error && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}
