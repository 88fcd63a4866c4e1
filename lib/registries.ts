/**
 * Saved image registry credentials. Passwords are sealed with lib/secrets.ts, bound to their
 * row as `image_registries:<id>`; nothing here returns a password except `credentialsFor`,
 * which the Engine calls need. Credentials match their registry by exact normalised address
 * only, so they are never sent to another registry.
 */
import type { Db } from "./db/db.ts";
import { ValidationError } from "./errors.ts";
import { openSecret, seal } from "./secrets.ts";

/** What the panel may show about a saved registry: never the password or anything derived. */
export interface RegistrySummary {
  id: number;
  server_address: string;
  username: string;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface RegistryInput {
  server_address: string;
  username: string;
  /** Required when adding; when omitted on an update the stored password is kept. */
  password?: string;
}

/** The Engine's AuthConfig shape (X-Registry-Auth). */
export interface RegistryCredentials {
  username: string;
  password: string;
  serveraddress: string;
}

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io"]);
const SUMMARY_COLUMNS = "id, server_address, username, created_at, updated_at, last_used_at";

/**
 * Reduces a registry address to `host[:port]`: drops an http(s) scheme and one trailing slash,
 * lowercases the host and maps Docker Hub's aliases to `docker.io`. Anything else (a path,
 * user info, whitespace, a bad port or host name) is a ValidationError.
 */
export function normaliseServerAddress(input: string): string {
  const fail = (why: string): never => {
    throw new ValidationError(`Registry address ${why}`, "server_address");
  };
  if (typeof input !== "string" || input === "") fail("is required");
  // deno-lint-ignore no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(input)) fail("must not contain spaces or control characters");
  const scheme = input.match(/^([a-z][a-z0-9+.-]*):\/\//i)?.[1];
  if (scheme && !/^https?$/i.test(scheme)) fail(`must use http or https, not ${scheme}://`);
  let address = input.replace(/^https?:\/\//i, "");
  if (address.endsWith("/")) address = address.slice(0, -1);
  if (address === "") fail("has no host");
  if (address.includes("/")) fail("must be a host and optional port, without a path");
  if (address.includes("@")) fail("must not contain a user name (use the username field)");
  if (/[?#\\]/.test(address)) fail("must be a host and optional port only");

  let host: string;
  let port: string | undefined;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end === -1) fail("has an unclosed IPv6 bracket");
    host = canonicalIpv6(address.slice(1, end)) ?? fail("has an invalid IPv6 address");
    const rest = address.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) fail("has unexpected text after the IPv6 address");
      port = rest.slice(1);
    }
  } else {
    const parts = address.split(":");
    if (parts.length > 2) fail("must write an IPv6 address in brackets, like [::1]:5000");
    host = parts[0].toLowerCase();
    port = parts[1];
    if (!validHost(host)) fail(`has an invalid host name "${host}"`);
  }
  if (port !== undefined) {
    if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
      fail("has an invalid port (use a number from 1 to 65535)");
    }
    return `${host}:${port}`;
  }
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** Where the panel itself listens (its --listen), so it is never taken for a registry. */
export interface PanelAddress {
  hostname: string;
  port: number;
}

/** Docker daemon TCP ports: asking the Engine to "log in" there talks to a Docker API. */
const DOCKER_DAEMON_PORTS = new Set([2375, 2376]);

type AddressKind = "loopback" | "link-local" | "unspecified" | "multicast" | "broadcast" | "other";

function ipv4Kind(host: string): AddressKind | undefined {
  const match = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!match) return undefined;
  const [a, b, c, d] = match.slice(1).map(Number);
  if (a === 0) return "unspecified";
  if (a === 127) return "loopback";
  if (a === 169 && b === 254) return "link-local";
  if (a >= 224 && a <= 239) return "multicast";
  if (a === 255 && b === 255 && c === 255 && d === 255) return "broadcast";
  return "other";
}

/** The eight 16-bit groups of a canonical IPv6 address (as URL writes it), or undefined. */
function ipv6Groups(host: string): number[] | undefined {
  if (!host.includes(":")) return undefined;
  let text = host;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4[2].split(".").map(Number);
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return undefined;
  const parse = (part: string | undefined) =>
    (part ? part.split(":") : []).map((g) => parseInt(g, 16));
  const first = parse(head);
  const last = parse(tail);
  const groups = tail === undefined
    ? first
    : [...first, ...Array(8 - first.length - last.length).fill(0), ...last];
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

function hostKind(host: string): AddressKind {
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  const v4 = ipv4Kind(host);
  if (v4) return v4;
  const groups = ipv6Groups(host.replace(/^\[|\]$/g, ""));
  if (!groups) return "other";
  // IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address it is.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return ipv4Kind(
      [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join("."),
    )!;
  }
  if (groups.every((g) => g === 0)) return "unspecified";
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "loopback";
  if ((groups[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((groups[0] & 0xff00) === 0xff00) return "multicast";
  return "other";
}

/**
 * Why a normalised registry address (`host[:port]`) must not be used, or undefined. The
 * Engine would send a login request there: link-local addresses (cloud metadata services),
 * unspecified, multicast and broadcast ones are never registries, a Docker daemon port on
 * this host is a Docker API, and the panel's own address is the panel. A registry on the
 * loopback interface on another port is allowed (a registry beside the Engine is common).
 */
export function registryAddressProblem(
  address: string,
  panel?: PanelAddress,
): string | undefined {
  const bracketed = address.match(/^\[([^\]]+)\](?::(\d+))?$/);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : [address.split(":")[0], address.split(":")[1]];
  const port = portText === undefined ? undefined : Number(portText);
  const kind = hostKind(host.toLowerCase());
  switch (kind) {
    case "link-local":
      return `${address} is a link-local address (where cloud metadata services answer), not a registry`;
    case "unspecified":
      return `${address} is an unspecified address (0.0.0.0 or ::), not a registry`;
    case "multicast":
      return `${address} is a multicast address, not a registry`;
    case "broadcast":
      return `${address} is the broadcast address, not a registry`;
  }
  if (kind === "loopback" && port !== undefined && DOCKER_DAEMON_PORTS.has(port)) {
    return `${address} is a Docker daemon port (2375/2376) on this host, not a registry`;
  }
  if (panel) {
    // Without a port the Engine tries HTTPS (443) and, for local registries, HTTP (80).
    const ports = port === undefined ? [443, 80] : [port];
    const panelHost = panel.hostname.toLowerCase().replace(/^\[|\]$/g, "");
    const panelKind = hostKind(panelHost);
    const samePlace =
      kind === "loopback" && (panelKind === "loopback" || panelKind === "unspecified") ||
      host.toLowerCase() === panelHost ||
      (panelKind === "unspecified" && (ipv4Kind(host) !== undefined || host.includes(":")));
    if (samePlace && ports.includes(panel.port)) {
      return `${address} is the panel's own address, not a registry`;
    }
  }
  return undefined;
}

/** Throws a 400 when registryAddressProblem finds one. */
export function checkRegistryAddress(address: string, panel?: PanelAddress): string {
  const problem = registryAddressProblem(address, panel);
  if (problem) throw new ValidationError(`Registry address ${problem}`, "server_address");
  return address;
}

function validHost(host: string): boolean {
  if (/^[0-9.]+$/.test(host)) {
    const octets = host.split(".");
    return octets.length === 4 &&
      octets.every((octet) => /^(0|[1-9][0-9]{0,2})$/.test(octet) && Number(octet) <= 255);
  }
  if (host.length > 253) return false;
  return host.split(".").every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

/** `[compressed form]` of a valid IPv6 address, or undefined. Zone ids are refused. */
function canonicalIpv6(text: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname;
  } catch {
    return undefined;
  }
}

function validateUsername(username: unknown): string {
  if (typeof username !== "string" || username.length === 0) {
    throw new ValidationError("Username is required", "username");
  }
  if (username.length > 255) {
    throw new ValidationError("Username must be at most 255 characters", "username");
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(username)) {
    throw new ValidationError("Username must not contain control characters", "username");
  }
  // Basic authentication splits user:password at the first colon.
  if (username.includes(":")) {
    throw new ValidationError("Username must not contain a colon", "username");
  }
  return username;
}

function validatePassword(password: unknown): string {
  if (typeof password !== "string" || password.length === 0) {
    throw new ValidationError("Password is required", "password");
  }
  if (password.length > 4096) {
    throw new ValidationError("Password must be at most 4096 characters", "password");
  }
  return password;
}

function associatedData(id: number): string {
  return `image_registries:${id}`;
}

export function listRegistries(db: Db): RegistrySummary[] {
  const rows = db.prepare(
    `SELECT ${SUMMARY_COLUMNS} FROM image_registries ORDER BY server_address`,
  ).all();
  return rows.map((row) => ({ ...row }) as unknown as RegistrySummary);
}

/** The saved registry for an address (normalised first), without its password. */
export function findRegistry(db: Db, serverAddress: string): RegistrySummary | undefined {
  return findByAddress(db, normaliseServerAddress(serverAddress));
}

function findByAddress(db: Db, address: string): RegistrySummary | undefined {
  const row = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM image_registries WHERE server_address = ?`)
    .get(address);
  return row ? ({ ...row } as unknown as RegistrySummary) : undefined;
}

/** Ids picked by inserts still sealing in this process, so concurrent inserts pick different ones. */
const reservedIds = new WeakMap<Db, Set<number>>();

function reserveId(db: Db): number {
  let reserved = reservedIds.get(db);
  if (!reserved) reservedIds.set(db, reserved = new Set());
  const row = db.prepare("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM image_registries").get() as {
    id: number;
  };
  let id = Number(row.id);
  while (reserved.has(id)) id++;
  reserved.add(id);
  return id;
}

function idTaken(db: Db, id: number): boolean {
  return db.prepare("SELECT 1 FROM image_registries WHERE id = ?").get(id) !== undefined;
}

/**
 * Adds the registry, or updates the one with the same normalised address. The password is
 * sealed (WebCrypto is asynchronous) for the row id it will have before any transaction
 * opens, then written in one synchronous BEGIN IMMEDIATE transaction that first re-checks
 * that id; if a concurrent upsert or delete changed it meanwhile, it seals again. No row is
 * ever visible without its final password, and nothing is half-written on failure.
 */
export async function upsertRegistry(
  db: Db,
  key: CryptoKey,
  input: RegistryInput,
): Promise<RegistrySummary> {
  const address = checkRegistryAddress(normaliseServerAddress(input.server_address));
  const username = validateUsername(input.username);
  const password = input.password === undefined ? undefined : validatePassword(input.password);

  for (let attempt = 0; attempt < 10; attempt++) {
    const existing = findByAddress(db, address);
    if (!existing && password === undefined) {
      throw new ValidationError("Password is required for a new registry", "password");
    }
    const id = existing?.id ?? reserveId(db);
    try {
      const sealed = password === undefined
        ? undefined
        : await seal(key, password, associatedData(id));
      const saved = writeRegistry(db, { id, existing: !!existing, address, username, sealed });
      if (saved) return saved;
    } finally {
      if (!existing) reservedIds.get(db)?.delete(id);
    }
  }
  throw new Error(`Registry ${address} kept changing while saving it; try again`);
}

/**
 * One synchronous transaction: re-checks that `id` is still the right row for `address`
 * (another upsert or a delete may have run while sealing), then writes. Undefined means
 * "changed meanwhile, seal again".
 */
function writeRegistry(
  db: Db,
  row: {
    id: number;
    existing: boolean;
    address: string;
    username: string;
    sealed: Uint8Array | undefined;
  },
): RegistrySummary | undefined {
  const { id, address, username, sealed } = row;
  const now = new Date().toISOString();
  db.exec("BEGIN IMMEDIATE");
  try {
    const current = findByAddress(db, address);
    const stillValid = row.existing ? current?.id === id : !current && !idTaken(db, id);
    if (!stillValid) {
      db.exec("ROLLBACK");
      return undefined;
    }
    if (row.existing && sealed) {
      db.prepare(
        "UPDATE image_registries SET username = ?, password_sealed = ?, updated_at = ? WHERE id = ?",
      ).run(username, sealed, now, id);
    } else if (row.existing) {
      db.prepare("UPDATE image_registries SET username = ?, updated_at = ? WHERE id = ?")
        .run(username, now, id);
    } else {
      db.prepare(
        `INSERT INTO image_registries
           (id, server_address, username, password_sealed, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(id, address, username, sealed!, now, now);
    }
    const saved = findByAddress(db, address)!;
    db.exec("COMMIT");
    return saved;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Deletes the registry with this id; returns what it was (for the audit row), or undefined. */
export function deleteRegistry(db: Db, id: number): RegistrySummary | undefined {
  const row = db.prepare(`DELETE FROM image_registries WHERE id = ? RETURNING ${SUMMARY_COLUMNS}`)
    .get(id);
  return row ? ({ ...row } as unknown as RegistrySummary) : undefined;
}

/**
 * What an audit row's target should say for a registry id from a URL: its server address
 * when there is such a registry, else the id as given (the handler then refuses it).
 */
export function registryTarget(db: Db, id: string): string {
  const row = /^[1-9][0-9]{0,15}$/.test(id)
    ? db.prepare("SELECT server_address FROM image_registries WHERE id = ?").get(Number(id)) as
      | { server_address: string }
      | undefined
    : undefined;
  return row?.server_address ?? id.slice(0, 200);
}

/**
 * Credentials for exactly this registry (after normalisation), or undefined when none are
 * saved. Throws SecretOpenError when the stored password does not open.
 */
export async function credentialsFor(
  db: Db,
  key: CryptoKey,
  serverAddress: string,
): Promise<RegistryCredentials | undefined> {
  const address = normaliseServerAddress(serverAddress);
  const row = db.prepare(
    "SELECT id, username, password_sealed FROM image_registries WHERE server_address = ?",
  ).get(address) as { id: number; username: string; password_sealed: Uint8Array } | undefined;
  if (!row) return undefined;
  const password = await openSecret(key, row.password_sealed, associatedData(Number(row.id)));
  return { username: row.username, password, serveraddress: address };
}

export function markRegistryUsed(db: Db, id: number): void {
  db.prepare("UPDATE image_registries SET last_used_at = ? WHERE id = ?")
    .run(new Date().toISOString(), id);
}
