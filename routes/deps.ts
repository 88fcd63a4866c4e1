import type { Config } from "../lib/config.ts";
import type { Db } from "../lib/db/db.ts";
import type { DockerClient } from "../lib/docker/client.ts";
import type { Dispatcher } from "../lib/sysctl/dispatch.ts";
import type { SessionStreams } from "../lib/auth/streams.ts";
import type { LoginThrottle } from "../lib/auth/throttle.ts";
import type { EventsHub } from "../lib/docker/events.ts";
import type { StatsHub } from "../lib/docker/stats.ts";
import type { EnvironmentRegistry } from "../lib/environments/registry.ts";

/** First-run state: the one-time token that /setup requires while no user exists. */
export interface SetupState {
  token: string | undefined;
}

/** What the app needs from the outside world; main.ts and tests build it. */
export interface AppDeps {
  config: Config;
  db: Db;
  docker: DockerClient;
  /** The AES-256-GCM key for stored secrets (lib/secrets.ts). */
  secretKey: CryptoKey;
  dispatcher: Dispatcher;
  /** The one shared Engine /events subscription. */
  events: EventsHub;
  /** At most one upstream stats stream per container, shared by every subscriber. */
  stats: StatsHub;
  streams: SessionStreams;
  throttle: LoginThrottle;
  setup: SetupState;
  /** Aborted when the server shuts down: long-lived streams close on it. */
  shutdown: AbortSignal;
  log: (message: string) => void;
  /**
   * The other Engines (lib/environments). createApp makes one (closed with `shutdown`) when
   * none is given; tests give one with short timers.
   */
  environments?: EnvironmentRegistry;
}
