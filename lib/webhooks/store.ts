/**
 * Webhook receivers (migration 7). A receiver's optional secret is sealed with
 * lib/secrets.ts, bound to its row as `webhooks:<id>`, and only ever used to sign
 * deliveries; nothing here returns it.
 */
import type { Db } from "../db/db.ts";
import { HttpError, ValidationError } from "../errors.ts";
import { type PanelAddress, registryAddressProblem } from "../registries.ts";
import { openSecret, seal } from "../secrets.ts";

export interface WebhookSummary {
  id: string;
  url: string;
  has_secret: boolean;
  created_at: string;
  created_by: string;
}

export interface Webhook extends WebhookSummary {
  secret?: string;
}

const MAX_URL = 2048;
const MAX_SECRET = 256;
const MAX_WEBHOOKS = 50;

/** An absolute http(s) URL without user info, not pointing at a place no receiver is. */
export function checkWebhookUrl(input: unknown, panel?: PanelAddress): URL {
  if (typeof input !== "string" || input === "") {
    throw new ValidationError("url is required", "url");
  }
  // deno-lint-ignore no-control-regex
  if (input.length > MAX_URL || /[\s\x00-\x1f\x7f]/.test(input)) {
    throw new ValidationError(
      `url must be at most ${MAX_URL} characters without spaces`,
      "url",
    );
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ValidationError("url is not a valid URL", "url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValidationError("url must be http:// or https://", "url");
  }
  if (url.username || url.password) {
    throw new ValidationError("url must not contain a user name or password", "url");
  }
  if (url.hash) throw new ValidationError("url must not contain a #fragment", "url");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const problem = registryAddressProblem(`${url.hostname}:${port}`, panel);
  if (problem) {
    throw new ValidationError(`url: ${problem.replace(/, not a registry$/, "")}`, "url");
  }
  return url;
}

/** The URL as audit rows and errors show it: origin only (paths often carry tokens). */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

function checkSecret(input: unknown): string | undefined {
  if (input === undefined || input === null || input === "") return undefined;
  if (typeof input !== "string" || input.length > MAX_SECRET || !/^[\x20-\x7e]+$/.test(input)) {
    throw new ValidationError(
      `secret must be printable ASCII, at most ${MAX_SECRET} characters`,
      "secret",
    );
  }
  return input;
}

interface Row {
  id: string;
  url: string;
  secret_sealed: Uint8Array | null;
  created_at: string;
  created_by: string;
}

function summary(row: Row): WebhookSummary {
  return {
    id: row.id,
    url: row.url,
    has_secret: row.secret_sealed !== null,
    created_at: row.created_at,
    created_by: row.created_by,
  };
}

export function listWebhooks(db: Db): WebhookSummary[] {
  const rows = db.prepare("SELECT * FROM webhooks ORDER BY created_at, id").all();
  return rows.map((row) => summary(row as unknown as Row));
}

export function findWebhook(db: Db, id: string): WebhookSummary | undefined {
  const row = db.prepare("SELECT * FROM webhooks WHERE id = ?").get(id);
  return row ? summary(row as unknown as Row) : undefined;
}

export async function addWebhook(
  db: Db,
  key: CryptoKey,
  input: { url: unknown; secret?: unknown; createdBy: string; panel?: PanelAddress },
): Promise<WebhookSummary> {
  const url = checkWebhookUrl(input.url, input.panel).href;
  const secret = checkSecret(input.secret);
  const id = crypto.randomUUID();
  const sealed = secret === undefined ? null : await seal(key, secret, `webhooks:${id}`);
  const now = new Date().toISOString();
  db.exec("BEGIN IMMEDIATE");
  try {
    const count = db.prepare("SELECT COUNT(*) AS n FROM webhooks").get() as { n: number };
    if (Number(count.n) >= MAX_WEBHOOKS) {
      throw new HttpError(409, `At most ${MAX_WEBHOOKS} webhooks can be configured`);
    }
    const duplicate = db.prepare("SELECT 1 FROM webhooks WHERE url = ?").get(url);
    if (duplicate) throw new HttpError(409, "A webhook with this URL is configured already");
    db.prepare(
      "INSERT INTO webhooks (id, url, secret_sealed, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
    ).run(id, url, sealed, now, input.createdBy.slice(0, 200));
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
  return findWebhook(db, id)!;
}

export function removeWebhook(db: Db, id: string): WebhookSummary {
  const found = findWebhook(db, id);
  if (!found) throw new HttpError(404, "No such webhook");
  db.prepare("DELETE FROM webhooks WHERE id = ?").run(id);
  return found;
}

/** Every webhook with its secret opened, for delivery; a secret that cannot be opened is left out. */
export async function webhooksForDelivery(
  db: Db,
  key: CryptoKey,
): Promise<(Webhook & { secretError?: boolean })[]> {
  const rows = db.prepare("SELECT * FROM webhooks ORDER BY created_at, id")
    .all() as unknown as Row[];
  return await Promise.all(rows.map(async (row) => {
    if (row.secret_sealed === null) return summary(row);
    try {
      return {
        ...summary(row),
        secret: await openSecret(key, new Uint8Array(row.secret_sealed), `webhooks:${row.id}`),
      };
    } catch {
      return { ...summary(row), secretError: true };
    }
  }));
}
