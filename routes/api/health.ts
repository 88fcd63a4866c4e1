/** GET /api/health: public, answers even when dockerd is down. */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";

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

export function healthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    const health = await checkHealth(deps);
    return c.json(health, health.ok ? 200 : 503, { "Cache-Control": "no-store" });
  });
  return app;
}
