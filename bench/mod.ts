/**
 * `deno task bench`: every benchmark, one after the other. Each measures the panel's
 * path side by side with its baseline in the same run. `deno task bench client` or
 * `deno task bench exec` runs one.
 */
const BENCHMARKS = [
  "client",
  "containers",
  "containers_page",
  "rss",
  "exec",
  "compose",
  "audit",
  "environments",
] as const;
import { targetSummary } from "./report.ts";

const chosen = Deno.args.length ? Deno.args : BENCHMARKS;
for (const name of chosen) {
  if (!(BENCHMARKS as readonly string[]).includes(name)) {
    throw new Error(`Unknown benchmark "${name}"`);
  }
  console.log(`\n# ${name}\n`);
  await import(`./${name}.ts`);
}
const summary = targetSummary();
if (summary) console.log(`\n# Targets (issue 15), this run\n\n${summary}`);
