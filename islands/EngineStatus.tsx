/**
 * The Docker Engine indicator in the header. It re-checks /api/health every 15 s (and on
 * click), so the page says when dockerd goes away, and reloads itself when it comes back.
 */
import { useEffect, useState } from "preact/hooks";

export interface EngineStatusProps {
  reachable: boolean;
  version: string | null;
}

const RECHECK_MS = 15_000;

export function EngineStatus(props: EngineStatusProps) {
  const [state, setState] = useState({ reachable: props.reachable, version: props.version });
  const [checking, setChecking] = useState(false);
  const [checks, setChecks] = useState(0);

  async function check() {
    setChecking(true);
    try {
      const response = await fetch("/api/health", { headers: { Accept: "application/json" } });
      const health = await response.json();
      // The page was rendered without the Engine's data: render it again now that it answers.
      if (health.docker.reachable && !props.reachable) location.reload();
      setState({ reachable: health.docker.reachable, version: health.docker.version });
    } catch {
      setState({ reachable: false, version: null });
    } finally {
      setChecking(false);
      setChecks((n) => n + 1);
    }
  }

  useEffect(() => {
    const timer = setInterval(check, RECHECK_MS);
    return () => clearInterval(timer);
  }, []);

  // A distribution's build suffix ("20.10.24+dfsg1") only crowds the header; the tooltip
  // keeps the full version.
  const shortVersion = state.version?.split("+")[0];
  const label = state.reachable ? `Engine ${shortVersion}` : "Engine unreachable";
  return (
    <button
      type="button"
      class={`engine-status ${state.reachable ? "is-up" : "is-down"}`}
      title={`Docker Engine ${state.reachable ? state.version : "unreachable"}: click to check now`}
      data-checks={checks}
      onClick={check}
      disabled={checking}
    >
      <span class="dot" aria-hidden="true" />
      {checking ? "Checking…" : label}
    </button>
  );
}
