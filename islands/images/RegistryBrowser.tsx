/**
 * A saved registry's repositories (the registry's catalog, a page at a time) and, for the
 * one picked, its tags with a Pull button each (the Pull box above does the pull).
 */
import { useEffect, useState } from "preact/hooks";
import { TitledModal } from "../shared/TitledModal.tsx";
import { api } from "../api.ts";
import type { RegistryView } from "./types.ts";

const PAGE = 100;

interface CatalogPage {
  repositories: string[];
  next?: string;
}

export function RegistryBrowser(
  { registry, onClose, onPull }: {
    registry: RegistryView;
    onClose: () => void;
    onPull: (reference: string) => void;
  },
) {
  const [repositories, setRepositories] = useState<string[]>([]);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tags, setTags] = useState<string[] | null>(null);
  const [tagError, setTagError] = useState<string | null>(null);

  async function loadPage(last?: string) {
    setLoading(true);
    try {
      const query = new URLSearchParams({ n: String(PAGE) });
      if (last) query.set("last", last);
      const page = await api<CatalogPage>(
        "GET",
        `/api/containers/registries/${registry.id}/catalog?${query}`,
      );
      setRepositories((shown) => last ? [...shown, ...page.repositories] : page.repositories);
      setNext(page.next);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => void loadPage(), [registry.id]);

  async function open(repository: string) {
    setSelected(repository);
    setTags(null);
    setTagError(null);
    try {
      const answer = await api<{ tags: string[] }>(
        "GET",
        `/api/containers/registries/${registry.id}/tags?${new URLSearchParams({ repository })}`,
      );
      setTags(sortTags(answer.tags));
    } catch (e) {
      setTagError((e as Error).message);
    }
  }

  return (
    <TitledModal
      id="im-browse"
      class="im-browse"
      title={`Browse ${registry.server_address}`}
      onClose={onClose}
    >
      <div class="im-browse-grid">
        <div class="im-browse-repos">
          <h3 class="im-small muted">Repositories</h3>
          {error && <div class="notice error" role="alert">{error}</div>}
          {!error && !loading && repositories.length === 0 && (
            <p class="muted">This registry has no repositories yet.</p>
          )}
          <ul class="im-browse-list" aria-label="Repositories">
            {repositories.map((repository) => (
              <li key={repository}>
                <button
                  type="button"
                  class={`im-browse-item mono${repository === selected ? " active" : ""}`}
                  aria-pressed={repository === selected}
                  title={repository}
                  onClick={() => void open(repository)}
                >
                  {repository}
                </button>
              </li>
            ))}
          </ul>
          {loading && <p class="muted im-small">Reading the catalog…</p>}
          {next && !loading && (
            <button
              type="button"
              class="btn small"
              onClick={() => void loadPage(next)}
            >
              Load more
            </button>
          )}
        </div>
        <div class="im-browse-tags">
          <h3 class="im-small muted">{selected ? `Tags of ${selected}` : "Tags"}</h3>
          {!selected && <p class="muted">Pick a repository to see its tags.</p>}
          {tagError && <div class="notice error" role="alert">{tagError}</div>}
          {selected && !tags && !tagError && <p class="muted im-small">Reading the tags…</p>}
          {tags && tags.length === 0 && <p class="muted">No tags.</p>}
          {tags && tags.length > 0 && (
            <ul class="im-browse-list" aria-label={`Tags of ${selected}`}>
              {tags.map((tag) => {
                const reference = `${registry.server_address}/${selected}:${tag}`;
                return (
                  <li key={tag} class="im-browse-tag">
                    <span class="mono truncate" title={reference}>{tag}</span>
                    <button
                      type="button"
                      class="btn small"
                      aria-label={`Pull ${reference}`}
                      onClick={() => onPull(reference)}
                    >
                      Pull
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      </div>
    </TitledModal>
  );
}

/** Newest-looking first: versions numerically descending, then other tags by name. */
export function sortTags(tags: readonly string[]): string[] {
  const parts = (tag: string) => tag.match(/\d+/g)?.map(Number) ?? [];
  return [...tags].sort((a, b) => {
    const [pa, pb] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const diff = (pb[i] ?? -1) - (pa[i] ?? -1);
      if (diff !== 0) return diff;
    }
    return a.localeCompare(b);
  });
}
