/**
 * GET /api/health: public, answers even when dockerd is down. Anonymous callers learn only
 * up or down; the Engine's version is for signed-in users (it tells an attacker which
 * vulnerabilities to try).
 */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";

export interface Health {
  ok: boolean;
  docker: { reachable: boolean; version: string | null; apiVersion: string | null };
  db: "ok" | "error";
}

export async function checkHealth(deps: Pick<AppDeps, "db" | "docker">): Promise<Health> {
  let db: Health["db"] = "ok";
  try {
    deps.db.prepare("SELECT 1").get();
  } catch {
    db = "error";
  }
  const docker: Health["docker"] = {
    reachable: false,
    version: null,
    apiVersion: null,
  };
  try {
    const info = await deps.docker.version();
    docker.reachable = true;
    docker.version = info.Version;
    docker.apiVersion = await deps.docker.apiVersion();
  } catch {
    // Unreachable: reported as reachable: false. Details stay off this public route.
  }
  return { ok: db === "ok", docker, db };
}

export function healthRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const health = await checkHealth(deps);
    const status = health.ok ? 200 : 503;
    const headers = { "Cache-Control": "no-store" };
    if (!c.get("session")) {
      return c.json(
        { ok: health.ok, docker: { reachable: health.docker.reachable } },
        status,
        headers,
      );
    }
    return c.json(health, status, headers);
  });
  return app;
}
