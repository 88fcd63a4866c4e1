/**
 * The environment switcher in the header: the current environment's name and state, and a
 * menu of every environment with its state (GET /api/environments, re-read every few seconds).
 * Choosing one opens the same tab under that environment; the environment lives in the URL.
 * A page rendered while its environment was down reloads itself when it comes back.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.ts";
import { LOCAL_ENV, switchTarget } from "./env.ts";
import { summaryText } from "./environments/format.ts";
import type { EnvironmentState, EnvironmentView } from "./environments/types.ts";

export interface EnvironmentSwitcherProps {
  /** The page's environment id. */
  env: string;
  /** Its name as the server knew it (the id until the list answers). */
  name: string;
  /** Whether the page was rendered with the environment's Engine answering. */
  reachable: boolean;
}

const RECHECK_MS = 5_000;
/** A page reloads itself for a recovered environment at most this often (no reload loops). */
const RELOAD_GAP_MS = 30_000;

/** Whether this tab may reload for `env` now; remembers that it does. */
function mayReload(env: string): boolean {
  const key = `cm-env-reloaded:${env}`;
  try {
    const last = Number(sessionStorage.getItem(key) ?? 0);
    if (Date.now() - last < RELOAD_GAP_MS) return false;
    sessionStorage.setItem(key, String(Date.now()));
  } catch {
    // no storage: reload anyway
  }
  return true;
}

function dotClass(state: EnvironmentState | undefined): string {
  return `env-dot is-${state?.status ?? "unknown"}`;
}

export function EnvironmentSwitcher({ env, name, reachable }: EnvironmentSwitcherProps) {
  const [environments, setEnvironments] = useState<EnvironmentView[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  async function load() {
    try {
      const answer = await api<{ environments: EnvironmentView[] }>("GET", "/api/environments");
      setEnvironments(answer.environments);
      setFailed(false);
      const mine = answer.environments.find((e) => e.id === env);
      // The page was rendered without its Engine's data: render it again now that it answers.
      if (env !== LOCAL_ENV && !reachable && mine?.state.status === "up" && mayReload(env)) {
        location.reload();
      }
    } catch {
      setFailed(true);
    }
  }

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, RECHECK_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    if (!open) return;
    void load();
    menu.current?.querySelector<HTMLElement>('[aria-checked="true"], a')?.focus();
    const onPointer = (event: Event) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onPointer);
    return () => document.removeEventListener("mousedown", onPointer);
  }, [open]);

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(false);
      root.current?.querySelector<HTMLElement>(".env-switch")?.focus();
      return;
    }
    if (!open || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    const items = [...(menu.current?.querySelectorAll<HTMLElement>("a") ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = event.key === "ArrowDown" ? at + 1 : at - 1;
    items[(next + items.length) % items.length]?.focus();
  }

  const current = environments?.find((e) => e.id === env);
  const state: EnvironmentState | undefined = current?.state ??
    (environments ? undefined : { status: reachable ? "up" : "down" });
  const label = current?.name ?? name;
  const title = `Environment ${label}: ${state ? summaryText(state) : "unknown"}`;

  return (
    <div class="env-switcher" ref={root} onKeyDown={onKeyDown} data-env={env}>
      <button
        type="button"
        class={`env-switch${state?.status === "down" ? " is-down" : ""}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="env-menu"
        title={title}
        onClick={() => setOpen(!open)}
      >
        <span class={dotClass(state)} aria-hidden="true" />
        <span class="env-switch-name">{label}</span>
        {state?.status === "down" && <span class="env-switch-down">down</span>}
        <svg class="env-caret" viewBox="0 0 10 6" width="10" height="6" aria-hidden="true">
          <path d="M1 1l4 4 4-4" stroke="currentColor" stroke-width="1.5" fill="none" />
        </svg>
      </button>
      {open && (
        <div class="env-menu" id="env-menu" role="menu" aria-label="Environments" ref={menu}>
          {environments === null && !failed && <p class="env-menu-note">Loading…</p>}
          {failed && environments === null && (
            <p class="env-menu-note" role="alert">The list of environments did not load.</p>
          )}
          {environments?.map((e) => (
            <a
              key={e.id}
              role="menuitemradio"
              aria-checked={e.id === env}
              class={`env-item${e.id === env ? " is-current" : ""}`}
              href={switchTarget(e.id, location.pathname, e.state.swarm?.manager === true)}
              data-env-id={e.id}
            >
              <span class={dotClass(e.state)} aria-hidden="true" />
              <span class="env-item-text">
                <span class="env-item-name" title={e.name}>{e.name}</span>
                <span class="env-item-state">{summaryText(e.state)}</span>
              </span>
            </a>
          ))}
          <a role="menuitem" class="env-item env-manage" href="/environments">
            Manage environments
          </a>
        </div>
      )}
    </div>
  );
}
