/**
 * The last update check per container, for the Containers and Images tabs: read once when
 * the tab opens and again after a check this tab ran.
 */
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { api, apiWithProgress } from "../api.ts";
import type { CheckAnswer, UpdateApplied, UpdateResult } from "./types.ts";
import { appliedText, hasUpdate, progressText } from "./text.ts";

export interface Updates {
  byId: Map<string, UpdateResult>;
  /** Results by the image their container runs. */
  byImage: Map<string, UpdateResult[]>;
  /** The "has updates" filter. */
  onlyUpdates: boolean;
  setOnlyUpdates: (on: boolean) => void;
  /** How many containers have an update (a newer digest or version). */
  count: number;
  checking: boolean;
  /** What the last check run from this tab said, or its error. */
  status: string;
  failed: boolean;
  check: (containers?: string[]) => Promise<void>;
  /** Reads the stored results again (containers removed since drop out). */
  reload: () => Promise<void>;
  /** The container an update is running for (one at a time from a tab). */
  updating: string | undefined;
  /** Updates a container to its tag's newest image, or to `tag`; progress goes to status. */
  apply: (container: { id: string; name: string }, tag?: string) => Promise<void>;
}

export function useUpdates(): Updates {
  const [results, setResults] = useState<UpdateResult[]>([]);
  const [onlyUpdates, setOnlyUpdates] = useState(false);
  const [checking, setChecking] = useState(false);
  const [status, setStatus] = useState("");
  const [failed, setFailed] = useState(false);
  const [updating, setUpdating] = useState<string | undefined>();

  const load = useCallback(async () => {
    try {
      const answer = await api<{ updates: UpdateResult[] }>("GET", "/api/containers/updates");
      setResults(answer.updates);
    } catch {
      // The badges are extra: the tables work without them.
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  const check = useCallback(async (containers?: string[]) => {
    setChecking(true);
    setFailed(false);
    setStatus(containers?.length === 1 ? "Checking the registry…" : "Checking registries…");
    try {
      const answer = await api<CheckAnswer>(
        "POST",
        "/api/containers/updates/check",
        containers ? { containers } : {},
      );
      const parts = [`${answer.update_available} with updates`];
      if (answer.error) parts.push(`${answer.error} failed`);
      setStatus(
        `Checked ${answer.checked} ${answer.checked === 1 ? "container" : "containers"}: ` +
          parts.join(", "),
      );
      if (containers) {
        setResults((list) => {
          const fresh = new Map(answer.results.map((r) => [r.id, r]));
          return [...list.filter((r) => !fresh.has(r.id)), ...answer.results];
        });
      } else {
        setResults(answer.results);
      }
    } catch (error) {
      setFailed(true);
      setStatus(`Update check failed: ${(error as Error).message}`);
    } finally {
      setChecking(false);
    }
  }, []);

  const apply = useCallback(async (container: { id: string; name: string }, tag?: string) => {
    setUpdating(container.id);
    setFailed(false);
    setStatus(`Updating ${container.name}…`);
    try {
      const answer = await apiWithProgress<UpdateApplied>(
        "POST",
        `/api/containers/${encodeURIComponent(container.id)}/update`,
        tag ? { tag } : {},
        (event) => {
          const text = progressText(event);
          if (text) setStatus(`Updating ${container.name}: ${text}`);
        },
      );
      setFailed(answer.outcome === "rolled_back");
      setStatus(appliedText(answer));
    } catch (error) {
      setFailed(true);
      setStatus(`Updating ${container.name} failed: ${(error as Error).message}`);
    } finally {
      setUpdating(undefined);
      await load();
    }
  }, [load]);

  return useMemo(() => {
    const byId = new Map(results.map((r) => [r.id, r]));
    const byImage = new Map<string, UpdateResult[]>();
    for (const result of results) {
      byImage.set(result.image_id, [...byImage.get(result.image_id) ?? [], result]);
    }
    return {
      byId,
      byImage,
      onlyUpdates,
      setOnlyUpdates,
      count: results.filter(hasUpdate).length,
      checking,
      status,
      failed,
      check,
      reload: load,
      updating,
      apply,
    };
  }, [results, onlyUpdates, checking, status, failed, check, load, updating, apply]);
}
