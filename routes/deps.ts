import type { Config } from "../lib/config.ts";
import type { Db } from "../lib/db/db.ts";
import type { DockerClient } from "../lib/docker/client.ts";

/** What the app needs from the outside world; main.ts and tests build it. */
export interface AppDeps {
  config: Config;
  db: Db;
  docker: DockerClient;
  /** Aborted when the server shuts down: long-lived streams close on it. */
  shutdown: AbortSignal;
  log: (message: string) => void;
}
