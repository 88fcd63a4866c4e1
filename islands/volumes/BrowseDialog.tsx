/**
 * A volume's files, read-only: directories to open, files and folders to download (a
 * folder or the whole volume as a tar). When no container mounts the volume, the server
 * asks for a local image to make a short-lived helper container from; the dialog lists the
 * local images to pick one. Uploading a file (admin) needs confirming a replacement.
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { enginePath } from "../env.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { formatBytes, formatDate } from "../images/format.ts";
import type { FileEntry, Listing } from "./types.ts";

const MAX_UPLOAD = 1024 * 1024;

function fileUrl(volume: string, kind: "files" | "download", path: string, image: string) {
  const query = new URLSearchParams({ path });
  if (image) query.set("image", image);
  return enginePath(`/api/containers/volumes/${encodeURIComponent(volume)}/${kind}?${query}`);
}

function childPath(dir: string, name: string) {
  return `${dir === "/" ? "" : dir}/${name}`;
}

function modeText(entry: FileEntry): string {
  const kind = entry.type === "dir" ? "d" : entry.type === "symlink" ? "l" : "-";
  const bits = "rwxrwxrwx";
  let out = "";
  for (let i = 0; i < 9; i++) out += entry.mode & (1 << (8 - i)) ? bits[i] : "-";
  return kind + out;
}

export function BrowseDialog({ volume, onClose }: { volume: string; onClose: () => void }) {
  const [path, setPath] = useState("/");
  const [image, setImage] = useState("");
  const [listing, setListing] = useState<Listing | null>(null);
  const [needsImage, setNeedsImage] = useState(false);
  const [images, setImages] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const [uploadFile, setUploadFile] = useState<File | null>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [uploadNote, setUploadNote] = useState<{ kind: "ok" | "error"; text: string } | null>(null);

  async function load(nextPath: string, nextImage = image) {
    setLoading(true);
    setError("");
    try {
      const answer = await api<Listing>("GET", fileUrl(volume, "files", nextPath, nextImage));
      setListing(answer);
      setPath(nextPath);
      setNeedsImage(false);
    } catch (e) {
      if (e instanceof ApiError && e.field === "image") {
        setNeedsImage(true);
        if (images.length === 0) loadImages();
      }
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }

  async function loadImages() {
    try {
      const answer = await api<{ images: { repo_tags: string[] }[] }>(
        "GET",
        "/api/containers/images",
      );
      const tags = answer.images.flatMap((entry) => entry.repo_tags).sort();
      setImages(tags);
      if (!image && tags.length) setImage(tags[0]);
    } catch {
      // the field stays free text
    }
  }

  async function upload(event: Event) {
    event.preventDefault();
    if (!uploadFile) return;
    setUploadNote(null);
    if (uploadFile.size > MAX_UPLOAD) {
      return setUploadNote({ kind: "error", text: "Files up to 1 MiB can be uploaded here." });
    }
    const query = new URLSearchParams({ path, filename: uploadFile.name });
    if (overwrite) query.set("overwrite", "1");
    if (image) query.set("image", image);
    const response = await fetch(
      enginePath(`/api/containers/volumes/${encodeURIComponent(volume)}/upload?${query}`),
      {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: uploadFile,
        credentials: "same-origin",
      },
    );
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      return setUploadNote({
        kind: "error",
        text: answer.error ?? `Upload failed (${response.status})`,
      });
    }
    setUploadNote({ kind: "ok", text: `Uploaded ${answer.path} (${formatBytes(answer.bytes)}).` });
    setUploadFile(null);
    setOverwrite(false);
    await load(path);
  }

  useEffect(() => {
    load("/");
  }, []);

  const segments = path.split("/").filter(Boolean);
  const via = listing?.via;
  return (
    <TitledModal
      id="vn-browse"
      class="vn-browse"
      title={`Files in ${volume}`}
      onClose={onClose}
      footer={
        <div class="im-modal-actions">
          {listing && (
            <a
              class="btn"
              href={fileUrl(volume, "download", "/", image)}
              download
              title="The whole volume as a tar archive"
            >
              Download volume (.tar)
            </a>
          )}
          <button type="button" class="btn" data-autofocus onClick={onClose}>Close</button>
        </div>
      }
    >
      {needsImage && (
        <form
          class="vn-helper"
          onSubmit={(e) => {
            e.preventDefault();
            load(path, image);
          }}
        >
          <p class="im-small">
            No container mounts this volume. Pick a local image: a helper container is created from
            it (never started, no network, the volume mounted read-only) and removed again.
          </p>
          <div class="vn-inline">
            <select
              aria-label="Helper image"
              class="mono"
              value={image}
              onChange={(e) => setImage((e.target as HTMLSelectElement).value)}
            >
              {images.length === 0 && <option value="">No local images</option>}
              {images.map((tag) => <option key={tag} value={tag}>{tag}</option>)}
            </select>
            <button type="submit" class="btn primary" disabled={!image || loading}>
              Browse with this image
            </button>
          </div>
        </form>
      )}
      {listing && (
        <>
          <nav class="vn-crumbs mono" aria-label="Path">
            <button type="button" class="vn-crumb" title={volume} onClick={() => load("/")}>
              {volume}
            </button>
            {segments.map((segment, index) => (
              <span key={index}>
                <span class="muted">/</span>
                <button
                  type="button"
                  class="vn-crumb"
                  onClick={() => load(`/${segments.slice(0, index + 1).join("/")}`)}
                >
                  {segment}
                </button>
              </span>
            ))}
          </nav>
          <p class="muted im-small vn-via">
            Read through {via && "container" in via
              ? (
                <>
                  container <span class="mono">{via.container}</span>
                </>
              )
              : (
                <>
                  a helper from <span class="mono">{via?.helper_image}</span>
                </>
              )}
            {loading && " · loading…"}
          </p>
          {listing.entries.length === 0
            ? <p class="vn-empty-dir muted">This folder is empty.</p>
            : (
              <div class="vn-files">
                <table class="table compact">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th class="im-num">Size</th>
                      <th>Modified</th>
                      <th>Mode</th>
                      <th>
                        <span class="sr-only">Download</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {listing.entries.map((entry) => (
                      <tr key={entry.name} data-entry={entry.name}>
                        <td class="vn-file-name">
                          {entry.type === "dir"
                            ? (
                              <button
                                type="button"
                                class="vn-crumb vn-dir"
                                onClick={() => load(childPath(path, entry.name))}
                              >
                                {entry.name}/
                              </button>
                            )
                            : <span class="mono vn-break">{entry.name}</span>}
                          {entry.link_target && (
                            <span class="muted mono vn-break">→ {entry.link_target}</span>
                          )}
                        </td>
                        <td class="im-num">
                          {entry.type === "file" ? formatBytes(entry.size) : ""}
                        </td>
                        <td class="muted vn-nowrap">{formatDate(entry.mtime * 1000)}</td>
                        <td class="mono muted vn-nowrap">{modeText(entry)}</td>
                        <td class="vn-nowrap">
                          {(entry.type === "file" || entry.type === "dir") && (
                            <a
                              class="btn small"
                              href={fileUrl(volume, "download", childPath(path, entry.name), image)}
                              download
                            >
                              {entry.type === "dir" ? "Download .tar" : "Download"}
                            </a>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          {listing.truncated && (
            <p class="notice im-warn im-small">
              This folder is too large to list in full: only part of it is shown.
            </p>
          )}
          <form class="vn-upload" onSubmit={upload}>
            <span class="im-small">Upload into {path}</span>
            <input
              type="file"
              name="upload"
              onChange={(e) => setUploadFile((e.target as HTMLInputElement).files?.[0] ?? null)}
            />
            <label class="im-check im-small">
              <input
                type="checkbox"
                checked={overwrite}
                onChange={(e) => setOverwrite((e.target as HTMLInputElement).checked)}
              />
              Replace a file of the same name
            </label>
            <button type="submit" class="btn small" disabled={!uploadFile}>Upload</button>
          </form>
          {uploadNote && (
            <div
              class={`notice ${uploadNote.kind} im-inline-error`}
              role={uploadNote.kind === "error" ? "alert" : "status"}
            >
              {uploadNote.text}
            </div>
          )}
        </>
      )}
      {error && !needsImage && <div class="notice error im-inline-error" role="alert">{error}</div>}
    </TitledModal>
  );
}
