/** Server-rendered pages. Each reads straight from the Engine; none of them mutates. */
import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";
import { Layout } from "../_components/Layout.tsx";
import { renderDocument } from "../_components/render.ts";
import { checkHealth } from "../api/health.ts";
import { containersPage } from "./containers.tsx";
import { imagesPage } from "./images.tsx";
import { ComposePage } from "./compose.tsx";
import { AuditPage } from "./audit.tsx";

export function pageRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const engine = async () => {
    const { docker } = await checkHealth(deps);
    return { reachable: docker.reachable, version: docker.version };
  };

  app.get("/", (c) => c.redirect("/containers"));
  app.get("/containers", async (c) => {
    const status = await engine();
    const body = await containersPage(deps, status.reachable);
    return c.html(
      renderDocument(
        <Layout title="Containers" active="containers" engine={status}>{body}</Layout>,
      ),
    );
  });
  app.get("/images", async (c) => {
    const status = await engine();
    const body = await imagesPage(deps, status.reachable);
    return c.html(
      renderDocument(<Layout title="Images" active="images" engine={status}>{body}</Layout>),
    );
  });
  app.get(
    "/compose",
    async (c) =>
      c.html(renderDocument(
        <Layout title="Compose" active="compose" engine={await engine()}>
          <ComposePage />
        </Layout>,
      )),
  );
  app.get(
    "/audit",
    async (c) =>
      c.html(renderDocument(
        <Layout title="Audit" active="audit" engine={await engine()}>
          <AuditPage />
        </Layout>,
      )),
  );
  return app;
}
