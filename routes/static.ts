/** Serves files under static/ (styles, icons, the islands bundle in static/build/). */
import { Hono } from "hono";

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
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(new URL(relative, STATIC_ROOT));
    } catch {
      return c.text("Not found", 404);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": type,
      "Cache-Control": "no-cache",
    });
  });
  return app;
}
