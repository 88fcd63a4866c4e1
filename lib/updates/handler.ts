/**
 * docker.updates.check: runs an update check (lib/updates/check.ts) and keeps its results.
 * A read of registries, but one that costs outbound requests with stored credentials, so it
 * is an audited admin verb; the schedule dispatches it as "system" with `scheduled`, which
 * lets it reuse registry answers younger than the check interval.
 *
 * After a check, updates it found that the previous one had not are sent to the webhooks
 * (`notify`); after a scheduled one, containers with the auto policy are updated
 * (lib/updates/auto.ts) before the check answers, so the next check never overlaps them.
 */
import type { Db } from "../db/db.ts";
import type { DockerClient } from "../docker/client.ts";
import { containerRef } from "../docker/validate.ts";
import { ValidationError } from "../errors.ts";
import { credentialsFor, type PanelAddress } from "../registries.ts";
import { createRegistryClient } from "../registry/client.ts";
import { enginePlatform, type Platform } from "../registry/platform.ts";
import type { Handlers } from "../sysctl/dispatch.ts";
import { createUpdateChecker } from "./check.ts";
import { type AutoUpdate, createAutoUpdater } from "./auto.ts";
import type { ProjectLocks } from "../compose/lock.ts";
import type { Dispatcher } from "../sysctl/dispatch.ts";
import { newUpdates, type UpdateEvent } from "../webhooks/payload.ts";
import { saveUpdateResults, type UpdateResult, updateResultsById } from "./store.ts";

export const DEFAULT_UPDATE_CHECK_INTERVAL_MS = 6 * 3_600_000;
const MAX_CONTAINERS = 1000;

export interface UpdateCheckAnswer {
  checked: number;
  up_to_date: number;
  update_available: number;
  unknown: number;
  error: number;
  results: UpdateResult[];
  /** What the auto policy did (scheduled checks only). */
  auto_updates?: AutoUpdate[];
}

export function updateHandlers(deps: {
  db: Db;
  docker: DockerClient;
  secretKey: CryptoKey;
  /** The panel's --listen address: never contacted as a registry. */
  listen: PanelAddress;
  /** The check interval: how long scheduled checks reuse a registry's answer. */
  cacheMs: number;
  fetch?: typeof fetch;
  /** For the auto policy's updates (dispatched as the scheduler). */
  dispatcher?: () => Dispatcher;
  locks?: ProjectLocks;
  /** Webhook notifications (lib/webhooks/deliver.ts); must not block. */
  notify?: (event: UpdateEvent) => void;
}): Handlers {
  const registry = createRegistryClient({
    credentials: async (address) => {
      const saved = await credentialsFor(deps.db, deps.secretKey, address);
      return saved && { username: saved.username, password: saved.password };
    },
    panel: deps.listen,
    fetch: deps.fetch,
  });
  let platform: Promise<Platform> | undefined;
  const enginePlatformOnce = () => {
    platform ??= (async () => {
      const version = await deps.docker.version();
      const info = version.Arch?.startsWith("arm")
        ? await deps.docker.json<{ Architecture?: string }>("GET", "/info")
        : undefined;
      return enginePlatform(version, info);
    })();
    platform.catch(() => platform = undefined);
    return platform;
  };
  const checker = createUpdateChecker({
    docker: deps.docker,
    registry,
    platform: enginePlatformOnce,
    cacheMs: deps.cacheMs > 0 ? deps.cacheMs : DEFAULT_UPDATE_CHECK_INTERVAL_MS,
  });

  const auto = deps.dispatcher &&
    createAutoUpdater({ dispatcher: deps.dispatcher, locks: deps.locks, notify: deps.notify });

  return {
    "docker.updates.check": async ({ params }) => {
      const containers = containerList(params.containers);
      const previous = updateResultsById(deps.db);
      const results = await checker.check({
        containers,
        fresh: params.scheduled !== true,
        previous,
      });
      saveUpdateResults(
        deps.db,
        results,
        containers ? undefined : new Set(results.map((result) => result.id)),
      );
      const count = (state: UpdateResult["state"]) =>
        results.filter((result) => result.state === state).length;
      const answer: UpdateCheckAnswer = {
        checked: results.length,
        up_to_date: count("up_to_date"),
        update_available: count("update_available"),
        unknown: count("unknown"),
        error: count("error"),
        results,
      };
      const found = newUpdates(results, previous);
      if (found.length) deps.notify?.({ event: "updates.found", updates: found });
      if (params.scheduled === true && auto) answer.auto_updates = await auto.run(results);
      return answer;
    },
  };
}

function containerList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw new ValidationError("containers must be a list of container ids", "containers");
  }
  if (value.length > MAX_CONTAINERS) {
    throw new ValidationError(`containers may list at most ${MAX_CONTAINERS}`, "containers");
  }
  return value.map((id) => containerRef(id));
}
