/**
 * The running environments: each one's Engine client, events and stats hubs, dispatcher
 * (whose audit rows name the environment) and stacks folder, opened on first use and closed
 * once nothing has used it for a while (no request, no open stream, no running dispatch).
 * `local` is the panel's own set and is never closed here. A monitor keeps every
 * environment's state for the list and the header.
 */
import type { Db } from "../db/db.ts";
import { createDockerClient, type DockerClient, type EngineHost } from "../docker/client.ts";
import { createEventsHub, type EventsHub } from "../docker/events.ts";
import { createStatsHub, type StatsHub } from "../docker/stats.ts";
import { createPanelDispatcher, type Dispatcher } from "../sysctl/mod.ts";
import { HttpError } from "../errors.ts";
import { SecretOpenError } from "../secrets.ts";
import {
  type CertificateInfo,
  certificateInfo,
  engineHostOf,
  ENVIRONMENT_ID,
  LOCAL_ID,
  parseAddress,
} from "./address.ts";
import { getEnvironment, hostOf, listEnvironments, type StoredEnvironment } from "./store.ts";
import { classifyConnectError } from "./connect.ts";
import { createEnvironmentMonitor, type EnvironmentState, type MonitorOptions } from "./monitor.ts";

/** The reason an environment's `closed` signal carries: its streams say why they ended. */
export const ENVIRONMENT_CLOSED = "environment-closed";

export interface RunningEnvironment {
  id: string;
  docker: DockerClient;
  events: EventsHub;
  stats: StatsHub;
  dispatcher: Dispatcher;
  /** Where this environment's compose stacks are stored. */
  stacksDir: string;
  /** Aborted when the environment is closed (idle, changed, removed): its streams end. */
  closed: AbortSignal;
}

export interface EnvironmentView {
  id: string;
  name: string;
  url: string;
  tls: boolean;
  warning?: string;
  /** What may be shown of the stored certificates (never the PEM texts, never the key). */
  certificates?: { ca: CertificateInfo | null; cert: CertificateInfo | null };
  state: EnvironmentState;
  created_at?: string;
  updated_at?: string;
}

/** What running an environment's dispatcher needs besides its Engine and stacks folder. */
type DispatcherDeps = Omit<
  Parameters<typeof createPanelDispatcher>[0],
  "docker" | "stacksDir" | "environment"
>;

export interface EnvironmentRegistryOptions {
  db: Db;
  secretKey: CryptoKey;
  /** The panel's own Engine and its hubs and dispatcher. */
  local: RunningEnvironment;
  localUrl: string;
  /** `--stacks-dir`; an environment's stacks go to `<it>/.environments/<id>`. */
  stacksDir: string;
  dispatcherDeps: DispatcherDeps;
  log: (message: string) => void;
  /** An unused environment is closed after this long. Default 5 minutes. */
  idleMs?: number;
  monitor?: MonitorOptions;
}

export interface Lease {
  env: RunningEnvironment;
  /** Idempotent. */
  release(): void;
}

export interface EnvironmentRegistry {
  /** `local` first, then by name; states from the monitor (never waits on an Engine). */
  list(): EnvironmentView[];
  view(id: string): EnvironmentView | undefined;
  exists(id: string): boolean;
  /** The environment's running deps, opened if needed; release when the request or stream ends. */
  acquire(id: string): Promise<Lease>;
  /** Whether an environment's deps are open now (tests, the idle close). */
  isOpen(id: string): boolean;
  /**
   * After an environment was added, changed or removed: closes its deps (and so its streams)
   * and re-checks its state. A rename (`{connection: false}`) leaves them open.
   */
  changed(id: string, options?: { connection: boolean }): void;
  /** Whether any environment's dispatcher audited this request (app.onError asks). */
  hasAudited(requestId: string): boolean;
  /** Resolves once no environment's dispatcher runs anything (shutdown, before the db closes). */
  idle(): Promise<void>;
  close(): void;
}

export const IDLE_MS = 5 * 60_000;
/** Under `--stacks-dir`: one folder per environment, which no compose project name can be. */
export const ENVIRONMENT_STACKS = ".environments";

interface Entry {
  opening: Promise<RunningEnvironment>;
  refs: number;
  timer?: ReturnType<typeof setTimeout>;
  closed: boolean;
}

export function createEnvironmentRegistry(
  options: EnvironmentRegistryOptions,
): EnvironmentRegistry {
  const { db, secretKey, log } = options;
  const idleMs = options.idleMs ?? IDLE_MS;
  const entries = new Map<string, Entry>();
  /** Each entry's deps once opened. */
  const settled = new WeakMap<Entry, RunningEnvironment>();
  /** Closed environments whose dispatches may still be writing their final audit rows. */
  const closing = new Set<RunningEnvironment>();
  const closers = new WeakMap<RunningEnvironment, AbortController>();
  const monitor = createEnvironmentMonitor({ log, ...options.monitor });
  /** The monitor's own clients (short calls only), one per non-local environment. */
  const probeClients = new Map<string, Promise<DockerClient>>();
  let monitoring = false;
  let closed = false;

  const envLog = (id: string) => (message: string) => log(`[environment ${id}] ${message}`);

  async function open(stored: StoredEnvironment): Promise<RunningEnvironment> {
    const host = await connectHost(stored);
    const stacksDir = `${options.stacksDir}/${ENVIRONMENT_STACKS}/${stored.id}`;
    await Deno.mkdir(stacksDir, { recursive: true, mode: 0o700 });
    const docker = createDockerClient(host);
    const events = createEventsHub(docker, { log: envLog(stored.id) });
    const stats = createStatsHub(docker, events, { log: envLog(stored.id) });
    const dispatcher = createPanelDispatcher({
      ...options.dispatcherDeps,
      log: envLog(stored.id),
      docker,
      stacksDir,
      environment: stored.id,
    });
    const closer = new AbortController();
    const env = {
      id: stored.id,
      docker,
      events,
      stats,
      dispatcher,
      stacksDir,
      closed: closer.signal,
    };
    closers.set(env, closer);
    return env;
  }

  async function connectHost(stored: StoredEnvironment): Promise<EngineHost> {
    try {
      return await hostOf(db, secretKey, stored);
    } catch (error) {
      if (error instanceof SecretOpenError) {
        throw new HttpError(
          503,
          `The client key of environment ${stored.id} cannot be opened with this panel's ` +
            "secret key; edit the environment and give the key again",
        );
      }
      throw error;
    }
  }

  function shut(id: string, entry: Entry) {
    if (entry.closed) return;
    entry.closed = true;
    clearTimeout(entry.timer);
    if (entries.get(id) === entry) entries.delete(id);
    entry.opening.then((env) => {
      closing.add(env);
      closers.get(env)?.abort(ENVIRONMENT_CLOSED);
      env.stats.close();
      env.events.close();
      env.docker.close();
      env.dispatcher.idle().then(() => closing.delete(env));
    }, () => {});
  }

  function scheduleIdle(id: string, entry: Entry) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(async () => {
      if (entry.closed || entry.refs > 0) return;
      const env = await entry.opening.catch(() => undefined);
      // An exec session (or a deploy) still running keeps its environment open.
      if (env && env.dispatcher.running() > 0) return scheduleIdle(id, entry);
      if (entry.refs === 0) shut(id, entry);
    }, idleMs);
  }

  function watch(stored: StoredEnvironment) {
    probeClients.get(stored.id)?.then((client) => client.close(), () => {});
    const client = connectHost(stored).then((host) => createDockerClient(host));
    client.catch(() => {});
    probeClients.set(stored.id, client);
    monitor.watch(stored.id, () => client, explainFor(stored.url, stored.tls));
  }

  /** A failed check in words; the host given to the classifier only says where and how. */
  function explainFor(url: string, tls: StoredEnvironment["tls"]) {
    let host: EngineHost | undefined;
    try {
      const address = parseAddress(url);
      host = address.kind === "tcp" && tls
        ? { ...tls, key: "", hostname: address.hostname, port: address.port, kind: "tls" }
        : address;
    } catch {
      host = undefined;
    }
    return (error: unknown) => {
      if (!host || (error instanceof HttpError && error.status === 503 && !error.cause)) {
        return error instanceof Error ? error.message : String(error);
      }
      return classifyConnectError(error, host).message;
    };
  }

  function startMonitor() {
    if (monitoring || closed) return;
    monitoring = true;
    monitor.watch(
      LOCAL_ID,
      () => Promise.resolve(options.local.docker),
      explainFor(options.localUrl, undefined),
    );
    for (const stored of listEnvironments(db)) watch(stored);
  }

  function viewOf(stored: StoredEnvironment): EnvironmentView {
    let warning: string | undefined;
    try {
      warning = engineHostOf(
        parseAddress(stored.url),
        stored.tls
          ? {
            ...stored.tls,
            key: "",
          }
          : undefined,
      ).warning;
    } catch {
      // A stored address is valid; nothing to warn about if it somehow is not.
    }
    return {
      id: stored.id,
      name: stored.name,
      url: stored.url,
      tls: !!stored.tls,
      ...(warning ? { warning } : {}),
      ...(stored.tls
        ? { certificates: { ca: infoOf(stored.tls.ca), cert: infoOf(stored.tls.cert) } }
        : {}),
      state: monitor.state(stored.id),
      created_at: stored.created_at,
      updated_at: stored.updated_at,
    };
  }

  function infoOf(pem: string): CertificateInfo | null {
    try {
      return certificateInfo(pem);
    } catch {
      return null;
    }
  }

  const localView = (): EnvironmentView => ({
    id: LOCAL_ID,
    name: LOCAL_ID,
    url: options.localUrl,
    tls: false,
    state: monitor.state(LOCAL_ID),
  });

  return {
    list() {
      startMonitor();
      return [localView(), ...listEnvironments(db).map(viewOf)];
    },
    view(id) {
      startMonitor();
      if (id === LOCAL_ID) return localView();
      const stored = ENVIRONMENT_ID.test(id) ? getEnvironment(db, id) : undefined;
      return stored ? viewOf(stored) : undefined;
    },
    exists(id) {
      return id === LOCAL_ID || (ENVIRONMENT_ID.test(id) && !!getEnvironment(db, id));
    },
    async acquire(id) {
      if (closed) throw new HttpError(503, "The panel is shutting down");
      if (id === LOCAL_ID) return { env: options.local, release: () => {} };
      startMonitor();
      let entry = entries.get(id);
      if (!entry) {
        const stored = ENVIRONMENT_ID.test(id) ? getEnvironment(db, id) : undefined;
        if (!stored) throw new HttpError(404, `No environment ${id}`);
        const created: Entry = { opening: open(stored), refs: 0, closed: false };
        created.opening.then((env) => settled.set(created, env), () => {});
        entries.set(id, created);
        entry = created;
      }
      const current = entry;
      current.refs++;
      clearTimeout(current.timer);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        current.refs--;
        if (current.refs === 0 && !current.closed) scheduleIdle(id, current);
      };
      try {
        return { env: await current.opening, release };
      } catch (error) {
        release();
        shut(id, current);
        throw error;
      }
    },
    isOpen(id) {
      return id === LOCAL_ID || entries.has(id);
    },
    changed(id, options = { connection: true }) {
      if (!options.connection && getEnvironment(db, id)) return;
      const entry = entries.get(id);
      if (entry) shut(id, entry);
      if (!monitoring) return;
      const stored = getEnvironment(db, id);
      if (stored) watch(stored);
      else {
        monitor.forget(id);
        probeClients.get(id)?.then((client) => client.close(), () => {});
        probeClients.delete(id);
      }
    },
    hasAudited(requestId) {
      for (const entry of entries.values()) {
        // Only settled entries can have audited anything; a pending one has no dispatcher yet.
        const env = settled.get(entry);
        if (env?.dispatcher.hasAudited(requestId)) return true;
      }
      return false;
    },
    async idle() {
      const open = [...entries.values()].map((entry) => settled.get(entry));
      await Promise.all(
        [...open, ...closing].map((env) => env?.dispatcher.idle()),
      );
    },
    close() {
      closed = true;
      monitor.close();
      for (const [id, entry] of [...entries]) shut(id, entry);
      for (const client of probeClients.values()) client.then((c) => c.close(), () => {});
      probeClients.clear();
    },
  };
}
