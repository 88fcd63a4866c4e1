/**
 * Stats: CPU, memory, network and block I/O over the last 15 minutes (the stats hub's history
 * while someone watches, then live samples), and the process list (`/top`, every 5 s).
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api.ts";
import { formatBytes, formatPercent } from "./format.ts";
import { openStream } from "./sse.ts";
import type { StatsSample } from "./types.ts";

const WINDOW_MS = 15 * 60_000;
const TOP_MS = 5_000;

export interface StatsPanelProps {
  id: string;
  running: boolean;
}

interface Point {
  time: number;
  value: number;
}

/** Per-second rates from a cumulative counter (a restart resets it: no negative rates). */
function rates(samples: StatsSample[], pick: (s: StatsSample) => number): Point[] {
  const points: Point[] = [];
  for (let i = 1; i < samples.length; i++) {
    const seconds = (samples[i].time - samples[i - 1].time) / 1000;
    if (seconds <= 0) continue;
    const delta = pick(samples[i]) - pick(samples[i - 1]);
    points.push({ time: samples[i].time, value: delta < 0 ? 0 : delta / seconds });
  }
  return points;
}

export function StatsPanel({ id, running }: StatsPanelProps) {
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    if (!running) return;
    let pending: StatsSample[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      setSamples((list) => {
        const next = list.concat(batch);
        const since = (next.at(-1)?.time ?? 0) - WINDOW_MS;
        const first = next.findIndex((s) => s.time >= since);
        return first > 0 ? next.slice(first) : next;
      });
    };
    const close = openStream(`/api/docker/containers/${encodeURIComponent(id)}/stats/stream`, {
      history: (history: StatsSample[]) => {
        setSamples((list) => {
          const last = history.at(-1)?.time ?? 0;
          return history.concat(list.filter((s) => s.time > last));
        });
      },
      stats: (sample: StatsSample) => {
        pending.push(sample);
        timer ??= setTimeout(flush, 250);
      },
    }, { onOpen: () => setConnected(true), onDown: () => setConnected(false) });
    return () => {
      close();
      clearTimeout(timer);
    };
  }, [id, running]);

  const charts = useMemo(() => {
    const cpu = samples.map((s) => ({ time: s.time, value: s.cpu_percent }));
    const mem = samples.map((s) => ({ time: s.time, value: s.mem_bytes }));
    return {
      cpu,
      mem,
      rx: rates(samples, (s) => s.net_rx),
      tx: rates(samples, (s) => s.net_tx),
      read: rates(samples, (s) => s.blk_read),
      write: rates(samples, (s) => s.blk_write),
    };
  }, [samples]);
  const last = samples.at(-1);
  const perSecond = (bytes: number) => `${formatBytes(bytes)}/s`;

  return (
    <div class="ct-stats">
      {!running && samples.length === 0
        ? <p class="muted ct-stats-empty">Not running: no stats to show. Start it to see them.</p>
        : (
          <>
            <p class="muted ct-stats-note" role="status">
              {connected ? "Live" : "Connecting…"} · last 15 minutes (kept while someone watches)
              {samples.length > 0 && ` · ${samples.length} samples`}
            </p>
            <div class="ct-charts">
              <Chart
                title="CPU"
                current={last ? formatPercent(last.cpu_percent) : "–"}
                series={[{ points: charts.cpu, kind: "cpu" }]}
                format={formatPercent}
                floor={10}
              />
              <Chart
                title="Memory"
                current={last
                  ? `${formatBytes(last.mem_bytes)}${
                    last.mem_limit ? ` of ${formatBytes(last.mem_limit)}` : ""
                  }`
                  : "–"}
                series={[{ points: charts.mem, kind: "mem" }]}
                format={formatBytes}
                floor={1024 * 1024}
              />
              <Chart
                title="Network"
                current={charts.rx.length
                  ? `↓ ${perSecond(charts.rx.at(-1)!.value)} ↑ ${
                    perSecond(charts.tx.at(-1)!.value)
                  }`
                  : "–"}
                series={[
                  { points: charts.rx, kind: "rx", label: "received" },
                  { points: charts.tx, kind: "tx", label: "sent" },
                ]}
                format={perSecond}
                floor={1024}
              />
              <Chart
                title="Block I/O"
                current={charts.read.length
                  ? `read ${perSecond(charts.read.at(-1)!.value)}, write ${
                    perSecond(charts.write.at(-1)!.value)
                  }`
                  : "–"}
                series={[
                  { points: charts.read, kind: "rx", label: "read" },
                  { points: charts.write, kind: "tx", label: "written" },
                ]}
                format={perSecond}
                floor={1024}
              />
            </div>
          </>
        )}
      <TopTable id={id} running={running} />
    </div>
  );
}

interface ChartProps {
  title: string;
  current: string;
  series: { points: Point[]; kind: string; label?: string }[];
  format: (value: number) => string;
  /** The smallest top of the scale, so noise does not fill the chart. */
  floor: number;
}

const W = 320;
const H = 90;

function Chart({ title, current, series, format, floor }: ChartProps) {
  const now = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.time)));
  const start = now - WINDOW_MS;
  const top = Math.max(floor, ...series.flatMap((s) => s.points.map((p) => p.value))) * 1.1;
  const x = (time: number) => ((time - start) / WINDOW_MS) * W;
  const y = (value: number) => H - (value / top) * H;
  return (
    <figure class="ct-chart" data-chart={title}>
      <figcaption>
        <strong>{title}</strong> <span class="ct-chart-now">{current}</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${title} over the last 15 minutes, up to ${format(top)}`}
      >
        <line class="ct-chart-grid" x1="0" x2={W} y1={H / 2} y2={H / 2} />
        {series.map((s) =>
          s.points.length > 1 && (
            <polyline
              key={s.kind + (s.label ?? "")}
              class={`ct-chart-line ct-chart-${s.kind}`}
              points={s.points.map((p) => `${x(p.time).toFixed(1)},${y(p.value).toFixed(1)}`)
                .join(" ")}
            />
          )
        )}
      </svg>
      <div class="ct-chart-axis muted">
        <span>15 min ago</span>
        {series.some((s) => s.label) && (
          <span>
            {series.map((s) => (
              <span key={s.kind} class={`ct-chart-key ct-chart-${s.kind}`}>{s.label}</span>
            ))}
          </span>
        )}
        <span>max {format(top)}</span>
      </div>
    </figure>
  );
}

function TopTable({ id, running }: { id: string; running: boolean }) {
  const [top, setTop] = useState<{ titles: string[]; processes: string[][] } | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!running) {
      setTop(null);
      return;
    }
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      api<{ titles: string[]; processes: string[][] }>(
        "GET",
        `/api/containers/${encodeURIComponent(id)}/top`,
      ).then((answer) => {
        if (cancelled) return;
        setTop(answer);
        setError("");
      }).catch((e) => !cancelled && setError((e as Error).message)).finally(() => {
        if (!cancelled && document.visibilityState !== "hidden") timer = setTimeout(load, TOP_MS);
      });
    };
    load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [id, running]);
  return (
    <section class="ct-section ct-top">
      <h3>Processes</h3>
      {!running
        ? <p class="muted">Not running.</p>
        : error
        ? <div class="notice error" role="alert">{error}</div>
        : !top
        ? <p class="muted">Loading…</p>
        : (
          <div class="ct-top-scroll">
            <table class="table ct-top-table">
              <thead>
                <tr>{top.titles.map((title) => <th key={title}>{title}</th>)}</tr>
              </thead>
              <tbody>
                {top.processes.map((row, i) => (
                  <tr key={i}>
                    {row.map((cell, j) => <td key={j} class="mono">{cell}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
