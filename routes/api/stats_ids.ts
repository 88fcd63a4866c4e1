/**
 * `GET /api/containers/stats/stream?ids=…`: the Containers table asks for the stats of the
 * rows it renders only, so a page scrolled over 1000 containers holds a few dozen Engine
 * streams, not 1000. Without `ids` the stream carries every running container.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import type { StatsHub, StatsSample } from "../../lib/docker/stats.ts";
import { ValidationError } from "../../lib/errors.ts";

/** More than a screenful of compact rows with their margin; the table asks for fewer. */
export const MAX_STATS_IDS = 256;
const FULL_ID_RE = /^[a-f0-9]{64}$/;

/** The `ids` query value as distinct full container ids; null when absent (every container). */
export function parseStatsIds(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const ids = value === "" ? [] : value.split(",");
  if (ids.length > MAX_STATS_IDS) {
    throw new ValidationError(`At most ${MAX_STATS_IDS} container ids per stats stream`, "ids");
  }
  for (const id of ids) {
    if (!FULL_ID_RE.test(id)) {
      throw new ValidationError("Each id must be a full 64-character container id", "ids");
    }
  }
  return [...new Set(ids)];
}

/**
 * Subscribes `listener` to those of `ids` that run now (an id of a stopped or unknown container
 * opens nothing: the table asks again when a row starts). `fail` ends the stream when the
 * Engine cannot list them, so the browser reconnects. Returns the release.
 */
export function subscribeRunningIds(
  docker: DockerClient,
  stats: Pick<StatsHub, "subscribe">,
  ids: readonly string[],
  listener: (sample: StatsSample) => void,
  fail: () => void,
): () => void {
  let releases: (() => void)[] = [];
  let released = false;
  if (ids.length > 0) {
    listContainers(docker, { all: false, filters: { id: [...ids] } }).then(
      (running) => {
        if (released) return;
        const wanted = new Set(ids);
        releases = running.filter((c) => wanted.has(c.Id)).map((c) =>
          stats.subscribe(c.Id, listener)
        );
      },
      () => {
        if (!released) fail();
      },
    );
  }
  return () => {
    released = true;
    for (const release of releases) release();
    releases = [];
  };
}
