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

// Built beside the served files and then moved in file by file (each rename is atomic), so
// a page loading while the islands are rebuilt (a test running next to another) never finds
// client.js or a chunk half-written or missing. The staging folder starts with a dot, which
// routes/static.ts never serves.
await Deno.mkdir(OUT_DIR, { recursive: true });
const STAGING = `static/build/.next-${Deno.pid}`;
const stagingDir = new URL(`${STAGING}/`, ROOT);
await Deno.remove(stagingDir, { recursive: true }).catch(() => {});
const command = new Deno.Command("deno", {
  args: [
    "bundle",
    "--platform",
    "browser",
    "--code-splitting",
    "--minify",
    "--outdir",
    STAGING,
    ENTRY,
  ],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await command.output();
if (code !== 0) {
  await Deno.remove(stagingDir, { recursive: true }).catch(() => {});
  console.error("Bundling the islands failed.");
  Deno.exit(code);
}
const built = new Set<string>();
for await (const entry of Deno.readDir(stagingDir)) {
  if (!entry.isFile) continue;
  built.add(entry.name);
  // Chunks first, the entry last: a new client.js only ever imports chunks already there.
  if (entry.name !== "client.js") {
    await Deno.rename(new URL(entry.name, stagingDir), new URL(entry.name, OUT_DIR));
  }
}
await Deno.rename(new URL("client.js", stagingDir), new URL("client.js", OUT_DIR));
await Deno.remove(stagingDir, { recursive: true });
// Chunks of earlier builds go; their names are content hashes, so none of them is reused.
for await (const entry of Deno.readDir(OUT_DIR)) {
  if (entry.isFile && !built.has(entry.name)) {
    await Deno.remove(new URL(entry.name, OUT_DIR)).catch(() => {});
  }
}
