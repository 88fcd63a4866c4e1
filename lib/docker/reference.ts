/**
 * Image references following the distribution/reference grammar:
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 * Unqualified names mean docker.io, and single-component docker.io names live under
 * "library/" (`busybox` is `docker.io/library/busybox:latest`).
 */
import { InvalidReferenceError } from "./errors.ts";

export interface ImageReference {
  /** Registry host[:port], `docker.io` when the reference names none. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  /** `domain/path`, the repository to pull. */
  readonly repository: string;
  /** The fully qualified reference, with `latest` added when no tag or digest is given. */
  readonly canonical: string;
}

export const DEFAULT_DOMAIN = "docker.io";
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[[a-fA-F0-9:]+\\]";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Parses a reference or throws InvalidReferenceError saying why it is invalid. */
export function parseReference(input: string): ImageReference {
  const invalid = (why: string) =>
    new InvalidReferenceError(`Invalid image reference "${truncate(input)}": ${why}`, "reference");
  if (typeof input !== "string" || input.length === 0) throw invalid("it is empty");
  if (/\s/.test(input)) throw invalid("it contains whitespace");

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(`"${truncate(digest)}" is not a valid digest`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) throw invalid(`"${truncate(tag)}" is not a valid tag`);
  }
  if (rest.length === 0) throw invalid("the repository name is missing");
  if (rest.length > MAX_NAME_LENGTH) {
    throw invalid(`the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  }

  const components = rest.split("/");
  let domain = DEFAULT_DOMAIN;
  const first = components[0];
  // The first component names a registry only if it looks like a host: it has a dot or a
  // port, or is "localhost". Otherwise it is part of the (lowercase) repository path, so
  // "UPPER/case" is refused rather than read as a registry called "UPPER".
  if (
    components.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")
  ) {
    if (!DOMAIN_RE.test(first)) throw invalid(`"${first}" is not a valid registry host`);
    domain = first === "index.docker.io" ? DEFAULT_DOMAIN : first;
    components.shift();
  }
  for (const component of components) {
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (component === "") throw invalid("it has an empty path component");
    if (component !== component.toLowerCase()) {
      throw invalid(`repository names must be lowercase ("${truncate(component)}")`);
    }
    throw invalid(
      `"${
        truncate(component)
      }" is not a valid path component (lowercase letters, digits and . _ - separators only)`,
    );
  }
  if (domain === DEFAULT_DOMAIN && components.length === 1) components.unshift("library");

  const path = components.join("/");
  const repository = `${domain}/${path}`;
  const canonical = repository + (tag || !digest ? `:${tag ?? "latest"}` : "") +
    (digest ? `@${digest}` : "");
  return { domain, path, tag, digest, repository, canonical };
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
