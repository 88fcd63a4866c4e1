/**
 * The push stream as state: one entry per layer (the Engine's "Preparing", "Waiting",
 * "Pushing" with byte counts, "Pushed", "Layer already exists"), then the panel's final
 * `{done}` line. Pure, so it can be tested without a browser.
 */
export interface PushLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  done?: boolean;
  reference?: string;
  digest?: string | null;
  error?: string;
}

export interface PushLayer {
  id: string;
  status: string;
  current: number;
  total: number;
  finished: boolean;
}

export interface PushState {
  reference: string;
  outcome: "pushing" | "done" | "failed";
  status: string;
  layers: PushLayer[];
  digest: string | null;
  error: string | null;
}

const FINISHED = /^(Pushed|Layer already exists|Mounted from)/;

export function initialPush(reference: string): PushState {
  return {
    reference,
    outcome: "pushing",
    status: "Starting the push…",
    layers: [],
    digest: null,
    error: null,
  };
}

export function applyPushLines(state: PushState, lines: readonly PushLine[]): PushState {
  const next = { ...state, layers: [...state.layers] };
  for (const line of lines) {
    if (line.done === true) {
      next.outcome = "done";
      next.digest = line.digest ?? null;
      next.status = "Pushed";
      next.layers = next.layers.map((layer) => ({ ...layer, finished: true }));
      continue;
    }
    if (line.done === false || line.error) {
      next.outcome = "failed";
      next.error = line.error ?? "The push failed";
      continue;
    }
    if (!line.status) continue;
    if (line.id && /^[0-9a-f]{12,64}$/.test(line.id)) {
      const index = next.layers.findIndex((layer) => layer.id === line.id);
      const before = index >= 0 ? next.layers[index] : undefined;
      const layer: PushLayer = {
        id: line.id,
        status: line.status,
        current: line.progressDetail?.current ?? before?.current ?? 0,
        total: line.progressDetail?.total ?? before?.total ?? 0,
        finished: FINISHED.test(line.status),
      };
      if (index >= 0) next.layers[index] = layer;
      else next.layers.push(layer);
    } else {
      next.status = line.id ? `${line.id}: ${line.status}` : line.status;
    }
  }
  return next;
}
