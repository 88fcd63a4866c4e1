/**
 * The update check: for each container (stack services are containers too), the registry's
 * digest for the tag it was created from, compared with its image's RepoDigests.
 *
 * - up_to_date: the tag's digest is one of the image's RepoDigests, or the tag's manifest
 *   for the Engine's platform has the image's own config digest (its id), e.g. when only
 *   another platform of a multi-arch tag changed;
 * - update_available: neither; remote_digest is the tag's digest now;
 * - unknown: the image has no RepoDigest for that repository (built or imported here), or the
 *   container was created from an image id;
 * - error: the registry could not answer (unreachable, unauthorised, not found, rate limited).
 * A pinned reference (`name@sha256:…`) is never behind and costs no request. A container
 * labelled `io.quazzar.update=off` is not checked at all (no result, no request).
 *
 * Registry answers are cached per reference for `cacheMs` (the check interval): a scheduled
 * check asks a registry about a reference at most once per interval, usually with one HEAD
 * request (a GET of the manifest follows only when the digests differ). A check asked for by
 * a user (`fresh`) asks again; checks running at the same time share their requests.
 */
import type { DockerClient } from "../docker/client.ts";
import { listContainers } from "../docker/containers.ts";
import { inspectImage } from "../docker/images.ts";
import { type ImageReference, parseReference } from "../docker/reference.ts";
import { DockerError } from "../docker/errors.ts";
import { HttpError } from "../errors.ts";
import { INDEX_MEDIA_TYPES, type RegistryClient } from "../registry/client.ts";
import { RegistryError } from "../registry/errors.ts";
import { type Platform, selectPlatform } from "../registry/platform.ts";
import type { ContainerSummary, ImageInspect } from "../docker/types.ts";
import { type NewerVersions, newerVersions, parseVersionTag } from "./versions.ts";
import type { UpdateResult } from "./store.ts";

export interface UpdateCheckerOptions {
  docker: DockerClient;
  registry: RegistryClient;
  /** The Engine's platform (lib/registry/platform.ts enginePlatform). */
  platform: () => Promise<Platform>;
  /** How long a registry answer is reused by scheduled checks. */
  cacheMs: number;
  /** Registry lookups running at once. */
  concurrency?: number;
  now?: () => number;
}

export interface CheckRequest {
  /** Container ids or names; all containers when absent. */
  containers?: readonly string[];
  /** Ask the registries again even when a cached answer is still valid. */
  fresh?: boolean;
  /** The previous results, so update_seen_at survives from check to check. */
  previous?: ReadonlyMap<string, UpdateResult>;
}

export interface UpdateChecker {
  check(request: CheckRequest): Promise<UpdateResult[]>;
}

/** One registry answer about a reference, with what further questions need asked lazily. */
interface RemoteAnswer {
  fetchedAt: number;
  pending: boolean;
  digest: Promise<{ digest: string; mediaType: string }>;
  /** The config digest of the tag's image for the Engine's platform. */
  configDigest?: Promise<string>;
  versions?: Promise<NewerVersions | undefined>;
}

const STACK_LABEL = "com.docker.compose.project";
/** The update policy label (README "Update policy"): auto | notify (the default) | off. */
export const POLICY_LABEL = "io.quazzar.update";
export type UpdatePolicy = "auto" | "notify" | "off";

/** A container's policy from its labels; anything but auto or off reads as notify. */
export function policyOf(labels: Record<string, string> | null | undefined): UpdatePolicy {
  const value = labels?.[POLICY_LABEL]?.trim().toLowerCase();
  return value === "auto" || value === "off" ? value : "notify";
}
const SERVICE_LABEL = "com.docker.compose.service";

export function createUpdateChecker(options: UpdateCheckerOptions): UpdateChecker {
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 4;
  const answers = new Map<string, RemoteAnswer>();

  /**
   * The answer for a reference: this run's, else a cached one young enough (any age below
   * cacheMs for a scheduled check; for a fresh one only while it is still being fetched),
   * else a new request.
   */
  function answerFor(canonical: string, run: Map<string, RemoteAnswer>, fresh: boolean) {
    const mine = run.get(canonical);
    if (mine) return mine;
    const cached = answers.get(canonical);
    const usable = cached &&
      (fresh ? cached.pending : now() - cached.fetchedAt < options.cacheMs);
    if (usable) {
      run.set(canonical, cached);
      return cached;
    }
    const answer: RemoteAnswer = {
      fetchedAt: now(),
      pending: true,
      digest: options.registry.headManifest(canonical),
    };
    answer.digest.then(
      () => answer.pending = false,
      () => {
        answer.pending = false;
        // A failed answer is not kept: the next check asks again (rate limits are the
        // client's to remember).
        if (answers.get(canonical) === answer) answers.delete(canonical);
      },
    );
    answers.set(canonical, answer);
    if (answers.size > 2000) answers.delete(answers.keys().next().value!);
    run.set(canonical, answer);
    return answer;
  }

  function configDigestOf(answer: RemoteAnswer, ref: ImageReference): Promise<string> {
    answer.configDigest ??= (async () => {
      const { digest } = await answer.digest;
      const byDigest = `${ref.repository}@${digest}`;
      const manifest = await options.registry.getManifest(byDigest);
      if (INDEX_MEDIA_TYPES.has(manifest.mediaType) || Array.isArray(manifest.body.manifests)) {
        const platform = await options.platform();
        const entry = selectPlatform(manifest.body.manifests ?? [], platform);
        if (!entry) {
          const name = [platform.os, platform.architecture, platform.variant].filter(Boolean)
            .join("/");
          throw new RegistryError(
            "not_found",
            `${ref.repository}:${ref.tag} has no image for this Engine's platform (${name})`,
          );
        }
        const platformManifest = await options.registry.getManifest(
          `${ref.repository}@${entry.digest}`,
        );
        return platformManifest.body.config?.digest ?? "";
      }
      return manifest.body.config?.digest ?? "";
    })();
    return answer.configDigest;
  }

  function versionsOf(answer: RemoteAnswer, ref: ImageReference) {
    answer.versions ??= ref.tag && parseVersionTag(ref.tag)
      ? options.registry.listTags(ref.canonical).then(
        (tags) => newerVersions(ref.tag!, tags),
        // The digest is what the check is about; versions are extra.
        () => undefined,
      )
      : Promise.resolve(undefined);
    return answer.versions;
  }

  async function checkOne(
    container: ContainerSummary,
    configImage: string,
    image: ImageInspect | undefined,
    run: Map<string, RemoteAnswer>,
    fresh: boolean,
    previous: UpdateResult | undefined,
  ): Promise<UpdateResult> {
    const base: UpdateResult = {
      id: container.Id,
      name: (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, ""),
      image: configImage,
      image_id: container.ImageID,
      local_digest: null,
      remote_digest: null,
      state: "unknown",
      checked_at: new Date(now()).toISOString(),
    };
    const stack = container.Labels?.[STACK_LABEL];
    const service = container.Labels?.[SERVICE_LABEL];
    if (stack) base.stack = stack;
    if (service) base.service = service;
    if (policyOf(container.Labels) === "auto") base.policy = "auto";

    let ref: ImageReference;
    try {
      if (/^(sha256:)?[0-9a-f]{12,64}$/.test(configImage)) throw new Error("an image id");
      ref = parseReference(configImage);
    } catch {
      return { ...base, error: "The container was created from an image id, not a reference" };
    }
    if (ref.digest) {
      return {
        ...base,
        state: "up_to_date",
        pinned: true,
        local_digest: ref.digest,
        remote_digest: ref.digest,
      };
    }
    const localDigests = (image?.RepoDigests ?? []).flatMap((entry) => {
      try {
        const parsed = parseReference(entry);
        return parsed.repository === ref.repository && parsed.digest ? [parsed.digest] : [];
      } catch {
        return [];
      }
    });
    if (localDigests.length === 0) {
      return {
        ...base,
        error: image
          ? `The image has no digest from ${ref.domain} (built or imported on this host)`
          : "The container's image is no longer on this host",
      };
    }
    const local = { ...base, local_digest: localDigests[0] };
    const answer = answerFor(ref.canonical, run, fresh);
    try {
      const { digest } = await answer.digest;
      const versions = await versionsOf(answer, ref);
      const withVersions = versions && Object.keys(versions).length > 0 ? { versions } : {};
      if (localDigests.includes(digest)) {
        return {
          ...local,
          ...withVersions,
          local_digest: digest,
          remote_digest: digest,
          state: "up_to_date",
        };
      }
      const configDigest = await configDigestOf(answer, ref);
      if (configDigest !== "" && configDigest === image?.Id) {
        return { ...local, ...withVersions, remote_digest: digest, state: "up_to_date" };
      }
      const seen = previous?.state === "update_available" && previous.remote_digest === digest &&
          previous.update_seen_at
        ? previous.update_seen_at
        : local.checked_at;
      return {
        ...local,
        ...withVersions,
        remote_digest: digest,
        state: "update_available",
        update_seen_at: seen,
      };
    } catch (error) {
      if (error instanceof RegistryError) {
        return { ...local, state: "error", error: error.message, error_kind: error.kind };
      }
      if (error instanceof HttpError) {
        return { ...local, state: "error", error: error.message, error_kind: "bad_response" };
      }
      throw error;
    }
  }

  return {
    async check(request) {
      const all = await listContainers(options.docker, { all: true });
      let selected = all;
      if (request.containers) {
        selected = request.containers.map((wanted) => {
          const found = all.find((c) =>
            c.Id === wanted || (wanted.length >= 12 && c.Id.startsWith(wanted)) ||
            c.Names.some((name) => name.replace(/^\//, "") === wanted)
          );
          if (!found) throw new HttpError(404, `No such container: ${wanted.slice(0, 80)}`);
          return found;
        });
        selected = [...new Map(selected.map((c) => [c.Id, c])).values()];
      }
      // Policy off: never checked, so no registry request and no result.
      selected = selected.filter((container) => policyOf(container.Labels) !== "off");
      const images = new Map<string, Promise<ImageInspect | undefined>>();
      const imageOf = (id: string) => {
        if (!images.has(id)) {
          images.set(
            id,
            inspectImage(options.docker, id).catch((error) => {
              if (error instanceof DockerError && error.daemonStatus === 404) return undefined;
              throw error;
            }),
          );
        }
        return images.get(id)!;
      };
      const fresh = request.fresh === true;
      const run = new Map<string, RemoteAnswer>();
      const results: UpdateResult[] = new Array(selected.length);
      let next = 0;
      const worker = async () => {
        while (next < selected.length) {
          const index = next++;
          const container = selected[index];
          const configImage = await configImageOf(options.docker, container);
          results[index] = await checkOne(
            container,
            configImage,
            await imageOf(container.ImageID),
            run,
            fresh,
            request.previous?.get(container.Id),
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, selected.length) }, worker));
      return results;
    },
  };
}

/**
 * The reference a container was created from. The list shows the image id instead when the
 * tag has moved to another image since, so the inspect's Config.Image is asked then.
 */
async function configImageOf(docker: DockerClient, container: ContainerSummary): Promise<string> {
  if (!/^sha256:[0-9a-f]{64}$/.test(container.Image)) return container.Image;
  try {
    const inspect = await docker.json<{ Config?: { Image?: string } }>(
      "GET",
      `/containers/${container.Id}/json`,
    );
    return inspect.Config?.Image ?? container.Image;
  } catch {
    return container.Image;
  }
}
