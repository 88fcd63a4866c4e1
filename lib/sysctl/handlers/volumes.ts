/**
 * docker.volume.create / rm / prune / browse / download / upload. Every refusal is decided
 * before the Engine is asked to change anything: a name in use, a volume containers mount
 * (named by their names), a bad driver option.
 */
import type { DockerClient } from "../../docker/client.ts";
import { DockerError } from "../../docker/errors.ts";
import { HttpError, ValidationError } from "../../errors.ts";
import {
  driverName,
  labelFilters,
  newObjectName,
  onlyFields,
  stringMap,
  uploadFileName,
  volumeName,
  volumePath,
} from "../../docker/validate.ts";
import {
  createVolume,
  inspectVolume,
  listContainersWithMounts,
  pruneVolumes,
  removeVolume,
  usersOf,
  volumeExists,
  volumeView,
} from "../../docker/volumes.ts";
import { download, listPath, upload, withVolumeAccess } from "../../docker/volume_files.ts";
import type { Handlers } from "../dispatch.ts";

export const VOLUME_CREATE_FIELDS = ["name", "driver", "driver_options", "labels"] as const;

/** What the download route hands the handler: where the bytes go once they are known. */
export interface DownloadSink {
  send(
    meta: { filename: string; type: string; size?: number },
    body: ReadableStream<Uint8Array>,
  ): Promise<void>;
}

function optionalImage(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new ValidationError("image must be a string", "image");
  return value;
}

/** "web (running), db (exited)". */
function names(users: { name: string; state: string }[]): string {
  return users.map((user) => `${user.name} (${user.state})`).join(", ");
}

export function volumeHandlers(docker: DockerClient): Handlers {
  return {
    "docker.volume.create": async ({ params }) => {
      onlyFields(params, VOLUME_CREATE_FIELDS);
      if (params.name === undefined || params.name === "") {
        throw new ValidationError("name is required", "name");
      }
      const name = newObjectName(params.name, "volume");
      const driver = params.driver === undefined || params.driver === ""
        ? "local"
        : driverName(params.driver);
      const driverOptions = stringMap(params.driver_options, "driver_options");
      const labels = stringMap(params.labels, "labels");
      // The Engine answers a create with an existing name by returning that volume.
      if (await volumeExists(docker, name)) {
        throw new HttpError(409, `A volume named ${name} already exists`, "name");
      }
      try {
        const volume = await createVolume(docker, { name, driver, driverOptions, labels });
        return { volume: volumeView(volume, []) };
      } catch (error) {
        // The Engine reports a bad driver option or an unknown driver as its own failure.
        if (error instanceof DockerError && error.daemonStatus >= 500) {
          const field = /opt|option/i.test(error.message) ? "driver_options" : "driver";
          throw new ValidationError(`The Engine refused the volume: ${error.message}`, field);
        }
        throw error;
      }
    },

    "docker.volume.rm": async ({ target }) => {
      const name = volumeName(target);
      await inspectVolume(docker, name); // 404 names the volume
      const users = usersOf(name, await listContainersWithMounts(docker));
      if (users.length) {
        throw new HttpError(
          409,
          `Volume ${name} is in use by ${users.length === 1 ? "container" : "containers"} ${
            names(users)
          }; remove ${users.length === 1 ? "it" : "them"} first`,
        );
      }
      try {
        await removeVolume(docker, name);
      } catch (error) {
        // A container created between the check and the removal.
        if (error instanceof DockerError && error.daemonStatus === 409) {
          const now = usersOf(name, await listContainersWithMounts(docker));
          throw new HttpError(409, `Volume ${name} is in use by ${names(now) || error.message}`);
        }
        throw error;
      }
      return { removed: name };
    },

    "docker.volume.prune": async ({ params }) => {
      onlyFields(params, ["labels"]);
      return await pruneVolumes(docker, labelFilters(params.labels));
    },

    "docker.volume.browse": async ({ target, params }) => {
      const path = volumePath(params.path);
      return await withVolumeAccess(
        docker,
        target,
        { image: optionalImage(params.image) },
        (access) => listPath(docker, access, path),
      );
    },

    "docker.volume.download": async ({ target, params, attachment }) => {
      const path = volumePath(params.path);
      const sink = attachment as DownloadSink | undefined;
      if (!sink) throw new Error("docker.volume.download needs a sink to write to");
      return await withVolumeAccess(
        docker,
        target,
        { image: optionalImage(params.image) },
        async (access) => ({
          path,
          via: access.via,
          ...(await download(docker, access, target, path, sink.send)),
        }),
      );
    },

    "docker.volume.upload": async ({ target, params, attachment }) => {
      const path = volumePath(params.path);
      const filename = uploadFileName(params.filename);
      if (!(attachment instanceof Uint8Array)) {
        throw new ValidationError("Send the file's bytes as the request body");
      }
      return await withVolumeAccess(
        docker,
        target,
        { image: optionalImage(params.image), write: true },
        async (access) => ({
          via: access.via,
          ...(await upload(docker, access, path, filename, attachment, params.overwrite === true)),
        }),
      );
    },
  };
}
