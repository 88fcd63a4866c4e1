/**
 * Bundles islands/client.ts (and one chunk per island) into static/build/.
 * With --if-stale it does nothing when the bundle is newer than every source file.
 */
const ROOT = new URL("../", import.meta.url);
const OUT_DIR = new URL("static/build/", ROOT);
const ENTRY = "islands/client.ts";
const SOURCE_DIRS = ["islands", "lib", "routes/_components"];

async function newestSourceMtime(): Promise<number> {
  let newest = (await Deno.stat(new URL("deno.json", ROOT))).mtime?.getTime() ?? 0;
  for (const dir of SOURCE_DIRS) {
    for await (const path of walk(new URL(`${dir}/`, ROOT))) {
      newest = Math.max(newest, (await Deno.stat(path)).mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (/\.tsx?$/.test(entry.name)) yield url;
  }
}

async function bundleMtime(): Promise<number | undefined> {
  try {
    return (await Deno.stat(new URL("client.js", OUT_DIR))).mtime?.getTime();
  } catch {
    return undefined;
  }
}

if (Deno.args.includes("--if-stale")) {
  const built = await bundleMtime();
  if (built !== undefined && built >= await newestSourceMtime()) Deno.exit(0);
}

await Deno.remove(OUT_DIR, { recursive: true }).catch(() => {});
const command = new Deno.Command("deno", {
  args: [
    "bundle",
    "--platform",
    "browser",
    "--code-splitting",
    "--minify",
    "--outdir",
    "static/build",
    ENTRY,
  ],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await command.output();
if (code !== 0) {
  console.error("Bundling the islands failed.");
  Deno.exit(code);
}
