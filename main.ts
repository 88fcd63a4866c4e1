/**
 * Container Manager entry point: flags/env → database → Docker client → app → Deno.serve.
 * Nothing opens at import time; `main` returns the process exit code.
 */
import { type Config, ConfigError, HELP, parseCommand, VERSION } from "./lib/config.ts";
import { DatabaseCorruptError, openDatabase } from "./lib/db/db.ts";
import { createDockerClient } from "./lib/docker/client.ts";
import { createApp, createAppEnvironments } from "./routes/app.ts";
import type { Db } from "./lib/db/db.ts";
import { countSealedRows, loadOrCreateKey, SecretKeyError } from "./lib/secrets.ts";
import { countUsers } from "./lib/auth/users.ts";
import { ValidationError } from "./lib/errors.ts";
import { createSessionStreams } from "./lib/auth/streams.ts";
import { createLoginThrottle } from "./lib/auth/throttle.ts";
import { recordInterrupted, verifyAudit } from "./lib/sysctl/audit.ts";
import { startHousekeeping } from "./lib/db/housekeeping.ts";
import { createPanelDispatcher, type Dispatcher } from "./lib/sysctl/mod.ts";
import { createEventsHub } from "./lib/docker/events.ts";
import { createStatsHub } from "./lib/docker/stats.ts";
import { backupCommand, restoreCommand } from "./lib/backup.ts";
import { installCommand, uninstallCommand } from "./lib/install.ts";
import { startUpdateSchedule } from "./lib/updates/schedule.ts";
import { lastUpdateCheck } from "./lib/updates/store.ts";

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
  if (command.kind === "audit-verify") return auditVerify(command.config);
  if (command.kind === "backup") {
    return await backupCommand(command.config, command.to, command.includeKey);
  }
  if (command.kind === "restore") return await restoreCommand(command.config, command.from);
  if (command.kind === "install") return await installCommand(command.options);
  if (command.kind === "uninstall") return await uninstallCommand(command.options);
  return await serve(command.config);
}

function openOrReport(config: Config): Db | undefined {
  try {
    return openDatabase(`${config.dataDir}/container-manager.db`);
  } catch (error) {
    if (error instanceof DatabaseCorruptError) {
      console.error(`container-manager: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

/**
 * `container-manager audit verify`: walks the hash chain and prints every problem it finds,
 * one line each; exit 0 when intact, 1 when not.
 */
function auditVerify(config: Config): number {
  const db = openOrReport(config);
  if (!db) return 1;
  try {
    const result = verifyAudit(db);
    if (result.ok) {
      console.log(`OK: ${result.rows} audit rows, hash chain intact`);
      return 0;
    }
    for (const problem of result.problems) {
      console.log(`BROKEN at sequence ${problem.seq}: ${problem.reason}`);
    }
    const count = result.problems.length;
    console.log(`${count} problem${count === 1 ? "" : "s"} in ${result.rows} audit rows`);
    return 1;
  } finally {
    db.close();
  }
}

/**
 * First run (no user yet): create "admin" from CM_ADMIN_PASSWORD or --admin-password-file,
 * or return a one-time setup token for /setup. There are no default credentials.
 */
async function firstRun(
  db: Db,
  dispatcher: Dispatcher,
  config: Config,
  log: (message: string) => void,
): Promise<string | undefined> {
  if (countUsers(db) > 0) return undefined;
  let password = Deno.env.get("CM_ADMIN_PASSWORD") || undefined;
  let source = "CM_ADMIN_PASSWORD";
  if (config.adminPasswordFile) {
    password = (await Deno.readTextFile(config.adminPasswordFile)).replace(/\r?\n$/, "");
    source = config.adminPasswordFile;
  }
  if (password !== undefined) {
    await dispatcher.dispatch({
      verb: "user.create",
      target: "admin",
      params: { username: "admin", password, role: "admin", source },
      actor: { username: "system", role: "system", ip: "" },
    });
    log(`Created the first admin "admin" from ${source}`);
    return undefined;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  // Printed by the listening line (setupBanner), last, where it cannot be missed.
  return token;
}

/** The first-run notice, framed, for after the listening line (and the build output). */
function setupBanner(url: string, token: string): string {
  const lines = [
    "FIRST RUN: no user exists yet. Create the first admin at",
    `  ${url}setup`,
    `with this one-time setup token: ${token}`,
  ];
  const width = Math.max(...lines.map((line) => line.length)) + 4;
  const rule = "=".repeat(width);
  return ["", rule, ...lines.map((line) => `  ${line}`), rule, ""].join("\n");
}

/** The certificate and key for HTTPS, read before anything else starts. */
async function readTls(config: Config): Promise<{ cert: string; key: string } | undefined> {
  if (!config.tls) return undefined;
  const read = async (file: string, what: string) => {
    try {
      const text = await Deno.readTextFile(file);
      if (!text.includes("-----BEGIN ")) throw new Error("not PEM");
      return text;
    } catch (error) {
      throw new ConfigError(`Cannot use ${file} as the TLS ${what}: ${(error as Error).message}`);
    }
  };
  return {
    cert: await read(config.tls.certFile, "certificate"),
    key: await read(config.tls.keyFile, "private key"),
  };
}

async function serve(config: Config): Promise<number> {
  const log = (message: string) => console.error(`${new Date().toISOString()} ${message}`);
  let tls: { cert: string; key: string } | undefined;
  try {
    tls = await readTls(config);
  } catch (error) {
    console.error(`container-manager: ${(error as Error).message}`);
    return 2;
  }
  await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  const db = openOrReport(config);
  if (!db) return 1;
  try {
    // Before anything dispatches: operations a crash or kill cut short get their final row.
    const interrupted = recordInterrupted(db);
    if (interrupted.length > 0) {
      const list = interrupted.map((row) => `${row.action} ${row.target} (row ${row.started_seq})`);
      log(
        `Recorded ${interrupted.length} operation${
          interrupted.length === 1 ? "" : "s"
        } interrupted by a panel restart: ${list.join(", ").slice(0, 1000)}`,
      );
    }
  } catch (error) {
    console.error(
      `container-manager: cannot record the operations a restart interrupted: ${
        (error as Error).message
      }`,
    );
    db.close();
    return 1;
  }

  const docker = createDockerClient(config.dockerHost);
  const streams = createSessionStreams();
  let secretKey: CryptoKey;
  let dispatcher: Dispatcher;
  let setupToken: string | undefined;
  try {
    secretKey = await loadOrCreateKey(config.keyFile, {
      encryptedRowsExist: countSealedRows(db) > 0,
    });
    dispatcher = createPanelDispatcher({
      db,
      docker,
      streams,
      managedLabel: config.managedLabel,
      secretKey,
      log,
      dataDir: config.dataDir,
      stacksDir: config.stacksDir,
      listen: config.listen,
      updateCheckIntervalMs: config.updateCheckIntervalMs,
    });
    setupToken = await firstRun(db, dispatcher, config, log);
  } catch (error) {
    db.close();
    docker.close();
    if (error instanceof SecretKeyError || error instanceof Deno.errors.NotFound) {
      console.error(`container-manager: ${error.message}`);
      return 1;
    }
    if (error instanceof ValidationError) {
      console.error(
        `container-manager: the first admin's password is not acceptable: ${error.message}`,
      );
      return 1;
    }
    throw error;
  }

  const timeouts = { idleMs: config.sessionIdleMs, absoluteMs: config.sessionAbsoluteMs };
  const retention = { maxAgeMs: config.auditMaxAgeMs, maxRows: config.auditMaxRows };
  const housekeepingTimer = startHousekeeping(db, { sessions: timeouts, retention, log });

  const shutdown = new AbortController();
  const events = createEventsHub(docker, { log });
  // Said once when the Engine goes away and once when it is back, not per request: the
  // shared events stream notices both (and reconnects with backoff meanwhile).
  let engineDown = false;
  events.subscribe((event) => {
    if (event.kind !== "engine" || event.connected === !engineDown) return;
    engineDown = !event.connected;
    log(
      engineDown
        ? `Docker Engine unreachable at ${docker.endpoint}; retrying`
        : `Docker Engine at ${docker.endpoint} is reachable again`,
    );
  });
  const stats = createStatsHub(docker, events, { log });
  const appDeps = {
    config,
    db,
    docker,
    secretKey,
    dispatcher,
    events,
    stats,
    streams,
    throttle: createLoginThrottle(),
    setup: { token: setupToken },
    shutdown: shutdown.signal,
    log,
  };
  // Other Engines: closed when `shutdown` aborts; their operations are waited for below.
  const environments = createAppEnvironments(appDeps);
  const app = createApp({ ...appDeps, environments });

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.listen.hostname,
      port: config.listen.port,
      ...tls,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        const scheme = tls ? "https" : "http";
        const url = `${scheme}://${host}:${port}/`;
        const listening = `Container Manager ${VERSION} listening on ${url}`;
        // One write, so whoever waits for the listening line has the token too.
        console.log(setupToken ? `${listening}\n${setupBanner(url, setupToken)}` : listening);
      },
    }, app.fetch);
  } catch (error) {
    // A certificate and key that do not go together, or a port already taken.
    console.error(`container-manager: cannot listen: ${(error as Error).message}`);
    stats.close();
    events.close();
    environments.close();
    clearInterval(housekeepingTimer);
    db.close();
    docker.close();
    return 1;
  }

  const updateSchedule = startUpdateSchedule({
    dispatcher,
    intervalMs: config.updateCheckIntervalMs,
    log,
    lastCheckedAt: lastUpdateCheck(db),
  });

  let stopped!: () => void;
  const done = new Promise<void>((resolve) => stopped = resolve);
  const stop = async (signal: string) => {
    if (shutdown.signal.aborted) return;
    log(`${signal} received, shutting down`);
    shutdown.abort();
    clearInterval(housekeepingTimer);
    const forced = setTimeout(() => {
      const abandoned = dispatcher.abandon("The panel shut down before this finished");
      log(`Shutdown took longer than 10 s; exiting anyway (${abandoned} unfinished, audited)`);
      db.close();
      Deno.exit(1);
    }, SHUTDOWN_GRACE_MS);
    stats.close();
    events.close();
    const scheduleStopped = updateSchedule.stop();
    await server.shutdown();
    await scheduleStopped;
    // Exec sessions end their shells and pulls or deploys finish writing their audit rows
    // before the database closes (the forced exit above still bounds this).
    await dispatcher.idle();
    await environments.idle();
    db.close();
    docker.close();
    clearTimeout(forced);
    stopped();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  // The server finishes as soon as it stops accepting; the rest of `stop` must run too.
  await server.finished;
  await done;
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
