/**
 * "Pull image": a reference, a Pull button and the live progress of the pull as the server
 * streams it (NDJSON): one bar per layer and an overall bar, then the resolved digest or
 * the registry's error. Leaving the page does not stop a pull; the server finishes it, and
 * the tab opened again (or reloaded) picks up the latest pull still running.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { formatBytes, registryOf, shortId } from "./format.ts";
import {
  applyPullLines,
  initialPull,
  layerFinished,
  type LayerState,
  type PullState,
  pullTotals,
} from "./pull.ts";
import { PULL_IMAGE, type PullLine, type RegistryView } from "./types.ts";
import { readNdjson } from "../ndjson.ts";
import { api } from "../api.ts";
import { enginePath } from "../env.ts";

export interface PullBoxProps {
  registries: RegistryView[];
  /** Called once a pull succeeded, with the pulled image's id. */
  onPulled: (imageId: string | null, reference: string) => void;
}

export function PullBox({ registries, onPulled }: PullBoxProps) {
  const [reference, setReference] = useState("");
  const [fieldError, setFieldError] = useState("");
  const [pull, setPull] = useState<PullState | null>(null);
  const [busy, setBusy] = useState(false);
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);

  const registry = registryOf(reference);
  const saved = registry
    ? registries.find((r) => r.server_address.toLowerCase() === registry)
    : undefined;

  // A pull started earlier (before a reload, or in another tab) is shown again.
  useEffect(() => {
    api<{ pulls: { id: string; reference: string; actor: string }[] }>(
      "GET",
      "/api/containers/images/pulls",
    ).then(({ pulls }) => {
      const latest = pulls.at(-1);
      if (!latest || !mounted.current) return;
      setReference(latest.reference);
      void follow(
        latest.reference,
        () =>
          fetch(enginePath(`/api/containers/images/pulls/${encodeURIComponent(latest.id)}`), {
            headers: { Accept: "application/x-ndjson, application/json" },
            credentials: "same-origin",
          }),
        { resumed: true },
      );
    }, () => {/* the list says what is wrong with the panel */});
  }, []);

  // The registry browser's Pull.
  useEffect(() => {
    const onPull = (event: Event) => {
      const ref = (event as CustomEvent<{ reference: string }>).detail.reference;
      setReference(ref);
      setFieldError("");
      document.getElementById("im-pull-title")?.scrollIntoView({ block: "nearest" });
      pullNow(ref);
    };
    addEventListener(PULL_IMAGE, onPull);
    return () => removeEventListener(PULL_IMAGE, onPull);
  }, []);

  function start(event: Event) {
    event.preventDefault();
    const ref = reference.trim();
    if (!ref) {
      setFieldError("Enter an image reference, e.g. nginx:1.25");
      return;
    }
    setFieldError("");
    pullNow(ref);
  }

  function pullNow(ref: string) {
    void follow(ref, () =>
      fetch(enginePath("/api/containers/images/pull"), {
        method: "POST",
        headers: {
          Accept: "application/x-ndjson, application/json",
          "Content-Type": "application/json",
        },
        body: JSON.stringify({ reference: ref }),
        credentials: "same-origin",
      }));
  }

  /** Shows a pull's NDJSON stream: a new one (POST) or one already running (resumed). */
  async function follow(
    ref: string,
    request: () => Promise<Response>,
    { resumed = false } = {},
  ) {
    setBusy(true);
    let state = initialPull(ref);
    if (resumed) state = { ...state, status: "Still pulling (started earlier)…" };
    const show = (next: PullState) => {
      state = next;
      if (mounted.current) setPull(next);
    };
    show(state);
    try {
      const response = await request();
      if (!response.ok) {
        const data = await response.json().catch(() => undefined) as
          | { error?: string; field?: string }
          | undefined;
        const message = data?.error ?? `The pull could not start (${response.status})`;
        if (response.status === 401) {
          location.href = `/login?${new URLSearchParams({ next: location.pathname })}`;
          return;
        }
        if (resumed && response.status === 404) {
          // It finished in between: the list shows the image (or the error is in the audit).
          if (mounted.current) setPull(null);
          return;
        }
        // A reference that is not one is the field's error; a pull that failed (no such
        // tag, a registry that refused) belongs in the progress box.
        if (data?.field === "reference" && response.status === 400) {
          setFieldError(message);
          setPull(null);
          return;
        }
        show({ ...state, outcome: "failed", error: message });
        return;
      }
      if (!response.body) throw new Error("The server sent no progress");
      await readNdjson<PullLine>(
        response.body,
        (lines) => show(applyPullLines(state, lines)),
        (text) => ({ status: text }),
      );
      if (state.outcome === "pulling") {
        show({
          ...state,
          outcome: "failed",
          error: state.error ??
            "The connection closed before the pull finished. The server may still complete it: refresh the list in a moment.",
        });
      }
      if (state.outcome === "done") onPulled(state.imageId, state.resolved ?? ref);
    } catch (error) {
      show({
        ...state,
        outcome: "failed",
        error: `Lost the connection to the panel: ${(error as Error).message}. ` +
          "The server may still complete the pull.",
      });
    } finally {
      if (mounted.current) setBusy(false);
    }
  }

  return (
    <section class="card im-pull" aria-labelledby="im-pull-title">
      <h2 id="im-pull-title">Pull image</h2>
      <form class="im-pull-form" onSubmit={start} noValidate>
        <div class="im-pull-field">
          <label for="im-pull-ref" class="sr-only">Image reference</label>
          <input
            id="im-pull-ref"
            name="reference"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="e.g. nginx:1.25, ghcr.io/org/app:latest, localhost:5000/team/app"
            value={reference}
            aria-invalid={fieldError ? "true" : undefined}
            aria-describedby="im-pull-hint"
            onInput={(e) => {
              setReference((e.target as HTMLInputElement).value);
              if (fieldError) setFieldError("");
            }}
          />
          <button type="submit" class="btn primary" disabled={busy}>
            {busy ? "Pulling…" : "Pull"}
          </button>
        </div>
        <p id="im-pull-hint" class={fieldError ? "im-field-error" : "im-hint muted"}>
          {fieldError ||
            (registry
              ? saved
                ? `Signs in to ${registry} as ${saved.username} (saved credentials).`
                : registry === "docker.io"
                ? "From Docker Hub, anonymously (rate limits apply). Add Docker Hub credentials below for private images."
                : `No saved credentials for ${registry}: only public images will pull. Add it under Private registries if it needs a login.`
              : "A name with an optional registry, tag or digest. Without a tag, :latest is pulled.")}
        </p>
      </form>
      {pull && (
        <PullProgress
          pull={pull}
          busy={busy}
          onDismiss={() => setPull(null)}
        />
      )}
    </section>
  );
}

function PullProgress(
  { pull, busy, onDismiss }: { pull: PullState; busy: boolean; onDismiss: () => void },
) {
  const totals = pullTotals(pull);
  const outcomeClass = pull.outcome === "done"
    ? "is-done"
    : pull.outcome === "failed"
    ? "is-failed"
    : "is-pulling";
  return (
    <div
      class={`progress-box im-progress ${outcomeClass}`}
      data-outcome={pull.outcome}
      aria-live="polite"
      aria-busy={pull.outcome === "pulling" ? "true" : "false"}
    >
      <div class="progress-head">
        <span class="mono progress-subject truncate" title={pull.reference}>
          {pull.resolved ?? pull.reference}
        </span>
        <span class="progress-status im-progress-status truncate" title={pull.status}>
          {pull.outcome === "pulling" ? pull.status : pull.outcome === "done" ? "Pulled" : "Failed"}
        </span>
        {!busy && (
          <button type="button" class="btn small ghost-dark" onClick={onDismiss}>
            Dismiss
          </button>
        )}
      </div>
      {(pull.outcome !== "failed" || pull.layers.length > 0) && (
        <div class="im-overall">
          <progress
            class="im-bar im-bar-overall"
            aria-label="Overall progress"
            max={1}
            value={totals.fraction ?? undefined}
          />
          <span class="im-overall-text muted">
            {totals.layers > 0
              ? `${totals.finished}/${totals.layers} ${
                totals.layers === 1 ? "layer" : "layers"
              } complete`
              : pull.outcome === "pulling"
              ? "Waiting for the registry…"
              : ""}
            {totals.size > 0 &&
              ` · ${formatBytes(totals.downloaded)} of ${formatBytes(totals.size)}`}
          </span>
        </div>
      )}
      {pull.layers.length > 0 && (
        <ul class="im-layers" aria-label="Layers">
          {pull.layers.map((layer) => <LayerRow key={layer.id} layer={layer} />)}
        </ul>
      )}
      {pull.outcome === "done" && (
        <div class="notice ok im-pull-result" role="status">
          <strong>{pulledHeadline(pull)}</strong>
          {pull.digest && (
            <div class="im-kv">
              <span class="muted">Digest</span>
              <span class="mono im-digest" title={pull.digest}>{pull.digest}</span>
            </div>
          )}
          {pull.imageId && (
            <div class="im-kv">
              <span class="muted">Image</span>
              <span class="mono" title={pull.imageId}>{shortId(pull.imageId)}</span>
            </div>
          )}
        </div>
      )}
      {pull.outcome === "failed" && pull.error && (
        <div class="notice error im-pull-result" role="alert">
          <strong>The pull failed.</strong> <span class="im-error-text">{pull.error}</span>
        </div>
      )}
    </div>
  );
}

function LayerRow({ layer }: { layer: LayerState }) {
  const finished = layerFinished(layer);
  let value: number | undefined;
  let max = 1;
  if (finished) value = 1;
  else if (layer.phase === "extracting" && layer.extractTotal > 0) {
    value = layer.extracted;
    max = layer.extractTotal;
  } else if (layer.size > 0) {
    value = layer.downloaded;
    max = layer.size;
  } else if (layer.phase === "waiting") value = 0;
  const bytes = layer.phase === "extracting" && layer.extractTotal > 0
    ? `${formatBytes(layer.extracted)} / ${formatBytes(layer.extractTotal)}`
    : layer.size > 0
    ? finished || layer.phase === "verifying" || layer.phase === "downloaded"
      ? formatBytes(layer.size)
      : `${formatBytes(layer.downloaded)} / ${formatBytes(layer.size)}`
    : "";
  return (
    <li class={`im-layer phase-${layer.phase}`} data-layer={layer.id}>
      <span class="mono im-layer-id" title={layer.id}>{layer.id.slice(0, 12)}</span>
      <span class="im-layer-status truncate" title={layer.status}>{layer.status}</span>
      <progress
        class="im-bar"
        max={max}
        value={value}
        aria-label={`Layer ${layer.id.slice(0, 12)}: ${layer.status}`}
      />
      <span class="im-layer-bytes mono muted">{bytes}</span>
    </li>
  );
}

/** "Downloaded newer image" / "Image is up to date": the Engine's last status, shortened. */
function pulledHeadline(pull: PullState): string {
  const status = pull.messages.findLast((m) => m.startsWith("Status:"));
  const text = status?.replace(/^Status: /, "").replace(/ for \S+$/, "");
  return text ? `${text}.` : "Pulled.";
}
