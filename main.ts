/**
 * Container Manager entry point: flags/env → database → Docker client → app → Deno.serve.
 * Nothing opens at import time; `main` returns the process exit code.
 */
import { type Config, ConfigError, HELP, parseCommand, VERSION } from "./lib/config.ts";
import { DatabaseCorruptError, openDatabase } from "./lib/db/db.ts";
import { createDockerClient } from "./lib/docker/client.ts";
import { createApp } from "./routes/app.ts";

const SHUTDOWN_GRACE_MS = 10_000;

export async function main(args: string[]): Promise<number> {
  let command;
  try {
    command = parseCommand(args, (name) => Deno.env.get(name));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`container-manager: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (command.kind === "help") {
    console.log(HELP);
    return 0;
  }
  if (command.kind === "version") {
    console.log(`container-manager ${VERSION}`);
    return 0;
  }
  return await serve(command.config);
}

async function serve(config: Config): Promise<number> {
  const log = (message: string) => console.error(`${new Date().toISOString()} ${message}`);
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  let db;
  try {
    db = openDatabase(`${config.dataDir}/container-manager.db`);
  } catch (error) {
    if (error instanceof DatabaseCorruptError) {
      console.error(`container-manager: ${error.message}`);
      return 1;
    }
    throw error;
  }

  const docker = createDockerClient(config.dockerHost);
  const shutdown = new AbortController();
  const app = createApp({ config, db, docker, shutdown: shutdown.signal, log });

  const server = Deno.serve({
    hostname: config.listen.hostname,
    port: config.listen.port,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.log(`Container Manager ${VERSION} listening on http://${host}:${port}/`);
    },
  }, app.fetch);

  const stop = async (signal: string) => {
    if (shutdown.signal.aborted) return;
    log(`${signal} received, shutting down`);
    shutdown.abort();
    const forced = setTimeout(() => {
      log("Shutdown took longer than 10 s; exiting anyway");
      Deno.exit(1);
    }, SHUTDOWN_GRACE_MS);
    await server.shutdown();
    db.close();
    docker.close();
    clearTimeout(forced);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  await server.finished;
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
