/** The Add/Edit environment form: what it sends, and which field a server error belongs to. */
import type { EnvironmentView } from "./types.ts";

export type Field = "name" | "url" | "ca" | "cert" | "key";

export interface FormValues {
  name: string;
  url: string;
  ca: string;
  cert: string;
  key: string;
}

export const EMPTY_FORM: FormValues = { name: "", url: "", ca: "", cert: "", key: "" };

export function needsTls(url: string): boolean {
  return url.trim().toLowerCase().startsWith("tcp://");
}

/**
 * The POST body for a new environment, or the PATCH body for an edit: only what changed, and
 * only the certificates pasted or loaded (a stored key is kept unless replaced).
 */
export function environmentBody(
  values: FormValues,
  existing: EnvironmentView | null,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const name = values.name.trim();
  const url = values.url.trim();
  if (!existing || name !== existing.name) body.name = name;
  if (!existing || url !== existing.url) body.url = url;
  const tls: Record<string, string> = {};
  for (const part of ["ca", "cert", "key"] as const) {
    const pem = values[part].trim();
    if (pem) tls[part] = `${pem}\n`;
  }
  if (Object.keys(tls).length > 0 && needsTls(url)) body.tls = tls;
  return body;
}

/** Checks before sending: the messages the server would give, without the round trip. */
export function missingField(
  values: FormValues,
  existing: EnvironmentView | null,
): { field: Field; text: string } | null {
  if (!values.name.trim()) return { field: "name", text: "Enter a name, e.g. edge-1" };
  const url = values.url.trim();
  if (!url) return { field: "url", text: "Enter the Engine's address" };
  if (!/^(unix|tcp):\/\//i.test(url)) {
    return {
      field: "url",
      text: "Use unix:///path/to/docker.sock or tcp://host:2376",
    };
  }
  // A new TLS environment needs all three; an edit keeps what it does not replace.
  if (needsTls(url) && !(existing?.tls)) {
    const given = (["ca", "cert", "key"] as const).filter((p) => values[p].trim());
    if (given.length > 0 && given.length < 3) {
      const missing = (["ca", "cert", "key"] as const).find((p) => !values[p].trim())!;
      return { field: missing, text: `Add the ${PEM_LABELS[missing].toLowerCase()} too` };
    }
  }
  return null;
}

export const PEM_LABELS: Record<"ca" | "cert" | "key", string> = {
  ca: "CA certificate",
  cert: "Client certificate",
  key: "Client key",
};

/** The form field a server error names ("tls.ca", "ca", "url", ...), if any. */
export function fieldOf(field: string | undefined): Field | undefined {
  if (!field) return undefined;
  const last = field.toLowerCase().split(/[.\[\]]/).filter(Boolean).at(-1) ?? "";
  if (last === "name" || last === "url") return last;
  if (last === "ca" || last === "cacert" || last === "ca_cert") return "ca";
  if (last === "key" || last === "client_key") return "key";
  if (last === "cert" || last === "client_cert") return "cert";
  if (last === "tls") return "cert";
  return undefined;
}

/** A PEM file read as text; refuses what is plainly not PEM (a DER file, a picture). */
export function pemFromText(text: string): string | null {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text) ? text.trim() : null;
}
