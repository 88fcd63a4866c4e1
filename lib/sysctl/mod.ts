/** Builds the panel's dispatcher with every verb handler this build has. */
import type { Db } from "../db/db.ts";
import type { DockerClient } from "../docker/client.ts";
import type { SessionStreams } from "../auth/streams.ts";
import type { PanelAddress } from "../registries.ts";
import { createDispatcher, type Dispatcher } from "./dispatch.ts";
import { authHandlers } from "./handlers/auth.ts";
import { userHandlers } from "./handlers/users.ts";
import { containerHandlers } from "./handlers/containers.ts";
import { imageHandlers } from "./handlers/images.ts";
import { execHandlers } from "./handlers/exec.ts";
import { composeHandlers } from "./handlers/compose.ts";
import { composeFileHandlers } from "./handlers/compose_files.ts";
import { buildHandlers } from "../compose/build.ts";
import { volumeHandlers } from "./handlers/volumes.ts";
import { networkHandlers } from "./handlers/networks.ts";
import { DEFAULT_UPDATE_CHECK_INTERVAL_MS, updateHandlers } from "../updates/handler.ts";
import { updateApplyHandlers } from "../updates/apply.ts";
import { stackUpdateHandlers } from "../updates/stack.ts";
import { createProjectLocks } from "../compose/lock.ts";
import { swarmHandlers } from "./handlers/swarm.ts";
import { swarmStackHandlers } from "./handlers/swarm_stacks.ts";
import { environmentHandlers } from "../environments/handlers.ts";
import { webhookHandlers } from "../webhooks/handlers.ts";
import { imageRegistryHandlers } from "../registry/image_handlers.ts";
import { createWebhookNotifier } from "../webhooks/deliver.ts";

export function createPanelDispatcher(
  deps: {
    db: Db;
    docker: DockerClient;
    streams: SessionStreams;
    managedLabel: string;
    secretKey: CryptoKey;
    log: (message: string) => void;
    dataDir: string;
    /** `--stacks-dir`: one folder per compose project. */
    stacksDir: string;
    /** The panel's --listen address (a registry address may not point back at it). */
    listen: PanelAddress;
    /** --update-check-interval: how long scheduled update checks reuse registry answers. */
    updateCheckIntervalMs?: number;
    /** The environment the audit rows name; "local" when not given. */
    environment?: string;
  },
): Dispatcher {
  // One lock per compose project, for every verb that mutates one.
  const projectLocks = createProjectLocks();
  const webhooks = createWebhookNotifier({
    db: deps.db,
    secretKey: deps.secretKey,
    log: deps.log,
    panel: deps.listen,
  });
  // Compose deploys (and runs of an absent image) dispatch further verbs themselves.
  const dispatcher: Dispatcher = createDispatcher(deps.db, {
    ...authHandlers(deps.db, deps.streams),
    ...userHandlers(deps.db, deps.streams),
    ...containerHandlers(deps.docker, () => dispatcher),
    ...imageHandlers(deps.db, deps.docker, deps.secretKey, deps.listen),
    ...execHandlers(deps.docker, deps.log),
    ...composeHandlers(deps.docker, deps.stacksDir, () => dispatcher, projectLocks),
    ...composeFileHandlers(deps.stacksDir),
    ...buildHandlers(deps.docker, deps.stacksDir),
    ...volumeHandlers(deps.docker),
    ...networkHandlers(deps.docker),
    ...swarmHandlers(deps.docker),
    ...updateHandlers({
      db: deps.db,
      docker: deps.docker,
      secretKey: deps.secretKey,
      listen: deps.listen,
      cacheMs: deps.updateCheckIntervalMs ?? DEFAULT_UPDATE_CHECK_INTERVAL_MS,
      dispatcher: () => dispatcher,
      locks: projectLocks,
      notify: webhooks.notify,
    }),
    ...imageRegistryHandlers(deps.db, deps.docker, deps.secretKey),
    ...webhookHandlers({ db: deps.db, secretKey: deps.secretKey, listen: deps.listen }),
    ...environmentHandlers(deps.db, deps.secretKey),
    ...updateApplyHandlers({ docker: deps.docker, dispatcher: () => dispatcher }),
    ...swarmStackHandlers(deps.docker, deps.stacksDir),
    ...stackUpdateHandlers({
      docker: deps.docker,
      dispatcher: () => dispatcher,
      locks: projectLocks,
    }),
  }, { log: deps.log, environment: deps.environment ?? "local" });
  return dispatcher;
}

export type { Actor, Dispatcher, Verb } from "./dispatch.ts";
