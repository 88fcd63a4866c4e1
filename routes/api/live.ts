/**
 * GET /api/live/events: what the Images, Volumes, Networks, Compose and Audit tabs follow,
 * so each updates from the Engine's events rather than polling. Reads only:
 * - `object` {type, action, id, name}: an image, volume or network event from the shared hub
 *   (volume mount/unmount, sent on every container start and stop, left out);
 * - `container` {id, action}: a container event (the Compose tab's stack states);
 * - `engine` {connected}: the Engine's events stream went away or came back;
 * - `audit` {seq}: the newest audit row number, whenever rows were written since.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { sseResponse } from "../sse.ts";
import type { Db } from "../../lib/db/db.ts";

/** How often the audit tail looks for new rows while someone follows it. */
const AUDIT_TAIL_MS = 500;

/**
 * One reader of the newest audit seq for every follower: rows are written by the dispatcher,
 * the app's refusals, housekeeping and the CLI, so the table is the one place to watch.
 */
function auditTail(db: Db) {
  const followers = new Set<(seq: number) => void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let last = 0;
  const newest = () => {
    const row = db.prepare("SELECT MAX(seq) AS seq FROM sysctl_audit").get() as
      | { seq: number | null }
      | undefined;
    return row?.seq ?? 0;
  };
  const check = () => {
    let seq: number;
    try {
      seq = newest();
    } catch {
      return; // closed at shutdown, or busy: the next tick tries again
    }
    if (seq === last) return;
    last = seq;
    for (const follower of [...followers]) follower(seq);
  };
  return {
    follow(follower: (seq: number) => void): () => void {
      if (followers.size === 0) {
        last = newest();
        timer = setInterval(check, AUDIT_TAIL_MS);
      }
      followers.add(follower);
      return () => {
        followers.delete(follower);
        if (followers.size === 0) clearInterval(timer);
      };
    },
  };
}

export function liveApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const tail = auditTail(deps.db);
  app.get("/events", (c) =>
    sseResponse(c, deps, (send) => {
      const releases = [
        deps.events.subscribeObjects((event) => {
          if (event.type === "volume" && (event.action === "mount" || event.action === "unmount")) {
            return;
          }
          void send("object", {
            type: event.type,
            action: event.action,
            id: event.id,
            name: event.name,
          });
        }),
        deps.events.subscribe((event) => {
          if (event.kind === "engine") void send("engine", { connected: event.connected });
          else if (!event.event.action.startsWith("exec_")) {
            void send("container", { id: event.event.id, action: event.event.action });
          }
        }),
        tail.follow((seq) => void send("audit", { seq })),
      ];
      return () => releases.forEach((release) => release());
    }));
  return app;
}
