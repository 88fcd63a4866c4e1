import type { Context } from "hono";

/**
 * A streamed NDJSON response (pull and deploy progress). `run` writes lines and resolves
 * when the stream should end; once the client has gone, writes are dropped, while `run`
 * itself carries on.
 */
export function ndjsonResponse(
  c: Context,
  run: (write: (value: unknown) => void) => Promise<unknown>,
): Response {
  const encoder = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (value: unknown) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(value) + "\n"));
        } catch {
          open = false;
        }
      };
      run(write).finally(() => {
        if (open) {
          open = false;
          controller.close();
        }
      });
    },
    cancel() {
      open = false;
    },
  });
  return c.body(body, 200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
}
