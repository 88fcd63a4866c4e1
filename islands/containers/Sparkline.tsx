/**
 * A tiny inline SVG line chart of the last samples (oldest left, newest right edge).
 * Only SVG attributes are set, never a style attribute, so it renders under the CSP.
 */

export const SPARK_SAMPLES = 60;
const WIDTH = 60;
const HEIGHT = 20;

export interface SparklineProps {
  values: readonly number[];
  /** The value drawn at the top edge; defaults to the largest sample. */
  max?: number;
  kind: "cpu" | "mem";
  label: string;
}

export function Sparkline({ values, max, kind, label }: SparklineProps) {
  const samples = values.slice(-SPARK_SAMPLES);
  const top = Math.max(max ?? 0, ...samples, 1e-9);
  const step = WIDTH / (SPARK_SAMPLES - 1);
  const offset = WIDTH - (samples.length - 1) * step;
  const coords = samples.map((value, i) => {
    const x = offset + i * step;
    const y = HEIGHT - 1 - (Math.max(0, value) / top) * (HEIGHT - 2);
    return `${round(x)},${round(y)}`;
  });
  const points = coords.length === 1
    ? `${round(offset - step)},${coords[0].split(",")[1]} ${coords[0]}`
    : coords.join(" ");
  const area = coords.length
    ? `${
      round(coords.length === 1 ? offset - step : offset)
    },${HEIGHT} ${points} ${WIDTH},${HEIGHT}`
    : "";
  return (
    <svg
      class={`spark spark-${kind}`}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <line class="spark-base" x1="0" y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} />
      {area && <polygon class="spark-area" points={area} />}
      {coords.length > 0 && <polyline class="spark-line" points={points} />}
    </svg>
  );
}

function round(n: number) {
  return Math.round(n * 10) / 10;
}
