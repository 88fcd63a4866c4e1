/**
 * `deno task test`: runs every test file under tests/ as its own `deno test` process, a few
 * at a time, and ends with deno's summary line and a plain `N passed, N failed`.
 *
 * One process per file keeps the tests that count the panel's file descriptors or memory
 * honest (no other file's sockets in the same process), and lets files that mostly wait on
 * the Engine, a registry or Chromium overlap. Files whose assertions are about latency or
 * memory under load run alone at the end, so the other files' load cannot fail them.
 *
 * Usage: deno run --allow-read --allow-run=deno --allow-env scripts/test.ts [--jobs N] [FILE...]
 */
const ROOT = new URL("../", import.meta.url);

/** Measured against the panel itself: they must not share the machine with other files. */
const ALONE = new Set([
  "tests/attacks/input_test.ts",
  "tests/attacks/auth_test.ts",
  "tests/attacks/streams_test.ts",
  // Compares a busy container's CPU with an idle one's: other files' busy loops skew it.
  "tests/lib/docker/stats_test.ts",
  // 300 containers of its own would push other files' rows out of their tables' windows.
  "tests/e2e/containers_scale_test.ts",
  // Counts the kept container list's Engine reads: other files' containers and image tags
  // would each add one.
  "tests/lib/docker/container_list_test.ts",
]);

/**
 * Files that touch the same Engine-wide state never run at the same time: an image prune
 * removes every dangling image on the node, the other files' included.
 */
const EXCLUSIVE: Record<string, string> = {
  "tests/routes/images_test.ts": "image-prune",
  "tests/e2e/images_test.ts": "image-prune",
  "tests/e2e/keyboard_test.ts": "image-prune",
  "tests/e2e/consistency_test.ts": "image-prune",
  // Each starts dockerd instances in network namespaces (three for a swarm): one at a time
  // keeps the machine's load, and the host's network changes that abort page loads, down.
  "tests/fixtures/netns_engines_test.ts": "netns",
  "tests/routes/environments_tls_test.ts": "netns",
  "tests/routes/swarm_test.ts": "netns",
  "tests/routes/swarm_stacks_test.ts": "netns",
  "tests/e2e/environments_test.ts": "netns",
  "tests/e2e/environments_tls_test.ts": "netns",
  "tests/e2e/swarm_test.ts": "netns",
  "tests/e2e/swarm_stacks_test.ts": "netns",
};

/** Slow files first, so the parallel part ends together rather than on one long file. */
const SLOW_FIRST = ["tests/e2e/", "tests/routes/", "tests/main_test.ts", "tests/attacks/"];

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  code: number;
  output: string;
  seconds: number;
}

async function testFiles(dir: URL, prefix: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory && entry.name !== ".artifacts") {
      files.push(...await testFiles(new URL(`${entry.name}/`, dir), `${path}/`));
    } else if (/_test\.tsx?$/.test(entry.name)) files.push(path);
  }
  return files;
}

function rank(file: string): number {
  // The netns files run one after another: starting that chain first keeps it off the tail.
  if (EXCLUSIVE[file] === "netns") return -1;
  const index = SLOW_FIRST.findIndex((prefix) => file.startsWith(prefix));
  return index < 0 ? SLOW_FIRST.length : index;
}

async function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  const child = new Deno.Command("deno", {
    args: ["test", "--allow-all", file],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const [status] = await Promise.all([child.status, collect(child.stdout), collect(child.stderr)]);
  const summary = output.match(
    /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/m,
  );
  const passed = summary ? Number(summary[1]) : 0;
  // A file that crashed before its summary counts as one failure.
  const failed = summary ? Number(summary[2]) : (status.code === 0 ? 0 : 1);
  const seconds = (performance.now() - started) / 1000;
  return { file, passed, failed, code: status.code, output, seconds };
}

async function runAll(files: string[], jobs: number): Promise<FileResult[]> {
  const queue = [...files];
  const results: FileResult[] = [];
  const report = (result: FileResult) => {
    results.push(result);
    console.log(result.output.trimEnd());
    console.log(
      `--- ${result.file}: ${result.passed} passed, ${result.failed} failed ` +
        `(${result.seconds.toFixed(1)} s)\n`,
    );
  };
  const busy = new Set<string>();
  let waiters: (() => void)[] = [];
  /** The next file whose exclusive group is free, waiting while every queued one is blocked. */
  const next = async (): Promise<string | undefined> => {
    while (queue.length) {
      const index = queue.findIndex((file) => !busy.has(EXCLUSIVE[file]));
      if (index >= 0) return queue.splice(index, 1)[0];
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return undefined;
  };
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let file = await next(); file; file = await next()) {
        const group = EXCLUSIVE[file];
        if (group) busy.add(group);
        try {
          report(await runFile(file));
        } finally {
          if (group) busy.delete(group);
          const waking = waiters;
          waiters = [];
          for (const resolve of waking) resolve();
        }
      }
    }),
  );
  return results;
}

async function main(args: string[]): Promise<number> {
  let jobs = 3;
  const chosen: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--jobs") jobs = Math.max(1, Number(args[++i]) || 1);
    else chosen.push(args[i]);
  }
  const files = chosen.length ? chosen : (await testFiles(new URL("tests/", ROOT), "tests/"))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const started = performance.now();
  const results = [
    ...await runAll(files.filter((file) => !ALONE.has(file)), jobs),
    ...await runAll(files.filter((file) => ALONE.has(file)), 1),
  ];
  const passed = results.reduce((sum, result) => sum + result.passed, 0);
  const failed = results.reduce((sum, result) => sum + result.failed, 0);
  const broken = results.filter((result) => result.failed > 0 || result.code !== 0);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(`${results.length} test files in ${minutes} min`);
  for (const result of broken) console.log(`FAILED: ${result.file}`);
  console.log(`${failed || broken.length ? "FAILED" : "ok"} | ${passed} passed | ${failed} failed`);
  console.log(`${passed} passed, ${failed} failed`);
  return broken.length || passed === 0 ? 1 : 0;
}

Deno.exit(await main(Deno.args));
