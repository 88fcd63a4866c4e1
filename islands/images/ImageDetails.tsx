/**
 * An image's details in a side drawer: what it is (id, created, size, platform, digests),
 * its tags (admins add and remove them), labels, its layers with the history that made
 * them, and, for admins, a push to a saved registry with per-layer progress.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { Modal } from "../shared/Modal.tsx";
import { Notice, type NoticeValue } from "../shared/Notice.tsx";
import { api } from "../api.ts";
import { readNdjson } from "../ndjson.ts";
import { enginePath } from "../env.ts";
import { formatAge, formatBytes, formatDate, shortId } from "./format.ts";
import { applyPushLines, initialPush, type PushLine, type PushState } from "./push.ts";
import type { HistoryEntry, ImageInspectView, ImageView, RegistryView } from "./types.ts";

export interface ImageDetailsProps {
  image: ImageView;
  registries: RegistryView[];
  isAdmin: boolean;
  now: number;
  onClose: () => void;
  /** The image's tags changed (the list reads them again). */
  onChanged: () => void;
}

export function ImageDetails(
  { image, registries, isAdmin, now, onClose, onChanged }: ImageDetailsProps,
) {
  const [info, setInfo] = useState<ImageInspectView | null>(null);
  const [history, setHistory] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);

  async function load() {
    try {
      const path = `/api/containers/images/${encodeURIComponent(image.id)}`;
      const [inspect, layers] = await Promise.all([
        api<ImageInspectView>("GET", `${path}/json`),
        api<{ history: HistoryEntry[] }>("GET", `${path}/history`),
      ]);
      if (!mounted.current) return;
      setInfo(inspect);
      setHistory(layers.history);
      setError(null);
    } catch (e) {
      if (mounted.current) setError((e as Error).message);
    }
  }
  useEffect(() => void load(), [image.id]);

  async function changeTag(kind: "tag" | "untag", reference: string): Promise<string | null> {
    try {
      await api("POST", `/api/containers/images/${encodeURIComponent(image.id)}/${kind}`, {
        reference,
      });
    } catch (e) {
      return (e as Error).message;
    }
    setNotice({
      kind: "ok",
      text: kind === "tag" ? `Tagged as ${reference}.` : `Removed the tag ${reference}.`,
    });
    await load();
    onChanged();
    return null;
  }

  const title = image.repo_tags[0] ?? shortId(image.id);
  const tags = info?.RepoTags ?? image.repo_tags;
  const labels = Object.entries(info?.Config?.Labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Modal class="im-drawer" labelledBy="im-drawer-title" onClose={onClose}>
      <div class="im-drawer-inner">
        <header class="im-drawer-head">
          <div class="im-drawer-title">
            <h2 id="im-drawer-title" class="mono" title={title}>{title}</h2>
            <span class="muted im-small mono" title={image.id}>{shortId(image.id)}</span>
          </div>
          <button
            type="button"
            class="im-close"
            aria-label="Close"
            title="Close (Esc)"
            onClick={onClose}
            data-autofocus
          >
            ×
          </button>
        </header>
        <div class="im-drawer-body">
          {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}
          {error && (
            <div class="notice error" role="alert">
              Could not read this image: {error}
            </div>
          )}
          {!info && !error && <p class="muted">Reading the image…</p>}
          {info && (
            <>
              <section class="im-detail-section" aria-labelledby="im-d-overview">
                <h3 id="im-d-overview">Overview</h3>
                <dl class="im-facts">
                  <dt>Id</dt>
                  <dd class="mono im-break">{info.Id}</dd>
                  <dt>Created</dt>
                  <dd title={info.Created}>
                    {formatDate(Date.parse(info.Created))}{" "}
                    <span class="muted">({formatAge(Date.parse(info.Created) / 1000, now)})</span>
                  </dd>
                  <dt>Size</dt>
                  <dd>{formatBytes(info.Size)}</dd>
                  <dt>Platform</dt>
                  <dd class="mono">
                    {[info.Os, info.Architecture, info.Variant].filter(Boolean).join("/") ||
                      "unknown"}
                  </dd>
                  {info.Config?.Entrypoint?.length || info.Config?.Cmd?.length
                    ? (
                      <>
                        <dt>Command</dt>
                        <dd class="mono im-break">
                          {[...info.Config?.Entrypoint ?? [], ...info.Config?.Cmd ?? []].join(" ")}
                        </dd>
                      </>
                    )
                    : null}
                  <dt>Digests</dt>
                  <dd>
                    {(info.RepoDigests ?? []).length === 0
                      ? (
                        <span class="muted">
                          None: built or imported here, never pulled or pushed
                        </span>
                      )
                      : (
                        <ul class="im-plain-list">
                          {info.RepoDigests!.map((digest) => (
                            <li key={digest} class="mono im-break">{digest}</li>
                          ))}
                        </ul>
                      )}
                  </dd>
                </dl>
              </section>

              <section class="im-detail-section" aria-labelledby="im-d-tags">
                <h3 id="im-d-tags">Tags</h3>
                <TagList tags={tags} isAdmin={isAdmin} onUntag={(tag) => changeTag("untag", tag)} />
                {isAdmin && <AddTag onAdd={(reference) => changeTag("tag", reference)} />}
              </section>

              <section class="im-detail-section" aria-labelledby="im-d-labels">
                <h3 id="im-d-labels">Labels</h3>
                {labels.length === 0 ? <p class="muted">No labels.</p> : (
                  <dl class="im-labels">
                    {labels.map(([key, value]) => (
                      <div key={key} class="im-label">
                        <dt class="mono im-break">{key}</dt>
                        <dd class="mono im-break">{value}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </section>

              <section class="im-detail-section" aria-labelledby="im-d-layers">
                <h3 id="im-d-layers">
                  Layers and history{" "}
                  <span class="muted im-small">
                    {layerCount(info.RootFS?.Layers?.length ?? 0)} · newest first
                  </span>
                </h3>
                {history && <HistoryTable history={history} now={now} />}
              </section>

              {isAdmin && (
                <section class="im-detail-section" aria-labelledby="im-d-push">
                  <h3 id="im-d-push">Push to a registry</h3>
                  <PushForm
                    image={image}
                    registries={registries}
                    onPushed={() => {
                      void load();
                      onChanged();
                    }}
                  />
                </section>
              )}
            </>
          )}
        </div>
      </div>
    </Modal>
  );
}

function layerCount(n: number): string {
  return `${n} ${n === 1 ? "layer" : "layers"}`;
}

function TagList(
  { tags, isAdmin, onUntag }: {
    tags: string[];
    isAdmin: boolean;
    onUntag: (tag: string) => Promise<string | null>;
  },
) {
  const [error, setError] = useState<string | null>(null);
  if (tags.length === 0) return <p class="muted">Untagged (dangling).</p>;
  return (
    <>
      <ul class="im-tag-list">
        {tags.map((tag) => (
          <li key={tag} class="im-tag mono">
            <span class="im-tag-text" title={tag}>{tag}</span>
            {isAdmin && tags.length > 1 && (
              <button
                type="button"
                class="im-untag"
                aria-label={`Remove the tag ${tag}`}
                title={`Remove the tag ${tag} (the image stays)`}
                onClick={async () => setError(await onUntag(tag))}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && <p class="im-field-error" role="alert">{error}</p>}
    </>
  );
}

function AddTag({ onAdd }: { onAdd: (reference: string) => Promise<string | null> }) {
  const [reference, setReference] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="im-inline-form"
      onSubmit={async (event) => {
        event.preventDefault();
        if (!reference.trim()) {
          setError("Enter a name and tag, e.g. team/app:1.2");
          return;
        }
        setBusy(true);
        const problem = await onAdd(reference.trim());
        setBusy(false);
        setError(problem);
        if (!problem) setReference("");
      }}
      noValidate
    >
      <label for="im-add-tag" class="sr-only">New tag</label>
      <input
        id="im-add-tag"
        class="mono"
        placeholder="New tag, e.g. team/app:1.2"
        autocomplete="off"
        spellcheck={false}
        value={reference}
        aria-invalid={error ? "true" : undefined}
        onInput={(e) => setReference((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="btn" disabled={busy}>{busy ? "Tagging…" : "Add tag"}</button>
      {error && <p class="im-field-error im-inline-error" role="alert">{error}</p>}
    </form>
  );
}

function HistoryTable({ history, now }: { history: HistoryEntry[]; now: number }) {
  return (
    <div class="im-history-wrap">
      <table class="table compact im-history">
        <thead>
          <tr>
            <th class="im-h-by">Created by</th>
            <th class="im-h-size">Size</th>
            <th class="im-h-age">Created</th>
          </tr>
        </thead>
        <tbody>
          {history.map((entry, index) => {
            const command = entry.CreatedBy.replace(/^\/bin\/sh -c #\(nop\)\s+/, "")
              .replace(/^\/bin\/sh -c /, "RUN ");
            return (
              <tr key={`${entry.Id}-${index}`} class={entry.Size === 0 ? "im-h-empty" : undefined}>
                <td class="mono im-h-by" title={entry.CreatedBy}>
                  <span class="im-h-command">
                    {command || <span class="muted">(no command)</span>}
                  </span>
                  {entry.Comment && <span class="muted im-small">· {entry.Comment}</span>}
                </td>
                <td class="im-h-size" title={`${entry.Size.toLocaleString("en-US")} bytes`}>
                  {entry.Size === 0 ? <span class="muted">0 B</span> : formatBytes(entry.Size)}
                </td>
                <td class="im-h-age muted" title={formatDate(entry.Created * 1000)}>
                  {formatAge(entry.Created, now)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The repository part of a tag without its registry: "127.0.0.1:5000/team/app:1" → team/app. */
function repositoryOf(tag: string | undefined): { path: string; tag: string } {
  if (!tag) return { path: "", tag: "latest" };
  const colon = tag.lastIndexOf(":");
  const name = colon > tag.lastIndexOf("/") ? tag.slice(0, colon) : tag;
  const version = colon > tag.lastIndexOf("/") ? tag.slice(colon + 1) : "latest";
  const first = name.split("/")[0];
  const path = name.includes("/") && /[.:]|^localhost$/.test(first)
    ? name.slice(first.length + 1)
    : name;
  return { path, tag: version };
}

function PushForm(
  { image, registries, onPushed }: {
    image: ImageView;
    registries: RegistryView[];
    onPushed: () => void;
  },
) {
  const suggested = repositoryOf(image.repo_tags[0]);
  const [registry, setRegistry] = useState(registries[0]?.server_address ?? "");
  const [repository, setRepository] = useState(suggested.path);
  const [tag, setTag] = useState(suggested.tag);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [push, setPush] = useState<PushState | null>(null);
  const busy = push?.outcome === "pushing";

  if (registries.length === 0) {
    return (
      <p class="muted">
        Save a registry's credentials under Private registries first; a push goes only to a saved
        registry.
      </p>
    );
  }

  async function start(event: Event) {
    event.preventDefault();
    if (!repository.trim() || !tag.trim()) {
      setFieldError("Enter a repository and a tag");
      return;
    }
    const reference = `${registry}/${repository.trim()}:${tag.trim()}`;
    setFieldError(null);
    let state = initialPush(reference);
    setPush(state);
    try {
      const response = await fetch(
        enginePath(`/api/containers/images/${encodeURIComponent(image.id)}/push`),
        {
          method: "POST",
          headers: {
            Accept: "application/x-ndjson, application/json",
            "Content-Type": "application/json",
          },
          body: JSON.stringify({ reference }),
          credentials: "same-origin",
        },
      );
      if (!response.ok || !response.body) {
        const data = await response.json().catch(() => undefined) as
          | { error?: string; field?: string }
          | undefined;
        const message = data?.error ?? `The push could not start (${response.status})`;
        if (data?.field === "reference" && response.status === 400) {
          setFieldError(message);
          setPush(null);
        } else setPush({ ...state, outcome: "failed", error: message });
        return;
      }
      await readNdjson<PushLine>(
        response.body,
        (lines) => {
          state = applyPushLines(state, lines);
          setPush(state);
        },
        (text) => ({ status: text }),
      );
      if (state.outcome === "pushing") {
        setPush({
          ...state,
          outcome: "failed",
          error:
            "The connection closed before the push finished; the server may still complete it.",
        });
      }
      if (state.outcome === "done") onPushed();
    } catch (e) {
      setPush({ ...state, outcome: "failed", error: (e as Error).message });
    }
  }

  return (
    <>
      <form class="im-push-form" onSubmit={start} noValidate>
        <label>
          <span class="im-small muted">Registry</span>
          <select
            value={registry}
            onChange={(e) => setRegistry((e.target as HTMLSelectElement).value)}
          >
            {registries.map((r) => (
              <option key={r.id} value={r.server_address}>{r.server_address}</option>
            ))}
          </select>
        </label>
        <label class="im-push-repo">
          <span class="im-small muted">Repository</span>
          <input
            class="mono"
            value={repository}
            placeholder="team/app"
            autocomplete="off"
            spellcheck={false}
            aria-invalid={fieldError ? "true" : undefined}
            onInput={(e) => setRepository((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="im-push-tag">
          <span class="im-small muted">Tag</span>
          <input
            class="mono"
            value={tag}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => setTag((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="btn primary" disabled={busy}>
          {busy ? "Pushing…" : "Push"}
        </button>
      </form>
      {fieldError && <p class="im-field-error" role="alert">{fieldError}</p>}
      {push && <PushProgress push={push} />}
    </>
  );
}

function PushProgress({ push }: { push: PushState }) {
  return (
    <div
      class={`progress-box im-progress is-${push.outcome}`}
      data-outcome={push.outcome}
      aria-live="polite"
    >
      <div class="progress-head">
        <span class="mono progress-subject truncate" title={push.reference}>{push.reference}</span>
        <span class="progress-status im-progress-status truncate" title={push.status}>
          {push.outcome === "pushing" ? push.status : push.outcome === "done" ? "Pushed" : "Failed"}
        </span>
      </div>
      {push.layers.length > 0 && (
        <ul class="im-layers" aria-label="Layers">
          {push.layers.map((layer) => (
            <li key={layer.id} class="im-layer" data-layer={layer.id}>
              <span class="mono im-layer-id">{layer.id.slice(0, 12)}</span>
              <span class="im-layer-status truncate" title={layer.status}>{layer.status}</span>
              <progress
                class="im-bar"
                max={layer.total || 1}
                value={layer.finished ? layer.total || 1 : layer.total ? layer.current : undefined}
                aria-label={`Layer ${layer.id.slice(0, 12)}: ${layer.status}`}
              />
              <span class="im-layer-bytes mono muted">
                {layer.total ? formatBytes(layer.total) : ""}
              </span>
            </li>
          ))}
        </ul>
      )}
      {push.outcome === "done" && (
        <div class="notice ok im-pull-result" role="status">
          <strong>Pushed {push.reference}.</strong>
          {push.digest && (
            <div class="im-kv">
              <span class="muted">Digest</span>
              <span class="mono im-digest" title={push.digest}>{push.digest}</span>
            </div>
          )}
        </div>
      )}
      {push.outcome === "failed" && push.error && (
        <div class="notice error im-pull-result" role="alert">
          <strong>The push failed.</strong> <span class="im-error-text">{push.error}</span>
        </div>
      )}
    </div>
  );
}
