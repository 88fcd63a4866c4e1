/**
 * Serves files under static/ (styles, icons, the islands bundle in static/build/): from the
 * disk, or from the copies embedded in the single-file build (scripts/bundle.ts).
 */
import { Hono } from "hono";

/**
 * An embedded file: its bytes in base64, gzip-compressed where that made them smaller (the
 * scripts and styles; images are stored as they are). Compressed, the single-file build is
 * 0.8 MB smaller, and the process that holds its source text a few MiB lighter.
 */
export type EmbeddedAsset = [encoding: "gzip" | "identity", base64: string];

/** Path under static/ → its embedded copy; set only by the single-file build's entry. */
let embedded: Map<string, EmbeddedAsset> | undefined;

export function setEmbeddedAssets(files: Record<string, EmbeddedAsset>): void {
  embedded = new Map(Object.entries(files));
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A file's bytes, gzip-compressed when it is stored so and the client takes that. */
async function readAsset(
  relative: string,
  acceptsGzip: boolean,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; gzip: boolean } | undefined> {
  if (embedded) {
    const asset = embedded.get(relative);
    if (!asset) return undefined;
    const bytes = decodeBase64(asset[1]);
    if (asset[0] === "identity") return { bytes, gzip: false };
    return acceptsGzip ? { bytes, gzip: true } : { bytes: await gunzip(bytes), gzip: false };
  }
  try {
    return { bytes: await Deno.readFile(new URL(relative, STATIC_ROOT)), gzip: false };
  } catch {
    return undefined;
  }
}

/** Whether an Accept-Encoding header takes gzip (named or "*", and not with q=0). */
function takesGzip(header: string): boolean {
  return header.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    return (name.trim() === "gzip" || name.trim() === "*") && (!q || Number(q.slice(2)) > 0);
  });
}

const STATIC_ROOT = new URL("../static/", import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

export function staticAssets(): Hono {
  const app = new Hono();
  app.get("/*", async (c) => {
    const relative = decodeURIComponent(c.req.path.replace(/^\/static\//, ""));
    if (
      !/^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/.test(relative) ||
      relative.split("/").some((part) => part.startsWith("."))
    ) {
      return c.text("Not found", 404);
    }
    const extension = relative.slice(relative.lastIndexOf("."));
    const type = CONTENT_TYPES[extension];
    if (!type) return c.text("Not found", 404);
    const acceptsGzip = takesGzip(c.req.header("Accept-Encoding") ?? "");
    const asset = await readAsset(relative, acceptsGzip);
    if (!asset) return c.text("Not found", 404);
    return c.body(asset.bytes, 200, {
      "Content-Type": type,
      "Cache-Control": "no-cache",
      ...(asset.gzip ? { "Content-Encoding": "gzip" } : {}),
      ...(embedded ? { Vary: "Accept-Encoding" } : {}),
    });
  });
  return app;
}
