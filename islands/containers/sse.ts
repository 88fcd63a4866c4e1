/**
 * One EventSource with named JSON events. The browser retries a dropped stream by itself;
 * when it gives up (an HTTP error such as 401 or 502), this reconnects with backoff.
 */

import { enginePath } from "../env.ts";

// deno-lint-ignore no-explicit-any
export type Listeners = Record<string, (data: any) => void>;

export interface StreamOptions {
  /** Called on every (re)connect; `first` is false after a drop, when events may be missed. */
  onOpen?: (first: boolean) => void;
  /** Called when the stream drops; `closed` is true when the browser will not retry. */
  onDown?: (closed: boolean) => void;
}

/** Opens the stream and returns the function that closes it for good. */
export function openStream(url: string, listeners: Listeners, options: StreamOptions = {}) {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let opens = 0;
  let backoff = 1000;

  const connect = () => {
    source = new EventSource(enginePath(url));
    source.addEventListener("open", () => {
      backoff = 1000;
      options.onOpen?.(opens++ === 0);
    });
    source.addEventListener("error", () => {
      if (stopped) return;
      const closed = source?.readyState === EventSource.CLOSED;
      options.onDown?.(closed);
      if (closed) {
        source?.close();
        timer = setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    });
    for (const [event, listener] of Object.entries(listeners)) {
      source.addEventListener(event, (message) => {
        let data: unknown;
        try {
          data = JSON.parse((message as MessageEvent<string>).data);
        } catch {
          return;
        }
        listener(data);
      });
    }
  };

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
