/**
 * The targets each benchmark measured, collected so that `deno task bench` ends with one table
 * of every target beside its baseline and the ratio (issue 15's "done when").
 */
export interface TargetResult {
  /** What is measured, and at what size. */
  measure: string;
  /** The issue's limit, in words ("under 100 ms"). */
  target: string;
  /** The figure it is compared with in the same run (the old code, the raw Engine call). */
  baseline: string;
  measured: string;
  /** measured / baseline, when both are numbers of one unit. */
  ratio?: number;
  met: boolean;
}

const results: TargetResult[] = [];

export function reportTarget(result: TargetResult): void {
  results.push(result);
}

/** The summary table, in Markdown; empty when no benchmark reported a target. */
export function targetSummary(): string {
  if (results.length === 0) return "";
  const lines = [
    "| measure | target | baseline | measured | ratio | met |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...results.map((result) =>
      `| ${result.measure} | ${result.target} | ${result.baseline} | ${result.measured} | ${
        result.ratio === undefined ? "" : `${result.ratio.toFixed(2)}x`
      } | ${result.met ? "met" : "**not met**"} |`
    ),
  ];
  return lines.join("\n");
}
