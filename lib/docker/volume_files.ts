/**
 * A volume's files, read through the Engine's archive API: on a container that mounts the
 * volume (any state: the Engine mounts a stopped container's volumes for a copy), or else
 * on a short-lived helper container created (never started, no network) from a local image
 * the caller picks, with the volume mounted read-only, and removed afterwards whatever
 * happened. Uploads go the same way with a read-write mount.
 */
import type { DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import { HttpError, ValidationError } from "../errors.ts";
import { containerRef, imageRef, volumeName } from "./validate.ts";
import { listContainersWithMounts, usersOf } from "./volumes.ts";
import { readTar, type TarEntryType } from "../tar/read.ts";
import { singleFileTar } from "../tar/write.ts";

/** Marks the panel's helper containers, so a leftover after a crash can be recognised. */
export const HELPER_LABEL = "io.container-manager.helper";
const HELPER_ROOT = "/volume";
/** A listing stops after this many entries of the directory itself, or this much archive. */
export const MAX_LIST_ENTRIES = 2000;
export const MAX_LIST_BYTES = 256 * 1024 * 1024;

export interface VolumeAccess {
  /** The container whose filesystem is read, and where the volume is mounted in it. */
  containerId: string;
  root: string;
  /** What the answer says was used: a container's name or the helper's image. */
  via: { container: string } | { helper_image: string };
}

export interface FileEntry {
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  mtime: number;
  link_target?: string;
}

export interface Listing {
  path: string;
  kind: "dir" | "file";
  entries: FileEntry[];
  truncated: boolean;
  via: VolumeAccess["via"];
}

/**
 * Runs `use` with access to the volume: a container that mounts it (read-write when
 * `write`), or a helper from `image`, removed when `use` settles.
 */
export async function withVolumeAccess<T>(
  docker: DockerClient,
  volume: string,
  options: { image?: string; write?: boolean },
  use: (access: VolumeAccess) => Promise<T>,
): Promise<T> {
  const name = volumeName(volume);
  await docker.json("GET", `/volumes/${name}`); // 404 for a volume that does not exist
  const users = usersOf(name, await listContainersWithMounts(docker))
    .filter((user) => !options.write || !user.read_only);
  if (users.length && options.image === undefined) {
    const user = users[0];
    return await use({
      containerId: user.id,
      root: user.destination,
      via: { container: user.name },
    });
  }
  if (options.image === undefined) {
    throw new ValidationError(
      `No container mounts volume ${name}${
        options.write ? " read-write" : ""
      }: pick a local image for a short-lived helper container`,
      "image",
    );
  }
  const image = imageRef(options.image);
  let created: { Id: string };
  try {
    created = await docker.json<{ Id: string }>("POST", "/containers/create", {
      query: { name: `cm-volume-helper-${crypto.randomUUID().slice(0, 8)}` },
      json: {
        Image: image,
        // Never started: the command only has to satisfy create for an image without one.
        Cmd: ["/cm-volume-helper-is-never-started"],
        Labels: { [HELPER_LABEL]: "volume-files" },
        NetworkDisabled: true,
        HostConfig: {
          NetworkMode: "none",
          Mounts: [{
            Type: "volume",
            Source: name,
            Target: HELPER_ROOT,
            ReadOnly: !options.write,
          }],
        },
      },
    });
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) {
      throw new ValidationError(
        `Image ${image} is not on this host; pick a local image for the helper`,
        "image",
      );
    }
    throw error;
  }
  try {
    return await use({ containerId: created.Id, root: HELPER_ROOT, via: { helper_image: image } });
  } finally {
    await docker.json("DELETE", `/containers/${containerRef(created.Id)}`, {
      query: { force: 1, v: 0 },
    }).catch(() => {});
  }
}

function join(root: string, path: string): string {
  return path === "/" ? root : `${root.replace(/\/$/, "")}${path}`;
}

/** `GET /containers/{id}/archive?path=`: the tar of a file or directory. */
export async function readArchive(
  docker: DockerClient,
  access: VolumeAccess,
  path: string,
): Promise<ReadableStream<Uint8Array>> {
  try {
    const response = await docker.request(
      "GET",
      `/containers/${containerRef(access.containerId)}/archive`,
      { query: { path: join(access.root, path) }, stream: true },
    );
    return response.body!;
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) {
      throw new HttpError(404, `No such file or directory in the volume: ${path}`, "path");
    }
    throw error;
  }
}

/** What is at `path`: a directory (its entries) or a file (itself), with a listing cap. */
export async function listPath(
  docker: DockerClient,
  access: VolumeAccess,
  path: string,
): Promise<Listing> {
  const stream = await readArchive(docker, access, path);
  const entries: FileEntry[] = [];
  let base: string | undefined;
  let kind: "dir" | "file" = "dir";
  let truncated = false;
  let scanned = 0;
  await readTar(stream, (header) => {
    const parts = header.path.replace(/\/$/, "").split("/");
    if (base === undefined) {
      base = parts[0];
      if (header.type !== "dir") {
        kind = "file";
        entries.push(entryOf(parts.at(-1)!, header));
        return "stop";
      }
      return;
    }
    scanned += 512 + header.size;
    if (parts.length === 2) {
      entries.push(entryOf(parts[1], header));
      if (entries.length >= MAX_LIST_ENTRIES) {
        truncated = true;
        return "stop";
      }
    }
    if (scanned > MAX_LIST_BYTES) {
      truncated = true;
      return "stop";
    }
  });
  entries.sort((a, b) =>
    (a.type === "dir" ? 0 : 1) - (b.type === "dir" ? 0 : 1) || (a.name < b.name ? -1 : 1)
  );
  return { path, kind, entries, truncated, via: access.via };
}

function entryOf(
  name: string,
  header: { type: TarEntryType; size: number; mode: number; mtime: number; linkTarget: string },
): FileEntry {
  return {
    name,
    type: header.type,
    size: header.type === "file" ? header.size : 0,
    mode: header.mode,
    mtime: header.mtime,
    ...(header.type === "symlink" || header.type === "hardlink"
      ? { link_target: header.linkTarget }
      : {}),
  };
}

/** A directory's stat from the Engine (HEAD …/archive), or null when the path is not there. */
export async function statPath(
  docker: DockerClient,
  access: VolumeAccess,
  path: string,
): Promise<{ name: string; size: number; dir: boolean } | null> {
  try {
    const response = await docker.request(
      "HEAD",
      `/containers/${containerRef(access.containerId)}/archive`,
      { query: { path: join(access.root, path) } },
    );
    await response.body?.cancel();
    const header = response.headers.get("x-docker-container-path-stat");
    const stat = header
      ? JSON.parse(atob(header)) as { name: string; size: number; mode: number }
      : null;
    if (!stat) return null;
    // Go's os.ModeDir is the top bit of a uint32.
    return { name: stat.name, size: stat.size, dir: stat.mode >= 2 ** 31 };
  } catch (error) {
    if (error instanceof DockerError && error.daemonStatus === 404) return null;
    throw error;
  }
}

/**
 * The download of `path`: a directory (or the whole volume) as the Engine's tar, a file
 * as its own bytes (taken out of the archive).
 */
export async function download(
  docker: DockerClient,
  access: VolumeAccess,
  volume: string,
  path: string,
  send: (
    meta: { filename: string; type: string; size?: number },
    body: ReadableStream<Uint8Array>,
  ) => Promise<void>,
): Promise<{ bytes: number; kind: "tar" | "file" }> {
  const stat = await statPath(docker, access, path);
  if (!stat) throw new HttpError(404, `No such file or directory in the volume: ${path}`, "path");
  let bytes = 0;
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const archive = await readArchive(docker, access, path);
  if (stat.dir) {
    const filename = `${path === "/" ? volume : stat.name}.tar`;
    await send({ filename, type: "application/x-tar" }, archive.pipeThrough(count));
    return { bytes, kind: "tar" };
  }
  let sent = false;
  await readTar(archive, async (header, data) => {
    if (header.type !== "file") return;
    sent = true;
    await send(
      { filename: stat.name, type: "application/octet-stream", size: header.size },
      data().pipeThrough(count),
    );
    return "stop";
  });
  if (!sent) throw new HttpError(409, `${path} is not a regular file`, "path");
  return { bytes, kind: "file" };
}

/** Writes one file into a directory of the volume (refusing to replace one unless asked). */
export async function upload(
  docker: DockerClient,
  access: VolumeAccess,
  directory: string,
  filename: string,
  data: Uint8Array,
  overwrite: boolean,
): Promise<{ path: string; bytes: number; replaced: boolean }> {
  const dir = await statPath(docker, access, directory);
  if (!dir || !dir.dir) {
    throw new HttpError(404, `No such directory in the volume: ${directory}`, "path");
  }
  const target = `${directory === "/" ? "" : directory}/${filename}`;
  const existing = await statPath(docker, access, target);
  if (existing?.dir) throw new HttpError(409, `${target} is a directory`, "filename");
  if (existing && !overwrite) {
    throw new HttpError(409, `${target} already exists; confirm replacing it`, "filename");
  }
  await docker.json("PUT", `/containers/${containerRef(access.containerId)}/archive`, {
    query: { path: join(access.root, directory), noOverwriteDirNonDir: "true" },
    body: singleFileTar(filename, data),
    headers: { "Content-Type": "application/x-tar" },
  });
  return { path: target, bytes: data.length, replaced: existing !== null };
}
