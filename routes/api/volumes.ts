/**
 * /api/containers/volumes: the volume list (sizes only when asked: `system/df` is slow),
 * inspect, create, remove, prune, and a volume's files (browse, download, upload), each
 * mutation and every file access through the dispatcher.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import {
  inspectVolume,
  listContainersWithMounts,
  volumeSizes,
  volumeView,
  volumeViews,
} from "../../lib/docker/volumes.ts";
import { uploadFileName, volumeName, volumePath } from "../../lib/docker/validate.ts";
import { ValidationError } from "../../lib/errors.ts";
import type { DownloadSink } from "../../lib/sysctl/handlers/volumes.ts";
import { readJsonObject } from "./body.ts";
import { dispatchAs } from "./dispatch.ts";

/** `attachment; filename="…"` that no file name can break out of. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function flagQuery(value: string | undefined, field: string): boolean {
  if (value === undefined || value === "0") return false;
  if (value === "1") return true;
  throw new ValidationError(`${field} must be 0 or 1`, field);
}

export function volumeApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { docker, dispatcher } = deps;

  app.get("/", async (c) => {
    const withSizes = flagQuery(c.req.query("size"), "size");
    const [volumes, sizes] = await Promise.all([
      volumeViews(docker),
      withSizes ? volumeSizes(docker) : Promise.resolve(undefined),
    ]);
    return c.json({
      volumes,
      ...(sizes ? { sizes, measured_at: new Date().toISOString() } : {}),
    });
  });

  app.post("/", async (c) => {
    const body = await readJsonObject(c);
    const target = typeof body.name === "string" ? body.name.slice(0, 128) : "";
    return c.json(await dispatchAs(c, dispatcher, "docker.volume.create", target, body), 201);
  });

  app.post("/prune", async (c) => {
    const body = c.req.header("content-length") === "0" || !c.req.header("content-type")
      ? {}
      : await readJsonObject(c);
    return c.json(await dispatchAs(c, dispatcher, "docker.volume.prune", "unused", body));
  });

  app.get("/:name", async (c) => {
    const name = volumeName(c.req.param("name"));
    const [volume, containers] = await Promise.all([
      inspectVolume(docker, name),
      listContainersWithMounts(docker),
    ]);
    return c.json({ volume: { ...volumeView(volume, containers), status: volume.Status ?? null } });
  });

  app.delete("/:name", async (c) => {
    const name = volumeName(c.req.param("name"));
    return c.json(await dispatchAs(c, dispatcher, "docker.volume.rm", name));
  });

  app.get("/:name/files", async (c) => {
    const name = volumeName(c.req.param("name"));
    const params = { path: volumePath(c.req.query("path")), image: c.req.query("image") };
    return c.json(await dispatchAs(c, dispatcher, "docker.volume.browse", name, params));
  });

  /**
   * A file as itself, a directory or the whole volume as a tar. The handler (and the helper
   * container, if one is needed) lives until the last byte is sent or the client goes
   * away; its audit row records the bytes sent.
   */
  app.get("/:name/download", (c) => {
    const name = volumeName(c.req.param("name"));
    const params = { path: volumePath(c.req.query("path")), image: c.req.query("image") };
    return new Promise<Response>((resolve, reject) => {
      const sink: DownloadSink = {
        send(meta, body) {
          const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
          const headers = new Headers({
            "Content-Type": meta.type,
            "Content-Disposition": contentDisposition(meta.filename),
            "Cache-Control": "no-store",
          });
          if (meta.size !== undefined) headers.set("Content-Length", String(meta.size));
          resolve(new Response(readable, { headers }));
          return body.pipeTo(writable);
        },
      };
      dispatcher.dispatch({
        verb: "docker.volume.download",
        target: name,
        params,
        actor: c.get("actor"),
        requestId: c.get("requestId"),
        attachment: sink,
      }).catch(reject); // after the response began, the stream itself ends in error
    });
  });

  /** The body is the file's bytes (at most the panel's 1 MiB body cap). */
  app.post("/:name/upload", async (c) => {
    const name = volumeName(c.req.param("name"));
    const params = {
      path: volumePath(c.req.query("path")),
      filename: uploadFileName(c.req.query("filename")),
      overwrite: flagQuery(c.req.query("overwrite"), "overwrite"),
      image: c.req.query("image"),
    };
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    return c.json(
      await deps.dispatcher.dispatch({
        verb: "docker.volume.upload",
        target: name,
        params: { ...params, bytes: bytes.length },
        actor: c.get("actor"),
        requestId: c.get("requestId"),
        attachment: bytes,
      }),
    );
  });

  return app;
}
