/**
 * The pull stream as state: one entry per layer (keyed by the Engine's layer id), the
 * general status lines, and the panel's final `{done}` line. Pure, so it can be tested
 * without a browser; the island feeds it the lines of each chunk it reads.
 */
import type { PullLine } from "./types.ts";

export type LayerPhase =
  | "waiting"
  | "downloading"
  | "verifying"
  | "downloaded"
  | "extracting"
  | "complete"
  | "exists";

export interface LayerState {
  id: string;
  /** The Engine's words, e.g. "Downloading", "Pull complete". */
  status: string;
  phase: LayerPhase;
  /** Bytes of the compressed layer downloaded so far and its size (0 when not known yet). */
  downloaded: number;
  size: number;
  /** Extraction progress as the Engine reports it. */
  extracted: number;
  extractTotal: number;
}

export interface PullState {
  reference: string;
  outcome: "pulling" | "done" | "failed";
  layers: LayerState[];
  /** The latest general status ("Pulling from team/app", "Digest: …", "Status: …"). */
  status: string;
  /** Non-layer status lines, in order (digest, the final status). */
  messages: string[];
  digest: string | null;
  imageId: string | null;
  /** The reference the server resolved (fully qualified). */
  resolved: string | null;
  error: string | null;
}

const PHASES: Record<string, LayerPhase> = {
  "Pulling fs layer": "waiting",
  "Waiting": "waiting",
  "Downloading": "downloading",
  "Verifying Checksum": "verifying",
  "Download complete": "downloaded",
  "Extracting": "extracting",
  "Pull complete": "complete",
  "Already exists": "exists",
};

const FINISHED = new Set<LayerPhase>(["complete", "exists"]);

export function initialPull(reference: string): PullState {
  return {
    reference,
    outcome: "pulling",
    layers: [],
    status: "Starting the pull…",
    messages: [],
    digest: null,
    imageId: null,
    resolved: null,
    error: null,
  };
}

function isLayerLine(line: PullLine): boolean {
  if (!line.id || !line.status) return false;
  if (line.status.startsWith("Pulling from")) return false;
  if (line.progressDetail?.total) return true;
  if (line.status in PHASES) return true;
  if (line.status.startsWith("Retrying")) return true;
  return /^[0-9a-f]{12,64}$/.test(line.id);
}

/** Applies a batch of lines; returns a new state (the old one is not changed). */
export function applyPullLines(state: PullState, lines: readonly PullLine[]): PullState {
  if (lines.length === 0) return state;
  const next: PullState = { ...state, layers: [...state.layers], messages: [...state.messages] };
  const index = new Map(next.layers.map((layer, i) => [layer.id, i]));
  for (const line of lines) {
    if (line.done === true) {
      next.outcome = "done";
      next.digest = line.digest ?? null;
      next.imageId = line.image_id ?? null;
      next.resolved = line.reference ?? null;
      next.error = null;
      next.layers = next.layers.map((layer) =>
        FINISHED.has(layer.phase) ? layer : { ...layer, phase: "complete", status: "Pull complete" }
      );
      continue;
    }
    if (line.done === false || line.error || line.errorDetail?.message) {
      next.error = line.error ?? line.errorDetail?.message ?? "The pull failed";
      if (line.done === false) next.outcome = "failed";
      continue;
    }
    if (isLayerLine(line)) {
      const id = line.id!;
      let i = index.get(id);
      if (i === undefined) {
        i = next.layers.length;
        index.set(id, i);
        next.layers.push({
          id,
          status: line.status!,
          phase: "waiting",
          downloaded: 0,
          size: 0,
          extracted: 0,
          extractTotal: 0,
        });
      }
      next.layers[i] = updateLayer(next.layers[i], line);
      continue;
    }
    if (line.status) {
      next.status = line.id && line.status.startsWith("Pulling from")
        ? `${line.status} (${line.id})`
        : line.status;
      if (/^(Digest|Status):/.test(line.status)) next.messages.push(line.status);
      if (!next.digest) {
        const digest = line.status.match(/^Digest: (\S+)/)?.[1];
        if (digest) next.digest = digest;
      }
    }
  }
  return next;
}

function updateLayer(layer: LayerState, line: PullLine): LayerState {
  const status = line.status!;
  const phase = PHASES[status] ?? (status.startsWith("Retrying") ? "waiting" : layer.phase);
  const current = line.progressDetail?.current ?? 0;
  const total = line.progressDetail?.total ?? 0;
  const next: LayerState = { ...layer, status, phase };
  switch (phase) {
    case "downloading":
      if (total > 0) next.size = Math.max(layer.size, total);
      next.downloaded = Math.max(layer.downloaded, current);
      break;
    case "verifying":
    case "downloaded":
      next.downloaded = next.size;
      break;
    case "extracting":
      next.downloaded = next.size;
      if (total > 0) next.extractTotal = total;
      next.extracted = Math.max(layer.extracted, current);
      if (next.size === 0 && total > 0) next.size = total;
      break;
    case "complete":
      next.downloaded = next.size;
      next.extracted = next.extractTotal;
      break;
  }
  return next;
}

export function layerFinished(layer: LayerState): boolean {
  return FINISHED.has(layer.phase);
}

export interface PullTotals {
  /** 0..1, or null while nothing tells how much is left (no layer has a size yet). */
  fraction: number | null;
  downloaded: number;
  size: number;
  finished: number;
  layers: number;
}

/**
 * The overall bar. Each layer with a known size counts twice its size: once downloaded,
 * once extracted, so the bar never goes back when a layer moves from one to the other.
 */
export function pullTotals(state: PullState): PullTotals {
  let downloaded = 0;
  let size = 0;
  let work = 0;
  let finished = 0;
  for (const layer of state.layers) {
    if (layerFinished(layer)) finished++;
    if (layer.size <= 0) continue;
    size += layer.size;
    downloaded += Math.min(layer.downloaded, layer.size);
    let done = Math.min(layer.downloaded, layer.size);
    if (layer.phase === "complete") done = 2 * layer.size;
    else if (layer.phase === "extracting" && layer.extractTotal > 0) {
      done += layer.size * Math.min(1, layer.extracted / layer.extractTotal);
    }
    work += done;
  }
  // Full only once the Engine says so: a layer extracted to 100% is not "Pull complete" yet.
  let fraction: number | null = size > 0 ? Math.min(work / (2 * size), 0.99) : null;
  if (state.outcome === "done") fraction = 1;
  else if (fraction === null && state.layers.length > 0 && finished === state.layers.length) {
    fraction = 1;
  }
  return { fraction, downloaded, size, finished, layers: state.layers.length };
}
