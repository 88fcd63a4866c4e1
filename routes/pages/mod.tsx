/** Server-rendered pages. Each reads straight from the Engine or the database; none mutates. */
import { type Context, Hono } from "hono";
import type { VNode } from "preact";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { Layout, type Tab } from "../_components/Layout.tsx";
import { loginPage, setupPage } from "./bare.tsx";
import { Island } from "../_components/Island.tsx";
import { EngineDown } from "../_components/EngineDown.tsx";
import { renderDocument } from "../_components/render.ts";
import { checkHealth } from "../api/health.ts";
import { containersPage } from "./containers.tsx";
import { imagesPage } from "./images.tsx";
import { composePage } from "./compose.tsx";
import { volumesPage } from "./volumes.tsx";
import { networksPage } from "./networks.tsx";
import { countUsers, listUsers } from "../../lib/auth/users.ts";
import { safeNextPath } from "../../lib/auth/next.ts";
import { listAudit } from "../../lib/sysctl/audit.ts";
import { VERBS } from "../../lib/sysctl/dispatch.ts";
import { renderWithEnv } from "../../islands/env.ts";

/**
 * `env`: the environment whose Engine `deps` holds (engine pages under /environments/{env}/
 * render with it); local when absent.
 */
export function pageRoutes(deps: AppDeps, env?: { id: string; name: string }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** Renders a tabbed page for the signed-in user; `body` gets whether the Engine answers. */
  async function page(
    c: Context<AppEnv>,
    title: string,
    active: Tab,
    body: (reachable: boolean) => Promise<VNode> | VNode,
  ) {
    // An environment the monitor found down is not asked again (and never delays the page).
    const down = env && deps.environments?.view(env.id)?.state.status === "down";
    const { docker } = down
      ? { docker: { reachable: false, version: null } }
      : await checkHealth(deps);
    const engine = { reachable: docker.reachable, version: docker.version };
    const session = c.get("session");
    const user = { username: session.username, role: session.role };
    const content = await body(engine.reachable);
    return c.html(
      renderWithEnv(env?.id ?? "local", () =>
        renderDocument(
          <Layout
            title={title}
            active={active}
            engine={engine}
            user={user}
            env={env}
            swarm={deps.environments?.view(env?.id ?? "local")?.state.swarm?.manager === true}
          >
            {content}
          </Layout>,
        )),
    );
  }

  app.get("/", (c) => c.redirect("/containers"));
  app.get(
    "/containers",
    (c) =>
      page(
        c,
        "Containers",
        "containers",
        (reachable) => containersPage(deps, reachable, c.get("session").role),
      ),
  );
  app.get(
    "/images",
    (c) =>
      page(
        c,
        "Images",
        "images",
        (reachable) => imagesPage(deps, reachable, c.get("session").role),
      ),
  );
  app.get(
    "/compose",
    (c) =>
      page(
        c,
        "Compose",
        "compose",
        (reachable) => composePage(deps, reachable, c.get("session").role),
      ),
  );
  app.get(
    "/volumes",
    (c) =>
      page(
        c,
        "Volumes",
        "volumes",
        (reachable) => volumesPage(deps, reachable, c.get("session").role),
      ),
  );
  app.get(
    "/networks",
    (c) =>
      page(
        c,
        "Networks",
        "networks",
        (reachable) => networksPage(deps, reachable, c.get("session").role),
      ),
  );
  app.get("/audit", (c) =>
    page(c, "Audit", "audit", () => (
      <section>
        <div class="section-head">
          <h1>Audit</h1>
          <span class="muted">
            Every sign-in and every change, newest first. Rows are hash-chained.
          </span>
        </div>
        <Island
          name="AuditLog"
          props={{
            initial: listAudit(deps.db, { limit: 50 }),
            actions: [...Object.keys(VERBS), "audit.prune"].sort(),
          }}
        />
      </section>
    )));
  app.get("/swarm", (c) =>
    page(c, "Swarm", "swarm", (reachable) => (
      <section>
        <div class="section-head">
          <h1>Swarm</h1>
        </div>
        {reachable
          ? <Island name="SwarmPanel" props={{ role: c.get("session").role }} />
          : <EngineDown endpoint={deps.docker.endpoint} />}
      </section>
    )));
  app.get(
    "/environments",
    (c) =>
      page(
        c,
        "Environments",
        "environments",
        () => (
          <Island
            name="EnvironmentsPanel"
            props={{ role: c.get("session").role, initial: deps.environments?.list() ?? null }}
          />
        ),
      ),
  );
  app.get("/users", (c) => {
    const session = c.get("session");
    const me = { id: session.userId, username: session.username, role: session.role };
    return page(c, "Users", "users", () => (
      <section>
        <div class="section-head">
          <h1>{me.role === "admin" ? "Users" : "Your account"}</h1>
        </div>
        <Island
          name="UsersPanel"
          props={{ me, users: me.role === "admin" ? listUsers(deps.db) : [] }}
        />
      </section>
    ));
  });

  app.get("/login", (c) => {
    if (c.get("session")) return c.redirect("/containers");
    if (countUsers(deps.db) === 0) return c.redirect("/setup");
    return c.html(loginPage({ next: safeNextPath(c.req.query("next")) }));
  });
  app.get("/setup", (c) => {
    if (countUsers(deps.db) > 0) return c.redirect("/login");
    return c.html(setupPage({}));
  });
  return app;
}
