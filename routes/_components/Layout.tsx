import type { ComponentChildren } from "preact";
import { Island } from "./Island.tsx";
import { LOCAL_ENV, pagePathFor } from "../../islands/env.ts";

export type Tab =
  | "containers"
  | "compose"
  | "images"
  | "volumes"
  | "networks"
  | "audit"
  | "users"
  | "environments"
  | "swarm";

const TABS: { id: Tab; label: string; href: string }[] = [
  { id: "containers", label: "Containers", href: "/containers" },
  { id: "compose", label: "Compose", href: "/compose" },
  { id: "images", label: "Images", href: "/images" },
  { id: "volumes", label: "Volumes", href: "/volumes" },
  { id: "networks", label: "Networks", href: "/networks" },
  { id: "audit", label: "Audit", href: "/audit" },
  { id: "environments", label: "Environments", href: "/environments" },
];

/** The Swarm tab, after Networks, only when the page's environment is a swarm manager. */
const SWARM_TAB = { id: "swarm" as const, label: "Swarm", href: "/swarm" };

function tabsFor(swarm: boolean) {
  if (!swarm) return TABS;
  const at = TABS.findIndex((tab) => tab.id === "networks") + 1;
  return [...TABS.slice(0, at), SWARM_TAB, ...TABS.slice(at)];
}

export interface LayoutProps {
  title: string;
  active: Tab;
  engine: { reachable: boolean; version: string | null };
  user: { username: string; role: "admin" | "viewer" };
  /** The environment the page shows (local when absent); tab links keep it. */
  env?: { id: string; name: string };
  /** Whether that environment's Engine is a swarm manager (shows the Swarm tab). */
  swarm?: boolean;
  children: ComponentChildren;
}

function Head({ title }: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Container Manager`}</title>
      <link rel="stylesheet" href="/static/styles.css" />
      <link rel="stylesheet" href="/static/containers.css" />
      <link rel="stylesheet" href="/static/images.css" />
      <link rel="stylesheet" href="/static/compose.css" />
      <link rel="stylesheet" href="/static/environments.css" />
      <link rel="stylesheet" href="/static/swarm.css" />
      <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
      <script src="/static/theme.js" />
      <script type="module" src="/static/build/client.js" />
    </head>
  );
}

function Brand({ href = "/containers" }: { href?: string }) {
  return (
    <a class="brand" href={href} aria-label="Container Manager">
      <img src="/static/icon.svg" alt="" width="22" height="22" />
      <span class="brand-name">Container Manager</span>
    </a>
  );
}

/**
 * Below 1000 px the tabs and the account fold into a menu. A checkbox and :has() open it,
 * so it works before (and without) the scripts.
 */
function MenuToggle() {
  return (
    <>
      <input
        type="checkbox"
        id="topbar-menu-toggle"
        class="menu-toggle-input"
        aria-label="Menu: sections and account"
        aria-controls="topbar-menu"
      />
      <label for="topbar-menu-toggle" class="menu-toggle" aria-hidden="true">
        <svg viewBox="0 0 20 20" width="20" height="20">
          <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" />
        </svg>
      </label>
    </>
  );
}

export function Layout(
  {
    title,
    active,
    engine,
    user,
    env = { id: LOCAL_ENV, name: LOCAL_ENV },
    swarm = false,
    children,
  }: LayoutProps,
) {
  return (
    <html lang="en">
      <Head title={title} />
      <body data-env={env.id}>
        <header class="topbar">
          <Brand href={pagePathFor(env.id, "/containers")} />
          <div class="topbar-actions">
            <Island
              name="EnvironmentSwitcher"
              props={{ env: env.id, name: env.name, reachable: engine.reachable }}
            />
            {/* The switcher shows another environment's state; this one is the panel's Engine. */}
            {env.id === LOCAL_ENV && <Island name="EngineStatus" props={engine} />}
            {user.role === "admin" && <Island name="RunContainerDialog" props={{}} />}
          </div>
          <MenuToggle />
          <div class="topbar-menu" id="topbar-menu">
            <nav class="tabs" aria-label="Sections">
              {tabsFor(swarm).map((tab) => (
                <a
                  href={pagePathFor(env.id, tab.href)}
                  class={tab.id === active ? "tab active" : "tab"}
                  aria-current={tab.id === active ? "page" : undefined}
                >
                  {tab.label}
                </a>
              ))}
            </nav>
            <div class="topbar-account">
              <Island name="UserMenu" props={user} />
            </div>
          </div>
        </header>
        <main class="page">{children}</main>
      </body>
    </html>
  );
}

/** Sign-in and setup: no tabs, a centred card. */
export function BareLayout({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <Head title={title} />
      <body class="bare">
        <header class="topbar">
          <Brand />
        </header>
        <main class="centered">{children}</main>
      </body>
    </html>
  );
}
