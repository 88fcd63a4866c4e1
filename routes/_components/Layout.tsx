import type { ComponentChildren } from "preact";
import { Island } from "./Island.tsx";

export type Tab =
  | "containers"
  | "compose"
  | "images"
  | "volumes"
  | "networks"
  | "audit"
  | "users";

const TABS: { id: Tab; label: string; href: string }[] = [
  { id: "containers", label: "Containers", href: "/containers" },
  { id: "compose", label: "Compose", href: "/compose" },
  { id: "images", label: "Images", href: "/images" },
  { id: "volumes", label: "Volumes", href: "/volumes" },
  { id: "networks", label: "Networks", href: "/networks" },
  { id: "audit", label: "Audit", href: "/audit" },
];

export interface LayoutProps {
  title: string;
  active: Tab;
  engine: { reachable: boolean; version: string | null };
  user: { username: string; role: "admin" | "viewer" };
  /** The environment the page shows (local when absent). */
  env?: { id: string; name: string };
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
      <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
      <script src="/static/theme.js" />
      <script type="module" src="/static/build/client.js" />
    </head>
  );
}

function Brand() {
  return (
    <a class="brand" href="/containers" aria-label="Container Manager">
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

export function Layout({ title, active, engine, user, env, children }: LayoutProps) {
  return (
    <html lang="en">
      <Head title={title} />
      <body data-env={env?.id ?? "local"}>
        <header class="topbar">
          <Brand />
          <div class="topbar-actions">
            <Island name="EngineStatus" props={engine} />
            {user.role === "admin" && <Island name="RunContainerDialog" props={{}} />}
          </div>
          <MenuToggle />
          <div class="topbar-menu" id="topbar-menu">
            <nav class="tabs" aria-label="Sections">
              {TABS.map((tab) => (
                <a
                  href={tab.href}
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
