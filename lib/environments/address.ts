/**
 * What an environment's fields may be: its name, its address (`unix:///abs/path` or
 * `tcp://host:port`) and, for tcp, the mutual-TLS PEM texts. Pure checks; no connection.
 */
import { X509Certificate } from "node:crypto";
import { ValidationError } from "../errors.ts";
import type { EngineHost } from "../docker/client.ts";

/** The panel's own Engine: always there, never stored, never removed. */
export const LOCAL_ID = "local";
/** Environment ids as they appear in paths: lowercase letters, digits and dashes. */
export const ENVIRONMENT_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAX_NAME = 64;
const MAX_URL = 512;
const MAX_PEM = 64 * 1024;

export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** An address split into where to connect; the TLS material is added by the caller. */
export type ParsedAddress =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; hostname: string; port: number };

export function validateName(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ValidationError("name is required", "name");
  }
  const name = value.trim();
  if ([...name].length > MAX_NAME) {
    throw new ValidationError(`name must be at most ${MAX_NAME} characters`, "name");
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError("name must not contain control characters", "name");
  }
  if (name.toLowerCase() === LOCAL_ID) {
    throw new ValidationError(`"${LOCAL_ID}" is the panel's own Engine; pick another name`, "name");
  }
  return name;
}

/** The id a new environment gets: its name in lowercase with dashes, made unique by `taken`. */
export function idForName(name: string, taken: (id: string) => boolean): string {
  const base = name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "").slice(0, 32).replace(/-+$/, "") || "env";
  for (let n = 1;; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (id !== LOCAL_ID && !taken(id)) return id;
  }
}

export function parseAddress(value: unknown): ParsedAddress {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ValidationError("url is required", "url");
  }
  const url = value.trim();
  if (url.length > MAX_URL) {
    throw new ValidationError(`url must be at most ${MAX_URL} characters`, "url");
  }
  if (url.startsWith("unix://")) {
    const path = url.slice("unix://".length);
    if (!path.startsWith("/") || /[\s\0]|\/\.\.?(\/|$)/.test(path)) {
      throw new ValidationError(
        "A unix:// address must name an absolute socket path, like unix:///var/run/docker.sock",
        "url",
      );
    }
    return { kind: "unix", path };
  }
  if (url.startsWith("tcp://")) {
    const rest = url.slice("tcp://".length).replace(/\/$/, "");
    const match = rest.match(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      throw new ValidationError(
        "A tcp:// address must be tcp://host:port, like tcp://10.0.0.5:2376",
        "url",
      );
    }
    return { kind: "tcp", hostname: match[1].replace(/^\[|\]$/g, ""), port };
  }
  throw new ValidationError("url must start with unix:// or tcp://", "url");
}

/** The address as stored and shown. */
export function formatAddress(address: ParsedAddress): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `tcp://${host}:${address.port}`;
}

/** What to say about a plain-TCP address (allowed only on the loopback address). */
export const PLAIN_TCP_WARNING =
  "Plain TCP without TLS: any local process can reach this Engine, and with it root on this host";

/**
 * The Engine host for an address and its TLS material. Plain tcp is only for 127.0.0.1;
 * TLS material only goes with tcp.
 */
export function engineHostOf(
  address: ParsedAddress,
  tls: TlsMaterial | undefined,
): { host: EngineHost; warning?: string } {
  if (address.kind === "unix") {
    if (tls) {
      throw new ValidationError("TLS settings apply only to tcp:// addresses", "tls");
    }
    return { host: address };
  }
  if (tls) return { host: { ...address, ...tls, kind: "tls" } };
  if (address.hostname !== "127.0.0.1") {
    throw new ValidationError(
      "A tcp:// Engine needs mutual TLS (CA, client certificate and key); plain TCP is " +
        "accepted only for 127.0.0.1",
      "tls",
    );
  }
  return { host: address, warning: PLAIN_TCP_WARNING };
}

function pemField(value: unknown, field: string, label: RegExp, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ValidationError(`${what} is required for a TLS environment`, field);
  }
  if (value.length > MAX_PEM) {
    throw new ValidationError(`${what} is larger than ${MAX_PEM / 1024} KiB`, field);
  }
  if (!label.test(value)) throw new ValidationError(`${what} is not a PEM text`, field);
  return value.trim() + "\n";
}

const CERT_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const KEY_PEM = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+-----END ([A-Z]+ )?PRIVATE KEY-----/;

/** Checks the three PEM texts' shape and that the certificates parse. */
export function validateTls(value: unknown): TlsMaterial {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("tls must be an object with ca, cert and key", "tls");
  }
  const input = value as Record<string, unknown>;
  const tls = {
    ca: pemField(input.ca, "tls.ca", CERT_PEM, "The CA certificate"),
    cert: pemField(input.cert, "tls.cert", CERT_PEM, "The client certificate"),
    key: pemField(input.key, "tls.key", KEY_PEM, "The client key"),
  };
  certificateInfo(tls.ca, "tls.ca", "The CA certificate");
  certificateInfo(tls.cert, "tls.cert", "The client certificate");
  return tls;
}

export interface CertificateInfo {
  subject: string;
  fingerprint: string;
  notAfter: string;
}

/** The subject, SHA-256 fingerprint and expiry of a certificate: all that may be shown of one. */
export function certificateInfo(
  pem: string,
  field = "tls.cert",
  what = "The certificate",
): CertificateInfo {
  try {
    const certificate = new X509Certificate(pem);
    return {
      subject: certificate.subject.replaceAll("\n", ", "),
      fingerprint: certificate.fingerprint256,
      notAfter: certificate.validToDate.toISOString(),
    };
  } catch {
    throw new ValidationError(`${what} could not be read as an X.509 certificate`, field);
  }
}
