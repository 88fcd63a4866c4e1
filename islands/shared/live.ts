/**
 * useLive: follows /api/live/events (the Engine's image, volume, network and container
 * events, and new audit rows) and calls `onChange` for the events `wanted` accepts, at most
 * once per `settleMs` so a burst (a compose down, a prune) costs one reload. After a dropped
 * stream it calls `onChange` too: events may have been missed meanwhile.
 */
import { useEffect, useRef } from "preact/hooks";
import { openStream } from "../containers/sse.ts";

export type LiveEvent =
  | {
    kind: "object";
    type: "image" | "volume" | "network";
    action: string;
    id: string;
    name: string;
  }
  | { kind: "container"; id: string; action: string }
  | { kind: "audit"; seq: number };

export function useLive(
  wanted: (event: LiveEvent) => boolean,
  onChange: (events: LiveEvent[]) => void,
  settleMs = 150,
) {
  const latest = useRef({ wanted, onChange });
  latest.current = { wanted, onChange };
  useEffect(() => {
    let pending: LiveEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const queue = (event: LiveEvent | null) => {
      if (event && !latest.current.wanted(event)) return;
      if (event) pending.push(event);
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        const events = pending;
        pending = [];
        latest.current.onChange(events);
      }, settleMs);
    };
    const close = openStream("/api/live/events", {
      object: (data) => queue({ kind: "object", ...data }),
      container: (data) => queue({ kind: "container", ...data }),
      audit: (data) => queue({ kind: "audit", ...data }),
    }, { onOpen: (first) => !first && queue(null) });
    return () => {
      clearTimeout(timer);
      close();
    };
  }, []);
}
