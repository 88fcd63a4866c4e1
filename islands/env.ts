/**
 * The environment (Docker Engine) the page acts on, as the URL says: `/environments/{env}/...`
 * pages act on `{env}`, every other page on `local`. Engine-scoped API paths and page links are
 * rewritten here so every island and link keeps the environment.
 */

export const LOCAL_ENV = "local";

/** API paths that act on one Engine; under another env they move below /api/environments/{env}. */
const ENGINE_PREFIXES = [
  "/api/containers",
  "/api/docker",
  "/api/swarm",
  "/api/live",
  "/ws/containers",
];

/** The environment a page path belongs to: `/environments/{env}/…` → env, else local. */
export function envOfPath(pathname: string): string {
  const match = /^\/environments\/([^/?#]+)(?:[/?#]|$)/.exec(pathname);
  if (!match) return LOCAL_ENV;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return LOCAL_ENV;
  }
}

/** The environment of the page being rendered on the server (rendering is synchronous). */
let renderingEnv = LOCAL_ENV;

/** Runs a server render whose islands see `env` as the current environment. */
export function renderWithEnv<T>(env: string, render: () => T): T {
  const previous = renderingEnv;
  renderingEnv = env;
  try {
    return render();
  } finally {
    renderingEnv = previous;
  }
}

/** The page's environment ("local" by default). */
export function currentEnv(): string {
  return typeof location === "undefined" ? renderingEnv : envOfPath(location.pathname);
}

function isUnder(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charAt(prefix.length);
  return next === "" || next === "/" || next === "?" || next === "#";
}

/** `/api/containers/x` for env `e` → `/api/environments/e/containers/x` (same for the others). */
export function enginePathFor(env: string, path: string): string {
  if (env === LOCAL_ENV) return path;
  const prefix = ENGINE_PREFIXES.find((p) => isUnder(path, p));
  if (!prefix) return path;
  const [root] = prefix.slice(1).split("/"); // "api" or "ws"
  return `/${root}/environments/${encodeURIComponent(env)}${path.slice(root.length + 1)}`;
}

/** An engine-scoped API path for the page's environment. */
export function enginePath(path: string): string {
  return enginePathFor(currentEnv(), path);
}

/** Tab pages that exist per environment (the others are the panel's own: audit, users...). */
const ENV_PAGES = ["/containers", "/compose", "/images", "/volumes", "/networks", "/swarm"];

/** `/containers?x` for env `e` → `/environments/e/containers?x`; panel pages stay as they are. */
export function pagePathFor(env: string, path: string): string {
  const local = localPagePath(path);
  if (env === LOCAL_ENV || !ENV_PAGES.some((p) => isUnder(local, p))) return local;
  return `/environments/${encodeURIComponent(env)}${local}`;
}

/**
 * Where choosing `env` in the switcher goes from `pathname`: the same tab, else Containers
 * (also from Swarm when `env` is not a swarm manager: it has no Swarm tab).
 */
export function switchTarget(env: string, pathname: string, swarmManager = true): string {
  const local = localPagePath(pathname);
  const tab = ENV_PAGES.find((p) => isUnder(local, p));
  if (!tab || (tab === "/swarm" && !swarmManager)) return pagePathFor(env, "/containers");
  return pagePathFor(env, tab);
}

/** A page link for the page's environment. */
export function pagePath(path: string): string {
  return pagePathFor(currentEnv(), path);
}

/** The local form of a page path: `/environments/e/images?x` → `/images?x`. */
export function localPagePath(path: string): string {
  const match = /^\/environments\/[^/?#]+(\/.*)$/.exec(path);
  return match ? match[1] : path;
}
