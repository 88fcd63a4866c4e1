/**
 * `deno task bundle`: dist/container-manager.js, the whole panel in one file. It builds the
 * islands (static/build/), bundles the compose parse worker, and generates an entry that
 * embeds every file under static/ (base64, gzip-compressed where that helps: routes/static.ts
 * sends those compressed) and the worker's code before it runs main.ts;
 * then `deno bundle` makes one ES module of it all (npm packages included; node: and Deno
 * APIs stay built in). Run the result with the same permissions as `deno task start`.
 * With `--if-stale` (what `deno task start` passes) nothing is done when the bundle is newer
 * than every file it is made of. A new bundle is run once (`--version`), so Deno's cache holds
 * its analysis and the panel started next does not keep that work in memory (~35 MiB).
 */
import type { EmbeddedAsset } from "../routes/static.ts";

const ROOT = new URL("../", import.meta.url);
const WORK = new URL("dist/.bundle/", ROOT);
const OUTPUT = "dist/container-manager.js";
/** The extensions routes/static.ts serves. */
const SERVED = /\.(js|css|svg|png|ico|map|woff2)$/;

async function run(args: string[], what: string) {
  const { code } = await new Deno.Command("deno", {
    args,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${what} failed (exit ${code})`);
}

async function* walk(dir: URL, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory) {
      yield* walk(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`);
    } else if (entry.isFile && SERVED.test(entry.name)) yield `${prefix}${entry.name}`;
  }
}

/**
 * The bundle with every non-ASCII character written as a `\uXXXX` escape (per UTF-16 unit).
 * esbuild escapes them in strings but not in regular expression literals (the Engine's "µs"
 * durations), and one such character makes V8 hold the whole 3.8 MB source as a two-byte
 * string in its heap instead of a one-byte one (bench/rss.ts: ~4 MiB less RSS). The escape
 * means the same character in a string, template, identifier or regular expression; in a
 * comment it is only text.
 */
function asciiOnly(code: string): string {
  return code.replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A file as the bundle holds it: gzip-compressed when that saves a tenth or more. */
async function embedded(bytes: Uint8Array<ArrayBuffer>): Promise<EmbeddedAsset> {
  const compressed = await gzip(bytes);
  return compressed.length < bytes.length * 0.9
    ? ["gzip", base64(compressed)]
    : ["identity", base64(bytes)];
}

await run(
  [
    "run",
    "--allow-read",
    "--allow-write=static/build",
    "--allow-env",
    "--allow-run=deno",
    "scripts/build_islands.ts",
    // Built only when the sources changed: rebuilding under a running panel (the tests run
    // files side by side) would swap the chunks its pages load.
    "--if-stale",
  ],
  "Building the islands",
);
/** The newest modification time (ms) of the files the bundle is made of. */
async function newestSource(): Promise<number> {
  let newest = 0;
  const visit = async (url: URL) => {
    for await (const entry of Deno.readDir(url)) {
      if (entry.name.startsWith(".")) continue;
      const child = new URL(entry.isDirectory ? `${entry.name}/` : entry.name, url);
      if (entry.isDirectory) await visit(child);
      else newest = Math.max(newest, (await Deno.stat(child)).mtime?.getTime() ?? Infinity);
    }
  };
  for (const dir of ["lib/", "routes/", "islands/", "static/"]) await visit(new URL(dir, ROOT));
  for (const file of ["main.ts", "deno.json", "deno.lock", "scripts/bundle.ts"]) {
    newest = Math.max(newest, (await Deno.stat(new URL(file, ROOT))).mtime?.getTime() ?? Infinity);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await Deno.stat(new URL(OUTPUT, ROOT))).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

if (Deno.args.includes("--if-stale") && await builtAt() > await newestSource()) Deno.exit(0);
await Deno.remove(WORK, { recursive: true }).catch(() => {});
await Deno.mkdir(WORK, { recursive: true });
try {
  await run(
    [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "-o",
      "dist/.bundle/parse_worker.js",
      "lib/compose/parse_worker.ts",
    ],
    "Bundling the compose parse worker",
  );
  const assets: Record<string, EmbeddedAsset> = {};
  for await (const path of walk(new URL("static/", ROOT))) {
    assets[path] = await embedded(await Deno.readFile(new URL(`static/${path}`, ROOT)));
  }
  // A worker started from a blob: URL has that as its import.meta.url, which the bundler's
  // require shim refuses; it gets the bundle file's own URL instead.
  const worker = (await Deno.readTextFile(new URL("parse_worker.js", WORK)))
    .replaceAll("import.meta.url", "__CM_BUNDLE_URL__");
  // The embedding runs first (its own module, imported first), then main.
  await Deno.writeTextFile(
    new URL("embed.ts", WORK),
    `import { setEmbeddedAssets } from "../../routes/static.ts";
import { setParseWorkerUrl } from "../../lib/compose/parse_pool.ts";
setEmbeddedAssets(${JSON.stringify(assets)});
const worker = ${JSON.stringify(worker)}
  .replaceAll("__CM_BUNDLE_URL__", JSON.stringify(import.meta.url));
setParseWorkerUrl(URL.createObjectURL(new Blob([worker], { type: "text/javascript" })));
`,
  );
  await Deno.writeTextFile(
    new URL("entry.ts", WORK),
    `import "./embed.ts";
import { main } from "../../main.ts";
Deno.exit(await main(Deno.args));
`,
  );
  await run(
    ["bundle", "--quiet", "--platform", "deno", "-o", OUTPUT, "dist/.bundle/entry.ts"],
    "Bundling the panel",
  );
  const output = new URL(OUTPUT, ROOT);
  await Deno.writeTextFile(output, asciiOnly(await Deno.readTextFile(output)));
  const seen = await new Deno.Command("deno", {
    args: ["run", "--no-code-cache", OUTPUT, "--version"],
    cwd: ROOT,
    stdout: "null",
  }).output();
  if (seen.code !== 0) throw new Error(`${OUTPUT} does not run (exit ${seen.code})`);
  const size = (await Deno.stat(output)).size;
  console.log(
    `${OUTPUT}: ${(size / 1024 / 1024).toFixed(1)} MB, ${
      Object.keys(assets).length
    } static files embedded`,
  );
} finally {
  await Deno.remove(WORK, { recursive: true }).catch(() => {});
}
