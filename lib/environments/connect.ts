/**
 * The connection test an environment passes before it is saved: `/version` and `/_ping`
 * over the given transport, with every way it can fail said in words (a 400 naming the
 * field to fix): bad address or refused connection, a CA that does not sign the Engine's
 * certificate, a client certificate the daemon refuses or that expired, something that is
 * not a Docker Engine, no answer in time.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { HttpError } from "../errors.ts";
import { createDockerClient, type DockerClient, type EngineHost } from "../docker/client.ts";
import { DockerError, DockerTimeoutError, DockerUnreachableError } from "../docker/errors.ts";

export const CONNECT_TIMEOUT_MS = 5_000;

/** A connection test that failed: the message says why, the field what to change. */
export class EnvironmentConnectError extends HttpError {
  override name = "EnvironmentConnectError";
  constructor(message: string, field: "url" | "tls.ca" | "tls.cert" | "tls.key") {
    super(400, message, field);
  }
}

export interface ConnectResult {
  engine_version: string;
  api_version: string;
  latency_ms: number;
}

/** Checks what can be checked without the network: the client certificate's dates and key. */
export function checkClientCertificate(cert: string, key: string, now = new Date()): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new EnvironmentConnectError("The client certificate could not be read", "tls.cert");
  }
  if (certificate.validToDate < now) {
    throw new EnvironmentConnectError(
      `The client certificate expired on ${certificate.validToDate.toISOString()}`,
      "tls.cert",
    );
  }
  if (certificate.validFromDate > now) {
    throw new EnvironmentConnectError(
      `The client certificate is not valid before ${certificate.validFromDate.toISOString()}`,
      "tls.cert",
    );
  }
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw new EnvironmentConnectError("The client key could not be read", "tls.key");
  }
  if (!matches) {
    throw new EnvironmentConnectError(
      "The client key does not belong to the client certificate",
      "tls.key",
    );
  }
}

/** Connects once and answers the Engine's version, or throws an EnvironmentConnectError. */
export async function testConnection(
  host: EngineHost,
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<ConnectResult> {
  if (host.kind === "tls") checkClientCertificate(host.cert, host.key);
  const docker = createDockerClient(host, { fetch: options.fetch });
  try {
    return await probe(docker, options.timeoutMs ?? CONNECT_TIMEOUT_MS);
  } catch (error) {
    throw classifyConnectError(error, host);
  } finally {
    docker.close();
  }
}

async function probe(docker: DockerClient, timeoutMs: number): Promise<ConnectResult> {
  const started = performance.now();
  let version;
  try {
    version = await docker.version();
  } catch (error) {
    // The transport's own failures arrive as Docker errors; these are a body that is not
    // an Engine's version (not JSON, or JSON without ApiVersion).
    if (error instanceof TypeError || error instanceof SyntaxError) throw new NotAnEngine();
    throw error;
  }
  if (typeof version?.ApiVersion !== "string" || typeof version.Version !== "string") {
    throw new NotAnEngine();
  }
  const ping = await docker.request("GET", "/_ping", { timeoutMs });
  const text = (await ping.text()).trim();
  if (text !== "OK") throw new NotAnEngine();
  return {
    engine_version: version.Version,
    api_version: await docker.apiVersion(),
    latency_ms: Math.round(performance.now() - started),
  };
}

class NotAnEngine extends Error {}

function describe(host: EngineHost): string {
  return host.kind === "unix" ? `unix://${host.path}` : `tcp://${host.hostname}:${host.port}`;
}

/** The text of an error and of its causes, for matching the transport's wording. */
function causeText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(" | ");
}

/** Turns a failed connection test into the one 400 that says what to fix. */
export function classifyConnectError(error: unknown, host: EngineHost): HttpError {
  if (error instanceof EnvironmentConnectError) return error;
  const where = describe(host);
  if (error instanceof DockerTimeoutError) {
    return new EnvironmentConnectError(
      `The Engine at ${where} did not answer within ${error.timeoutMs / 1000} s`,
      "url",
    );
  }
  if (error instanceof NotAnEngine || error instanceof SyntaxError) {
    return new EnvironmentConnectError(`${where} answered, but not as a Docker Engine`, "url");
  }
  if (error instanceof DockerError) {
    if (/HTTP request to an HTTPS server/i.test(error.message)) {
      return new EnvironmentConnectError(
        `The Engine at ${where} speaks TLS: give its CA certificate, client certificate and key`,
        "url",
      );
    }
    if (error.daemonStatus === 400 && /too old/.test(error.message)) {
      return new EnvironmentConnectError(error.message, "url");
    }
    return new EnvironmentConnectError(
      `${where} answered ${error.daemonStatus}, not as a Docker Engine`,
      "url",
    );
  }
  if (!(error instanceof DockerUnreachableError)) {
    return new EnvironmentConnectError(
      `Could not connect to ${where}: ${causeText(error).slice(0, 200)}`,
      "url",
    );
  }
  // The transport's own words (the error itself only says "unreachable").
  const text = causeText(error.cause);
  // The wording below is rustls' and hyper's (what Deno's fetch reports). A "fatal alert" is
  // the daemon refusing us; "invalid peer certificate" is us refusing the daemon.
  if (/fatal alert:? *CertificateExpired/i.test(text)) {
    return new EnvironmentConnectError(
      `The Engine at ${where} refused the client certificate as expired`,
      "tls.cert",
    );
  }
  if (host.kind === "tls" && /fatal alert/i.test(text)) {
    return new EnvironmentConnectError(
      `The Engine at ${where} refused the client certificate (not signed by a CA it trusts, ` +
        "or expired)",
      "tls.cert",
    );
  }
  if (/UnknownIssuer|self[- ]signed|BadSignature|certificate verify failed/i.test(text)) {
    return new EnvironmentConnectError(
      `The Engine's certificate at ${where} is not signed by the given CA certificate ` +
        "(server certificate not trusted)",
      "tls.ca",
    );
  }
  if (/NotValidForName|not valid for name/i.test(text)) {
    return new EnvironmentConnectError(
      `The Engine's certificate is not valid for ${
        host.kind === "tls" ? host.hostname : where
      } (it names other hosts)`,
      "url",
    );
  }
  if (/invalid peer certificate: Expired/i.test(text)) {
    return new EnvironmentConnectError(`The Engine's certificate at ${where} has expired`, "url");
  }
  if (/InvalidContentType|corrupt message|wrong version number|InvalidMessage/i.test(text)) {
    return new EnvironmentConnectError(
      `${where} does not speak TLS: is it a Docker Engine?`,
      "url",
    );
  }
  if (/No such file or directory|os error 2\b/i.test(text)) {
    return new EnvironmentConnectError(`There is no socket at ${where}`, "url");
  }
  if (/Permission denied|os error 13\b/i.test(text)) {
    return new EnvironmentConnectError(`The panel may not open the socket at ${where}`, "url");
  }
  if (/refused|os error 111\b/i.test(text)) {
    return new EnvironmentConnectError(
      `Nothing accepts connections at ${where} (connection refused)`,
      "url",
    );
  }
  if (/dns error|failed to lookup|Name or service not known/i.test(text)) {
    return new EnvironmentConnectError(`The host name in ${where} does not resolve`, "url");
  }
  if (/unreachable|No route to host|os error 11[03]\b/i.test(text)) {
    return new EnvironmentConnectError(`${where} cannot be reached (no route to the host)`, "url");
  }
  return new EnvironmentConnectError(`Could not connect to ${where}`, "url");
}
