/**
 * The stack folder's files (config files, Dockerfiles, secret files), below the editor:
 * everyone sees their names and sizes; admins add, edit and remove them. A file marked
 * secret can be replaced or removed but never read back. Paths are relative to the stack
 * folder, as the compose file names them (`./conf/app.conf`).
 */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { TitledModal } from "../shared/TitledModal.tsx";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";

export interface StackFile {
  path: string;
  size: number;
  modified: string | null;
  secret: boolean;
}

const BASE = "/api/containers/compose/stacks";
const PROJECT_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

type Editing = { path: string; content: string; secret: boolean; isNew: boolean };

function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function Files(
  { project, isAdmin, onChanged }: {
    /** The project the editor deploys; files belong to its folder. */
    project: string;
    isAdmin: boolean;
    /** A file was added, changed or removed (the preview's host checks may change). */
    onChanged: () => void;
  },
) {
  const name = project.trim().toLowerCase();
  const valid = PROJECT_RE.test(name);
  const [files, setFiles] = useState<StackFile[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);

  async function load() {
    if (!valid) return setFiles(null);
    try {
      const answer = await api<{ files: StackFile[] }>("GET", `${BASE}/${name}/files`);
      setFiles(answer.files);
      setLoadError(null);
    } catch (error) {
      setLoadError(error instanceof Error ? error.message : String(error));
    }
  }

  useEffect(() => {
    setFiles(null);
    setNotice(null);
    const timer = setTimeout(load, 300);
    return () => clearTimeout(timer);
  }, [name]);

  async function openFile(file: StackFile) {
    setDialogError(null);
    if (file.secret) {
      setEditing({ path: file.path, content: "", secret: true, isNew: false });
      return;
    }
    try {
      const answer = await api<{ content: string }>(
        "GET",
        `${BASE}/${name}/files/content?path=${encodeURIComponent(file.path)}`,
      );
      setEditing({ path: file.path, content: answer.content, secret: false, isNew: false });
    } catch (error) {
      setNotice({ kind: "error", text: error instanceof Error ? error.message : String(error) });
    }
  }

  async function save() {
    if (!editing) return;
    setBusy(true);
    setDialogError(null);
    try {
      await api("PUT", `${BASE}/${name}/files`, {
        path: editing.path.trim(),
        content: editing.content,
        secret: editing.secret,
      });
      setNotice({ kind: "ok", text: `Saved ${editing.path.trim()}` });
      setEditing(null);
      await load();
      onChanged();
    } catch (error) {
      setDialogError(
        error instanceof ApiError || error instanceof Error ? error.message : String(error),
      );
    } finally {
      setBusy(false);
    }
  }

  async function remove(path: string) {
    setBusy(true);
    try {
      await api("DELETE", `${BASE}/${name}/files?path=${encodeURIComponent(path)}`);
      setNotice({ kind: "ok", text: `Removed ${path}` });
      await load();
      onChanged();
    } catch (error) {
      setNotice({ kind: "error", text: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
      setRemoving(null);
    }
  }

  return (
    <section class="cp-files" aria-labelledby="cp-files-title" data-project={valid ? name : ""}>
      <div class="cp-files-head">
        <h3 id="cp-files-title">
          Stack files {valid && <span class="muted mono cp-small">./ of {name}</span>}
        </h3>
        {isAdmin && valid && (
          <button
            type="button"
            class="btn small"
            onClick={() => {
              setDialogError(null);
              setEditing({ path: "", content: "", secret: false, isNew: true });
            }}
          >
            Add file
          </button>
        )}
      </div>
      {!valid
        ? (
          <p class="muted cp-small">
            Name the project to keep files beside its compose file (config files, a Dockerfile,
            secret files); relative paths in the file resolve against that folder.
          </p>
        )
        : loadError
        ? <p class="notice error cp-small">{loadError}</p>
        : files === null
        ? <p class="muted cp-small">Loading…</p>
        : files.length === 0
        ? (
          <p class="muted cp-small">
            No files yet. {isAdmin
              ? "Add one to bind it (./conf/app.conf), build from it (Dockerfile) or use it as a secret."
              : ""}
          </p>
        )
        : (
          <ul class="cp-file-list">
            {files.map((file) => (
              <li key={file.path} class="cp-file" data-path={file.path}>
                <span class="mono truncate cp-file-path" title={file.path}>{file.path}</span>
                {file.secret && <span class="cp-badge badge-secret">secret</span>}
                <span class="muted cp-small cp-file-size">{sizeText(file.size)}</span>
                {isAdmin && (
                  <span class="cp-file-actions">
                    <button
                      type="button"
                      class="btn small"
                      onClick={() => openFile(file)}
                      aria-label={`${file.secret ? "Replace" : "Edit"} ${file.path}`}
                    >
                      {file.secret ? "Replace" : "Edit"}
                    </button>
                    <button
                      type="button"
                      class="btn small danger-text"
                      onClick={() =>
                        setRemoving(file.path)}
                      aria-label={`Remove ${file.path}`}
                    >
                      Remove
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      {notice && (
        <Notice
          notice={notice}
          class="cp-notice"
          onDismiss={() => setNotice(null)}
        />
      )}

      {editing && (
        <TitledModal
          id="cp-file-dialog"
          class="cp-file-dialog"
          title={editing.isNew
            ? "Add a file"
            : editing.secret
            ? `Replace ${editing.path}`
            : `Edit ${editing.path}`}
          onClose={() => setEditing(null)}
          footer={
            <div class="im-modal-actions">
              <button
                type="button"
                class="btn ghost-dark"
                onClick={() => setEditing(null)}
              >
                Cancel
              </button>
              <button
                type="button"
                class="btn primary"
                disabled={busy || !editing.path.trim()}
                onClick={save}
              >
                {busy ? "Saving…" : "Save"}
              </button>
            </div>
          }
        >
          <label class="cp-field">
            <span>Path in the stack folder</span>
            <input
              class="input mono"
              value={editing.path}
              readOnly={!editing.isNew}
              placeholder="conf/app.conf"
              data-autofocus={editing.isNew ? true : undefined}
              onInput={(e) =>
                setEditing({ ...editing, path: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label class="cp-field">
            <span>
              {editing.secret && !editing.isNew
                ? "New content (the current one is never shown)"
                : "Content"}
            </span>
            <textarea
              class="cp-file-text mono"
              rows={12}
              spellcheck={false}
              value={editing.content}
              data-autofocus={editing.isNew ? undefined : true}
              onInput={(e) =>
                setEditing({ ...editing, content: (e.target as HTMLTextAreaElement).value })}
            />
          </label>
          {editing.isNew && (
            <label class="cp-check">
              <input
                type="checkbox"
                checked={editing.secret}
                onChange={(e) =>
                  setEditing({ ...editing, secret: (e.target as HTMLInputElement).checked })}
              />{" "}
              Secret: write-only, never shown again (for <span class="mono">secrets: file:</span>)
            </label>
          )}
          <p class="muted cp-small">
            Stored with mode 0600, up to 256 KiB of text. Names use letters, digits and{" "}
            <span class="mono">_ . + @ -</span>, with folders separated by /.
          </p>
          {dialogError && <p class="notice error cp-small" role="alert">{dialogError}</p>}
        </TitledModal>
      )}

      {removing && (
        <TitledModal
          id="cp-file-remove"
          class="im-confirm"
          title={`Remove ${removing}?`}
          onClose={() => setRemoving(null)}
          footer={
            <div class="im-modal-actions">
              <button
                type="button"
                class="btn ghost-dark"
                onClick={() => setRemoving(null)}
              >
                Keep
              </button>
              <button
                type="button"
                class="btn danger"
                data-autofocus
                disabled={busy}
                onClick={() =>
                  remove(removing)}
              >
                Remove
              </button>
            </div>
          }
        >
          <p>
            The file is deleted from the stack folder. Containers that bind it keep what they have
            until they are recreated.
          </p>
        </TitledModal>
      )}
    </section>
  );
}
