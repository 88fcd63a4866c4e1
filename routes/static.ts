/**
 * Serves files under static/ (styles, icons, the islands bundle in static/build/): from the
 * disk, or from the copies embedded in the single-file build (scripts/bundle.ts).
 */
import { Hono } from "hono";

/** Path under static/ → base64 of its bytes; set only by the single-file build's entry. */
let embedded: Map<string, string> | undefined;

export function setEmbeddedAssets(files: Record<string, string>): void {
  embedded = new Map(Object.entries(files));
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function readAsset(relative: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (embedded) {
    const encoded = embedded.get(relative);
    return encoded === undefined ? undefined : decodeBase64(encoded);
  }
  try {
    return await Deno.readFile(new URL(relative, STATIC_ROOT));
  } catch {
    return undefined;
  }
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
    const bytes = await readAsset(relative);
    if (!bytes) return c.text("Not found", 404);
    return c.body(bytes, 200, {
      "Content-Type": type,
      "Cache-Control": "no-cache",
    });
  });
  return app;
}
