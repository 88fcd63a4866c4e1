/**
 * Secrets and configs in a service's container, as the compose CLI applies them outside
 * swarm mode: a `file:` source is bind-mounted read-only at the target; an `environment:`
 * or `content:` source is written into the created container (PUT /containers/{id}/archive)
 * before it starts, mode 0444 unless the reference gives one. Contents travel only in the
 * unaudited docker.create attachment and never appear in a message.
 */
import type { DockerClient } from "../docker/client.ts";
import { HttpError } from "../errors.ts";
import { bindSource } from "./plan.ts";
import { tarOf } from "../tar/write.ts";
import type { ComposeProject, FileReference, ServiceSpec } from "./types.ts";

export interface InjectedFile {
  /** Absolute path in the container. */
  target: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

function referencesOf(project: ComposeProject, service: ServiceSpec) {
  const out: { reference: FileReference; spec: NonNullable<ComposeProject["secrets"]>[string] }[] =
    [];
  for (const kind of ["secrets", "configs"] as const) {
    for (const reference of service[kind] ?? []) {
      const spec = project[kind]?.[reference.source];
      if (spec) out.push({ reference, spec });
    }
  }
  return out;
}

/** The read-only bind Mounts of the service's `file:` secrets and configs. */
export function fileObjectMounts(
  project: ComposeProject,
  service: ServiceSpec,
  stackDir: string,
): Record<string, unknown>[] {
  return referencesOf(project, service)
    .filter(({ spec }) => spec.kind === "file")
    .map(({ reference, spec }) => ({
      Type: "bind",
      Source: bindSource((spec as { file: string }).file, stackDir),
      Target: reference.target,
      ReadOnly: true,
    }));
}

/** The files to write into the container: `environment:` and `content:` sources. */
export function fileObjectFiles(project: ComposeProject, service: ServiceSpec): InjectedFile[] {
  return referencesOf(project, service)
    .filter(({ spec }) => spec.kind === "content")
    .map(({ reference, spec }) => ({
      target: reference.target,
      content: (spec as { content: string }).content,
      mode: reference.mode ?? 0o444,
      uid: Number(reference.uid ?? 0),
      gid: Number(reference.gid ?? 0),
    }));
}

/** The `file:` sources of the services' secrets and configs, resolved against the stack folder. */
export function fileObjectSources(
  project: ComposeProject,
  stackDir: string,
): { service: ServiceSpec; source: string; name: string; path: string }[] {
  const out: { service: ServiceSpec; source: string; name: string; path: string }[] = [];
  for (const service of project.services) {
    for (const { reference, spec } of referencesOf(project, service)) {
      if (spec.kind !== "file") continue;
      out.push({
        service,
        name: reference.source,
        source: spec.file,
        path: bindSource(spec.file, stackDir),
      });
    }
  }
  return out;
}

/**
 * Writes the files into the created (not started) container. If that fails the container
 * is removed again, so it is never started without its secrets.
 */
export async function injectFiles(
  docker: DockerClient,
  id: string,
  name: string,
  files: InjectedFile[],
): Promise<void> {
  if (files.length === 0) return;
  const encoder = new TextEncoder();
  const archive = tarOf(files.map((file) => {
    const data = encoder.encode(file.content);
    return {
      entry: {
        path: file.target.replace(/^\/+/, ""),
        type: "file" as const,
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
        mtime: Math.floor(Date.now() / 1000),
      },
      data,
    };
  }));
  try {
    await docker.request("PUT", `/containers/${id}/archive`, {
      query: { path: "/" },
      body: archive,
      headers: { "Content-Type": "application/x-tar" },
    }).then((response) => response.body?.cancel());
  } catch (error) {
    const removed = await docker.json("DELETE", `/containers/${id}`, { query: { force: 1, v: 1 } })
      .then(() => true, () => false);
    // The Engine's words name a path at most, never the content.
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(
      502,
      `Writing the secrets and configs into container "${name}" failed: ${reason}; ${
        removed ? "the container was removed again" : "removing the container again failed too"
      }`,
    );
  }
}
