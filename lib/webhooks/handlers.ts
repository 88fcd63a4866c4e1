/**
 * webhook.add and webhook.remove (admins). The URL and secret travel as the dispatch's
 * attachment, never in its params: the audit row names only the receiver's origin.
 */
import type { Db } from "../db/db.ts";
import { ValidationError } from "../errors.ts";
import type { PanelAddress } from "../registries.ts";
import type { Handlers } from "../sysctl/dispatch.ts";
import { addWebhook, removeWebhook, webhookOrigin } from "./store.ts";

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function webhookHandlers(deps: {
  db: Db;
  secretKey: CryptoKey;
  listen?: PanelAddress;
}): Handlers {
  return {
    "webhook.add": async ({ attachment, actor }) => {
      const input = (attachment ?? {}) as { url?: unknown; secret?: unknown };
      const added = await addWebhook(deps.db, deps.secretKey, {
        url: input.url,
        secret: input.secret,
        createdBy: actor.username,
        panel: deps.listen,
      });
      // What the audit row keeps: the receiver's origin, not its path.
      return { id: added.id, origin: webhookOrigin(added.url), has_secret: added.has_secret };
    },
    "webhook.remove": ({ params }) => {
      const id = params.id;
      if (typeof id !== "string" || !ID_RE.test(id)) {
        throw new ValidationError("Not a webhook id", "id");
      }
      const removed = removeWebhook(deps.db, id);
      return Promise.resolve({ id: removed.id, origin: webhookOrigin(removed.url) });
    },
  };
}
