/**
 * Browser entry: finds every [data-island] element, loads that island's chunk and
 * hydrates it over the server-rendered HTML with the JSON props from data-props.
 */
import { h, hydrate } from "preact";
import type { ComponentType } from "preact";
import type { IslandName } from "./mod.ts";

// deno-lint-ignore no-explicit-any
type Loader = () => Promise<ComponentType<any>>;

const LOADERS: Record<IslandName, Loader> = {
  EngineStatus: () => import("./EngineStatus.tsx").then((m) => m.EngineStatus),
  LoginForm: () => import("./LoginForm.tsx").then((m) => m.LoginForm),
  SetupForm: () => import("./SetupForm.tsx").then((m) => m.SetupForm),
  UserMenu: () => import("./UserMenu.tsx").then((m) => m.UserMenu),
  UsersPanel: () => import("./UsersPanel.tsx").then((m) => m.UsersPanel),
  AuditLog: () => import("./AuditLog.tsx").then((m) => m.AuditLog),
  ImagesPanel: () => import("./ImagesPanel.tsx").then((m) => m.ImagesPanel),
  ContainersTable: () => import("./ContainersTable.tsx").then((m) => m.ContainersTable),
  RunContainerDialog: () => import("./RunContainerDialog.tsx").then((m) => m.RunContainerDialog),
  ComposePanel: () => import("./ComposePanel.tsx").then((m) => m.ComposePanel),
  VolumesPanel: () => import("./VolumesPanel.tsx").then((m) => m.VolumesPanel),
  NetworksPanel: () => import("./NetworksPanel.tsx").then((m) => m.NetworksPanel),
  EnvironmentSwitcher: () => import("./EnvironmentSwitcher.tsx").then((m) => m.EnvironmentSwitcher),
  EnvironmentsPanel: () => import("./EnvironmentsPanel.tsx").then((m) => m.EnvironmentsPanel),
  SwarmPanel: () => import("./SwarmPanel.tsx").then((m) => m.SwarmPanel),
};

/** Set once the page is being left: imports cut off by the navigation are not errors. */
let leaving = false;
addEventListener("pagehide", () => leaving = true);
addEventListener("beforeunload", () => leaving = true);

/** Waits before each further try of a chunk whose fetch failed. */
const RETRY_DELAYS_MS = [500, 1_000, 2_000];

/**
 * Loads an island's chunk, and again after a growing pause while the fetch fails (a panel
 * under load or restarting, a connection reset, the network changing under the browser); an
 * import cut off because the page is being left is dropped.
 */
async function loadIsland(load: Loader): Promise<ComponentType | undefined> {
  for (let attempt = 0;; attempt++) {
    try {
      return await load();
    } catch (error) {
      if (leaving) return undefined;
      if (attempt >= RETRY_DELAYS_MS.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      if (leaving) return undefined;
    }
  }
}

async function hydrateAll() {
  const elements = document.querySelectorAll<HTMLElement>("[data-island]");
  await Promise.all([...elements].map(async (element) => {
    const name = element.dataset.island as IslandName;
    const load = LOADERS[name];
    if (!load) {
      console.error(`Unknown island "${name}"`);
      return;
    }
    const props = JSON.parse(element.dataset.props ?? "{}");
    const Component = await loadIsland(load);
    if (!Component) return;
    hydrate(h(Component, props), element);
    element.dataset.hydrated = "true";
  }));
}

hydrateAll();

// "/" focuses the tab's filter (as in GitHub or Gmail), unless the user is typing or a
// dialog is open.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target as HTMLElement | null;
  if (target?.closest("input, textarea, select, [contenteditable], dialog")) return;
  if (document.querySelector("dialog[open]")) return;
  const filter = document.querySelector<HTMLInputElement>('.page input[placeholder^="Filter"]');
  if (!filter) return;
  event.preventDefault();
  filter.focus();
  filter.select();
});
