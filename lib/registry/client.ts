/**
 * A Distribution API v2 client of our own (fetch only): manifests and manifest lists by tag
 * or digest (HEAD and GET, with the Accept headers for the OCI and Docker media types and
 * the Docker-Content-Digest header) and tag lists (paginated through Link headers).
 *
 * Authentication: anonymous first; a 401's WWW-Authenticate challenge says Basic or Bearer.
 * Basic sends the credentials saved for exactly this registry (lib/registries.ts); Bearer
 * asks the challenge's realm for a token (scope repository:<name>:pull), sending those
 * credentials only when the realm is the registry itself, is https, or is on the loopback
 * interface: a realm elsewhere over plain http would expose the password on the way, so it
 * is asked anonymously. The token goes only to the registry; redirects keep an
 * Authorization header only on the registry's own origin. What a registry wants is
 * remembered, so later requests authenticate up front (one request per answer); tokens are
 * kept until they expire.
 *
 * A 429 (or a 503 with Retry-After) blocks that registry until the time it names (a minute
 * when it names none): requests to it fail at once as rate limited, without touching the
 * network. Every address is checked first: link-local (metadata services), unspecified,
 * multicast and broadcast hosts and the panel's own address are never contacted.
 */
import { type PanelAddress, registryAddressProblem } from "../registries.ts";
import { DEFAULT_DOMAIN, type ImageReference, parseReference } from "../docker/reference.ts";
import { RegistryError } from "./errors.ts";
import { type Challenge, parseWwwAuthenticate } from "./www_authenticate.ts";
import { readJson, readLimited, sha256Digest } from "./body.ts";

export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
] as const;
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set(MANIFEST_MEDIA_TYPES.slice(0, 2));

const MANIFEST_LIMIT = 4 * 1024 * 1024;
const TAGS_PAGE_LIMIT = 4 * 1024 * 1024;
const TOKEN_LIMIT = 256 * 1024;
const MAX_TAG_PAGES = 50;
const MAX_REDIRECTS = 3;
const DEFAULT_BLOCK_MS = 60_000;
const MAX_BLOCK_MS = 24 * 3_600_000;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export interface BasicCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** The credentials saved for exactly this registry address (normalised), if any. */
  credentials: (address: string) => Promise<BasicCredentials | undefined>;
  /** The panel's own --listen address: never contacted as a registry. */
  panel?: PanelAddress;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
}

export interface Manifest extends ManifestHead {
  /** The parsed manifest or index. */
  body: {
    mediaType?: string;
    manifests?: {
      mediaType?: string;
      digest: string;
      platform?: { os?: string; architecture?: string; variant?: string };
    }[];
    config?: { digest?: string };
  };
}

export interface RegistryClient {
  headManifest(reference: string): Promise<ManifestHead>;
  getManifest(reference: string): Promise<Manifest>;
  /** Every tag of the reference's repository (all pages). */
  listTags(reference: string): Promise<string[]>;
  /**
   * One page of a registry's repositories (`/v2/_catalog?n=&last=`), with the `last` to
   * ask for the next page when the registry says there is one.
   */
  catalog(domain: string, page?: { n?: number; last?: string }): Promise<CatalogPage>;
}

export interface CatalogPage {
  repositories: string[];
  next?: string;
}

interface RegistryState {
  /** Learnt from the last challenge: what to send up front. */
  scheme?: "basic" | "bearer";
  bearer?: { realm: string; service?: string };
  /** The token realm's host when the saved credentials were withheld from it. */
  withheldFrom?: string;
  tokens: Map<string, { token: string; expiresAt: number }>;
  blockedUntil?: number;
}

/** `host[:port]` is on the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === "::1" || host === "::ffff:127.0.0.1" || /^::ffff:7f[0-9a-f]{2}:/.test(host);
}

/** The API base URL for a registry domain: Docker Hub's API host; http on loopback only. */
export function registryBaseUrl(domain: string): string {
  if (domain === DEFAULT_DOMAIN) return "https://registry-1.docker.io";
  const hostname = domain.startsWith("[")
    ? domain.slice(0, domain.indexOf("]") + 1)
    : domain.split(":")[0];
  return `${isLoopbackHost(hostname) ? "http" : "https"}://${domain}`;
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const states = new Map<string, RegistryState>();

  const stateOf = (domain: string) => {
    let state = states.get(domain);
    if (!state) states.set(domain, state = { tokens: new Map() });
    return state;
  };

  function checkAddress(address: string) {
    const problem = registryAddressProblem(address, options.panel);
    if (problem) throw new RegistryError("refused", `Registry address ${problem}`);
  }

  async function credentialsOf(domain: string): Promise<BasicCredentials | undefined> {
    try {
      return await options.credentials(domain);
    } catch {
      throw new RegistryError(
        "unauthorised",
        `The saved password for ${domain} cannot be decrypted; enter it again`,
      );
    }
  }

  /** One fetch with a timeout, following redirects by hand (auth only on `origin`). */
  async function fetchOnce(
    url: URL,
    init: { method: string; headers: Headers },
    origin: string,
  ): Promise<Response> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = new Headers(init.headers);
      if (current.origin !== origin) headers.delete("authorization");
      let response: Response;
      try {
        response = await doFetch(current, {
          method: init.method,
          headers,
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const why = error instanceof DOMException && error.name === "TimeoutError"
          ? `no answer within ${timeoutMs / 1000} s`
          : error instanceof Error
          ? error.message
          : String(error);
        throw new RegistryError("unreachable", `Cannot reach ${current.host}: ${why}`);
      }
      if (response.status < 300 || response.status >= 400 || response.status === 304) {
        return response;
      }
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) return response;
      const next = new URL(location, current);
      if (!/^https?:$/.test(next.protocol)) {
        throw new RegistryError("bad_response", `${current.host} redirected to a non-HTTP URL`);
      }
      checkAddress(next.host);
      current = next;
    }
    throw new RegistryError("bad_response", `${url.host} redirected too many times`);
  }

  function blockFor(state: RegistryState, domain: string, response: Response): RegistryError {
    const header = response.headers.get("retry-after");
    let waitMs = DEFAULT_BLOCK_MS;
    if (header && /^\d{1,9}$/.test(header.trim())) {
      waitMs = Number(header.trim()) * 1000;
    } else if (header && !Number.isNaN(Date.parse(header))) {
      waitMs = Date.parse(header) - now();
    }
    waitMs = Math.min(Math.max(waitMs, 1000), MAX_BLOCK_MS);
    state.blockedUntil = now() + waitMs;
    return rateLimited(domain, state.blockedUntil);
  }

  function rateLimited(domain: string, until: number) {
    return new RegistryError(
      "rate_limited",
      `${domain} is rate limiting requests until ${new Date(until).toISOString()}`,
      until,
    );
  }

  /** Whether credentials may go to this token realm (see the module comment). */
  function realmMayGetCredentials(realm: URL, registryOrigin: string): boolean {
    return realm.origin === registryOrigin || realm.protocol === "https:" ||
      isLoopbackHost(realm.hostname);
  }

  async function fetchToken(
    domain: string,
    state: RegistryState,
    challenge: Challenge,
    scope: string,
    registryOrigin: string,
  ): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? "");
    } catch {
      throw new RegistryError("bad_response", `${domain} named no valid token realm`);
    }
    if (!/^https?:$/.test(realm.protocol) || realm.username || realm.password) {
      throw new RegistryError("bad_response", `${domain} named an unusable token realm`);
    }
    checkAddress(realm.host);
    const service = challenge.params.service;
    const cacheKey = `${realm.href} ${service ?? ""} ${scope}`;
    const cached = state.tokens.get(cacheKey);
    if (cached && cached.expiresAt > now()) return cached.token;

    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    url.searchParams.set("scope", scope);
    const headers = new Headers({ Accept: "application/json" });
    const credentials = await credentialsOf(domain);
    const withheld = credentials !== undefined && !realmMayGetCredentials(realm, registryOrigin);
    if (credentials && !withheld) headers.set("Authorization", basic(credentials));
    const response = await fetchOnce(url, { method: "GET", headers }, realm.origin);
    if (
      response.status === 429 || (response.status === 503 && response.headers.has("retry-after"))
    ) {
      await response.body?.cancel();
      throw blockFor(state, domain, response);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(
        "unauthorised",
        credentials
          ? `The token service ${realm.host} for ${domain} refused the saved credentials`
          : `The token service ${realm.host} for ${domain} needs credentials; none are saved`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryError(
        response.status >= 500 ? "unreachable" : "bad_response",
        `The token service ${realm.host} for ${domain} answered ${response.status}`,
      );
    }
    const body = await readJson<{ token?: unknown; access_token?: unknown; expires_in?: unknown }>(
      response,
      TOKEN_LIMIT,
      `The token from ${realm.host}`,
    );
    const token = typeof body.token === "string"
      ? body.token
      : typeof body.access_token === "string"
      ? body.access_token
      : undefined;
    if (!token || !/^[\x21-\x7e]+$/.test(token)) {
      throw new RegistryError("bad_response", `The token service ${realm.host} sent no token`);
    }
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0
      ? body.expires_in
      : 60;
    // Renewed a little early so it does not expire on the way.
    state.tokens.set(cacheKey, { token, expiresAt: now() + Math.max(seconds - 10, 5) * 1000 });
    if (state.tokens.size > 200) state.tokens.delete(state.tokens.keys().next().value!);
    // Kept for the error message if the anonymous token is not enough.
    state.withheldFrom = withheld ? realm.host : undefined;
    return token;
  }

  /**
   * One registry request on `ref`'s registry with the authentication it wants. Non-2xx
   * answers become RegistryErrors (the body of a 2xx is the caller's to read).
   */
  async function request(
    domain: string,
    scope: string,
    method: "GET" | "HEAD",
    path: string,
    accept: string,
    what: string,
  ): Promise<Response> {
    checkAddress(domain);
    const state = stateOf(domain);
    if (state.blockedUntil !== undefined) {
      if (state.blockedUntil > now()) throw rateLimited(domain, state.blockedUntil);
      state.blockedUntil = undefined;
    }
    const base = new URL(registryBaseUrl(domain));
    const url = new URL(path, base);
    let challenge: Challenge | undefined = state.scheme === "bearer" && state.bearer
      ? { scheme: "bearer", params: bearerParams(state.bearer) }
      : undefined;

    for (let attempt = 0; attempt < 2; attempt++) {
      const headers = new Headers({ Accept: accept, "User-Agent": "container-manager" });
      if (state.scheme === "basic") {
        const credentials = await credentialsOf(domain);
        if (credentials) headers.set("Authorization", basic(credentials));
      } else if (state.scheme === "bearer" && challenge) {
        const token = await fetchToken(domain, state, challenge, scope, base.origin);
        headers.set("Authorization", `Bearer ${token}`);
      }
      const response = await fetchOnce(url, { method, headers }, base.origin);
      if (response.status === 401) {
        await response.body?.cancel();
        const challenges = parseWwwAuthenticate(response.headers.get("www-authenticate"));
        const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
        const basicChallenge = challenges.find((c) => c.scheme === "basic");
        const hadAuth = headers.has("authorization");
        if (bearer) {
          const learnt = state.scheme !== "bearer" || state.bearer?.realm !== bearer.params.realm;
          state.scheme = "bearer";
          state.bearer = { realm: bearer.params.realm, service: bearer.params.service };
          challenge = bearer;
          if (!hadAuth || learnt) continue;
        } else if (basicChallenge) {
          state.scheme = "basic";
          if (!hadAuth && await credentialsOf(domain)) continue;
        }
        throw await unauthorised(domain, hadAuth);
      }
      if (response.status === 403) {
        await response.body?.cancel();
        throw await unauthorised(domain, headers.has("authorization"));
      }
      if (
        response.status === 429 || (response.status === 503 && response.headers.has("retry-after"))
      ) {
        await response.body?.cancel();
        throw blockFor(state, domain, response);
      }
      if (response.status === 404) {
        await response.body?.cancel();
        throw new RegistryError("not_found", `${what} was not found on ${domain}`);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new RegistryError(
          response.status >= 500 ? "unreachable" : "bad_response",
          `${domain} answered ${response.status} for ${what}`,
        );
      }
      return response;
    }
    throw await unauthorised(domain, true);
  }

  async function unauthorised(domain: string, sentAuth: boolean) {
    const saved = await credentialsOf(domain);
    const withheldFrom = stateOf(domain).withheldFrom;
    let message: string;
    if (withheldFrom && saved) {
      message = `${domain} refused access; the saved credentials were not sent to its token ` +
        `service ${withheldFrom} because it is neither https nor on this host`;
    } else if (saved && sentAuth) {
      message = `${domain} refused the saved credentials`;
    } else {
      message = `${domain} needs credentials; none are saved for it`;
    }
    return new RegistryError("unauthorised", message);
  }

  function manifestPath(ref: ImageReference, reference: string) {
    return `/v2/${ref.path}/manifests/${reference}`;
  }

  /** The tag or digest the reference names, validated (parseReference did it already). */
  function target(ref: ImageReference): string {
    return ref.digest ?? ref.tag ?? "latest";
  }

  async function headManifest(reference: string): Promise<ManifestHead> {
    const ref = parseReference(reference);
    const what = `Manifest ${ref.path}:${target(ref)}`;
    const response = await request(
      ref.domain,
      pullScope(ref),
      "HEAD",
      manifestPath(ref, target(ref)),
      MANIFEST_MEDIA_TYPES.join(", "),
      what,
    );
    await response.body?.cancel();
    const digest = response.headers.get("docker-content-digest") ?? "";
    if (!DIGEST_RE.test(digest)) {
      // Some registries leave the header out of HEAD answers: ask with GET.
      const full = await getManifest(reference);
      return { digest: full.digest, mediaType: full.mediaType };
    }
    return { digest, mediaType: mediaTypeOf(response.headers.get("content-type")) };
  }

  async function getManifest(reference: string): Promise<Manifest> {
    const ref = parseReference(reference);
    const what = `Manifest ${ref.path}:${target(ref)}`;
    const response = await request(
      ref.domain,
      pullScope(ref),
      "GET",
      manifestPath(ref, target(ref)),
      MANIFEST_MEDIA_TYPES.join(", "),
      what,
    );
    const headerType = mediaTypeOf(response.headers.get("content-type"));
    const headerDigest = response.headers.get("docker-content-digest");
    const bytes = await readLimited(response, MANIFEST_LIMIT, what);
    const digest = await sha256Digest(new Uint8Array(bytes));
    if (headerDigest && DIGEST_RE.test(headerDigest) && headerDigest !== digest) {
      throw new RegistryError("bad_response", `${what} does not match its digest`);
    }
    if (ref.digest && ref.digest !== digest) {
      throw new RegistryError("bad_response", `${what} does not match the digest asked for`);
    }
    let body: Manifest["body"];
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new RegistryError("bad_response", `${what} is not JSON`);
    }
    if (!body || typeof body !== "object") {
      throw new RegistryError("bad_response", `${what} is not a manifest`);
    }
    return { digest, mediaType: body.mediaType ?? headerType, body };
  }

  return {
    headManifest,
    getManifest,
    async catalog(domain, page = {}) {
      const n = Math.min(Math.max(Math.trunc(page.n ?? 100), 1), 1000);
      const query = new URLSearchParams({ n: String(n) });
      if (page.last !== undefined) query.set("last", page.last);
      const response = await request(
        domain,
        "registry:catalog:*",
        "GET",
        `/v2/_catalog?${query}`,
        "application/json",
        `The repository list of ${domain}`,
      );
      const link = response.headers.get("link");
      const body = await readJson<{ repositories?: unknown }>(
        response,
        TAGS_PAGE_LIMIT,
        `The repository list of ${domain}`,
      );
      const repositories = Array.isArray(body.repositories)
        ? body.repositories.filter((name): name is string => typeof name === "string")
        : [];
      const nextLink = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1];
      const next = nextLink
        ? new URL(nextLink, "http://registry.invalid").searchParams.get("last") ?? undefined
        : undefined;
      return next && repositories.length ? { repositories, next } : { repositories };
    },
    async listTags(reference) {
      const ref = parseReference(reference);
      const tagsPath = `/v2/${ref.path}/tags/list`;
      const tags: string[] = [];
      let path = `${tagsPath}?n=1000`;
      for (let page = 0; page < MAX_TAG_PAGES; page++) {
        const response = await request(
          ref.domain,
          pullScope(ref),
          "GET",
          path,
          "application/json",
          `Tags of ${ref.path}`,
        );
        const link = response.headers.get("link");
        const body = await readJson<{ tags?: unknown }>(
          response,
          TAGS_PAGE_LIMIT,
          `Tags of ${ref.path}`,
        );
        if (Array.isArray(body.tags)) {
          for (const tag of body.tags) if (typeof tag === "string") tags.push(tag);
        }
        const next = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/)?.[1];
        if (!next) return tags;
        // Only the same repository's tag list on the same registry is followed.
        const base = new URL(registryBaseUrl(ref.domain));
        const url = new URL(next, new URL(path, base));
        if (url.origin !== base.origin || url.pathname !== tagsPath) return tags;
        path = `${url.pathname}${url.search}`;
      }
      return tags;
    },
  };
}

function pullScope(ref: ImageReference): string {
  return `repository:${ref.path}:pull`;
}

function bearerParams(bearer: { realm: string; service?: string }): Record<string, string> {
  return bearer.service
    ? { realm: bearer.realm, service: bearer.service }
    : { realm: bearer.realm };
}

function basic(credentials: BasicCredentials): string {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim();
}
