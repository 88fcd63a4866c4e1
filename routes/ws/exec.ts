/**
 * GET /ws/containers/{id}/exec[?cmd=/bin/bash]: a WebSocket terminal into a real PTY.
 * The origin check and the session check ran in the middleware; here a viewer is refused
 * (and audited) before the upgrade, and an admin's session is one docker.exec dispatch.
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { END_TEXT, endWithSession } from "../session_bound.ts";
import { touchSession } from "../../lib/auth/sessions.ts";
import { containerRef } from "../../lib/docker/validate.ts";
import { isShellPath } from "../../lib/docker/exec.ts";
import { DEFAULT_SHELL, panelCloseReasons } from "../../lib/sysctl/handlers/exec.ts";
import { HttpError, ValidationError } from "../../lib/errors.ts";

/** How long an upgraded socket may take to open before its registration is released. */
const OPEN_TIMEOUT_MS = 10_000;

export function execWsRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/:id/exec", async (c) => {
    const id = containerRef(c.req.param("id"));
    const cmd = c.req.query("cmd") ?? DEFAULT_SHELL;
    if (!isShellPath(cmd)) {
      throw new ValidationError(
        "cmd must be an absolute path to an executable, without arguments",
        "cmd",
      );
    }
    const actor = c.get("actor");
    const request = {
      verb: "docker.exec",
      target: id,
      params: { cmd },
      actor,
      requestId: c.get("requestId"),
    };
    if (actor.role !== "admin") {
      await deps.dispatcher.dispatch(request); // refused with 403, and audited
    }
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(400, "This endpoint speaks WebSocket only");
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
    socket.binaryType = "arraybuffer";
    const release = endWithSession(c, deps, (reason) => {
      if (socket.readyState > WebSocket.OPEN) return;
      // 1008 (policy): the session that opened this terminal has ended; 1001: going away.
      const text = reason === "session"
        ? "Your session ended: sign in again"
        : END_TEXT[reason][0].toUpperCase() + END_TEXT[reason].slice(1);
      panelCloseReasons.set(socket, text);
      socket.close(reason === "session" ? 1008 : 1001, text);
    });
    // A client that leaves during the handshake may leave a socket that never opens and
    // never closes: its registration is released after OPEN_TIMEOUT_MS all the same.
    let opened = false;
    const neverOpened = () => {
      if (opened) return;
      clearTimeout(openTimer);
      release();
      try {
        socket.close();
      } catch {
        // not open: nothing to close
      }
    };
    const openTimer = setTimeout(neverOpened, OPEN_TIMEOUT_MS);
    socket.addEventListener("close", neverOpened, { once: true });
    socket.addEventListener("error", neverOpened, { once: true });
    // Typing is activity: the session does not idle out under a terminal in use. Touched
    // at most every quarter of the idle timeout, never more often than every 30 s.
    const timeouts = {
      idleMs: deps.config.sessionIdleMs,
      absoluteMs: deps.config.sessionAbsoluteMs,
    };
    const touchEveryMs = Math.min(30_000, timeouts.idleMs / 4);
    let touchedAt = Date.now();
    socket.addEventListener("message", () => {
      const now = Date.now();
      if (now - touchedAt < touchEveryMs) return;
      touchedAt = now;
      try {
        touchSession(deps.db, c.get("session").tokenHash, timeouts, now);
      } catch (error) {
        deps.log(`Could not record terminal activity: ${(error as Error).message}`);
      }
    });
    socket.addEventListener("open", () => {
      opened = true;
      clearTimeout(openTimer);
      deps.dispatcher.dispatch({ ...request, attachment: socket })
        .catch(() => {}) // the handler closed the socket with the reason; the audit row has the rest
        .finally(release);
    }, { once: true });
    return response;
  });

  return app;
}
