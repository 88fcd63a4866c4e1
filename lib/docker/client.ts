/**
 * The Docker Engine API transport: fetch over the Unix socket (or TCP), API version
 * negotiation, timeouts, and daemon errors turned into DockerError.
 *
 * Callers pass a path built from validated parts (lib/docker/validate.ts) and a query
 * object; the query string is always built with URLSearchParams here.
 */
import type { DockerHost } from "../config.ts";
import { DockerError, DockerTimeoutError, DockerUnreachableError } from "./errors.ts";
import { hijack, type HijackedStream } from "./hijack.ts";

/** The newest API version this client speaks; older daemons are spoken to in theirs. */
export const MAX_API_VERSION = "1.45";
/** The oldest one it accepts. 1.41 is Docker 20.10. */
export const MIN_API_VERSION = "1.41";
const DEFAULT_TIMEOUT_MS = 30_000;
/** Idle keep-alive connections kept to a Unix-socket Engine. */
export const MAX_IDLE_CONNECTIONS = 4;
const VERSION_TIMEOUT_MS = 5_000;

/** Query parameters; an array value repeats the key (the Engine's `changes`, for example). */
export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (a tar stream, for example). */
  body?: BodyInit;
  headers?: HeadersInit;
  /** For non-streaming calls; default 30 s. Ignored once a streaming response has begun. */
  timeoutMs?: number;
  /** A streaming call: the timeout covers only the wait for the response headers. */
  stream?: boolean;
  signal?: AbortSignal;
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
}

export interface DockerClient {
  /** Human-readable endpoint, e.g. `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  /** A raw response (2xx only); the caller consumes or cancels its body. */
  request(method: string, path: string, options?: RequestOptions): Promise<Response>;
  /** A 2xx JSON response, parsed. An empty body gives `undefined`. */
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** `GET /version`, unversioned. Also (re)negotiates the API version. */
  version(): Promise<EngineVersion>;
  /** The negotiated API version, negotiating first if needed. */
  apiVersion(): Promise<string>;
  /** A raw hijacked stream for `POST path` (exec start, attach). */
  hijack(path: string, json: unknown): Promise<HijackedStream>;
  /**
   * A count of this client's writes (every method but GET and HEAD, and hijacks) that moves
   * when one begins and again when it ends. A list kept from the events stream compares it to
   * know the panel may have changed something whose events have not arrived yet.
   */
  writes(): number;
  close(): void;
}

/**
 * An Engine over TCP with mutual TLS (`dockerd --tlsverify`): the CA that signed the
 * daemon's certificate, and the client certificate and key the daemon checks. PEM texts.
 */
export interface TlsHost {
  kind: "tls";
  hostname: string;
  port: number;
  ca: string;
  cert: string;
  key: string;
}

/** Where an Engine listens: --docker-host's kinds, or TCP with mutual TLS. */
export type EngineHost = DockerHost | TlsHost;

export interface ClientOptions {
  /** Replaces the global fetch; tests use it to count requests. */
  fetch?: typeof fetch;
}

export function createDockerClient(host: EngineHost, options: ClientOptions = {}): DockerClient {
  const endpoint = host.kind === "unix"
    ? `unix://${host.path}`
    : `tcp://${host.hostname}:${host.port}`;
  // An address literal, never a name: Deno's fetch resolves the URL's host for every new
  // connection even through a Unix socket, and a burst of such lookups (a table opening 100
  // stats streams) stalled in the system resolver for 5 s at a time, starving every call.
  const baseUrl = host.kind === "unix"
    ? "http://127.0.0.1"
    : `${host.kind === "tls" ? "https" : "http"}://${host.hostname}:${host.port}`;
  // Both pools speak the same transport: the socket, or TLS with the client certificate.
  const transport = host.kind === "unix"
    ? { proxy: { transport: "unix" as const, path: host.path } }
    : host.kind === "tls"
    ? { caCerts: [host.ca], cert: host.cert, key: host.key }
    : {};
  // Two pools: long-lived streams (stats, events, logs, progress) hold their connection for
  // as long as they run, so they never share a pool with the short calls. The short pool
  // keeps a few idle connections; busy moments open more, which close again instead of
  // lingering (the exec test counts file descriptors). A stream's connection is never kept.
  const shortClient = Deno.createHttpClient({
    ...transport,
    poolMaxIdlePerHost: MAX_IDLE_CONNECTIONS,
    poolIdleTimeout: 30_000,
  });
  const streamClient = Deno.createHttpClient({
    ...transport,
    poolMaxIdlePerHost: 0,
  });
  const doFetch = options.fetch ?? fetch;
  let negotiated: Promise<string> | undefined;
  let writes = 0;
  /** Counts a write's beginning; the returned function counts its end, once. */
  const beginWrite = () => {
    writes++;
    let ended = false;
    return () => {
      if (!ended) writes++;
      ended = true;
    };
  };

  /**
   * Sends one request. The timeout keeps running until `settle` is called (after the body
   * is read) unless the call is a stream, where it covers only the wait for headers.
   */
  async function send(method: string, url: string, options: RequestOptions, operation: string) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const endWrite = method === "GET" || method === "HEAD" ? undefined : beginWrite();
    const settle = () => {
      clearTimeout(timer);
      endWrite?.();
    };
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout.signal])
      : timeout.signal;
    let headers = options.headers;
    let body = options.body;
    if (options.json !== undefined) {
      headers = { ...Object.fromEntries(new Headers(headers)), "Content-Type": "application/json" };
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await doFetch(
        url,
        {
          method,
          headers,
          body,
          signal,
          client: options.stream ? streamClient : shortClient,
        } as RequestInit,
      );
    } catch (error) {
      settle();
      if (timeout.signal.aborted) throw new DockerTimeoutError(operation, timeoutMs);
      if (options.signal?.aborted) throw error;
      negotiated = undefined; // the daemon may come back as another version
      throw new DockerUnreachableError(endpoint, error);
    }
    if (options.stream) settle();
    if (!response.ok) {
      try {
        const text = await readText(response, operation, timeoutMs);
        throw new DockerError(response.status, daemonMessage(text, response.status));
      } finally {
        settle();
      }
    }
    return { response, settle };
  }

  /** Reads a whole non-streaming body under the call's timeout. */
  async function sendForText(
    method: string,
    url: string,
    options: RequestOptions,
    operation: string,
  ) {
    const { response, settle } = await send(method, url, options, operation);
    try {
      return await readText(response, operation, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } finally {
      settle();
    }
  }

  async function version(): Promise<EngineVersion> {
    const options = { timeoutMs: VERSION_TIMEOUT_MS };
    const info = JSON.parse(
      await sendForText("GET", `${baseUrl}/version`, options, "GET /version"),
    ) as EngineVersion;
    negotiated = Promise.resolve(pickVersion(info.ApiVersion));
    return info;
  }

  function apiVersion(): Promise<string> {
    if (!negotiated) {
      const attempt = version().then(() => negotiated!);
      negotiated = attempt;
      attempt.catch(() => {
        if (negotiated === attempt) negotiated = undefined;
      });
    }
    return negotiated;
  }

  async function versionedUrl(path: string, query?: Query) {
    assertPath(path);
    return `${baseUrl}/v${await apiVersion()}${path}${queryString(query)}`;
  }

  return {
    endpoint,
    async request(method: string, path: string, options: RequestOptions = {}) {
      const url = await versionedUrl(path, options.query);
      const { response, settle } = await send(method, url, options, `${method} ${path}`);
      if (options.stream || !response.body) {
        settle();
        return response;
      }
      // The caller reads the body: keep the timeout running until it is done.
      return new Response(
        response.body.pipeThrough(new TransformStream({ flush: settle })),
        response,
      );
    },
    async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const url = await versionedUrl(path, options.query);
      const text = await sendForText(method, url, options, `${method} ${path}`);
      return (text === "" ? undefined : JSON.parse(text)) as T;
    },
    version,
    apiVersion,
    async hijack(path: string, json: unknown) {
      assertPath(path);
      const fullPath = `/v${await apiVersion()}${path}`;
      const endWrite = beginWrite();
      try {
        return await hijack(host, fullPath, json);
      } catch (error) {
        if (error instanceof DockerError) throw error;
        negotiated = undefined;
        throw new DockerUnreachableError(endpoint, error);
      } finally {
        endWrite();
      }
    },
    writes: () => writes,
    close() {
      shortClient.close();
      streamClient.close();
    },
  };
}

function pickVersion(serverVersion: string): string {
  if (compareVersions(serverVersion, MIN_API_VERSION) < 0) {
    throw new DockerError(
      400,
      `Docker Engine API ${serverVersion} is too old; Container Manager needs ${MIN_API_VERSION} or newer`,
    );
  }
  return compareVersions(serverVersion, MAX_API_VERSION) < 0 ? serverVersion : MAX_API_VERSION;
}

export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split(".").map(Number);
  const [bMajor, bMinor] = b.split(".").map(Number);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** Defence in depth: a path must be a plain absolute path; queries go through `query`. */
function assertPath(path: string) {
  if (!path.startsWith("/") || /[?#%\s\\]|\/\.\.?(\/|$)/.test(path)) {
    throw new Error(`Refusing to send an Engine request with unsafe path ${JSON.stringify(path)}`);
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) value.forEach((item) => params.append(key, item));
    else if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function readText(response: Response, operation: string, timeoutMs: number): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") {
      throw new DockerTimeoutError(operation, timeoutMs);
    }
    throw error;
  }
}

function daemonMessage(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  const trimmed = text.trim();
  return trimmed === "" ? `Docker Engine answered ${status}` : trimmed.slice(0, 4096);
}
