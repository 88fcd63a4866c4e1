/**
 * The Engine's errors in words, where the panel knows better than the Engine's text: a port
 * in use names the container publishing it (or says a process outside Docker holds it), a
 * name in use names the container holding it, a failed pull says whether the registry was
 * unreachable, the image or tag does not exist, or the credentials were refused. Run, compose
 * and pull raise these; the Engine's own text stays on the error as `details`.
 */
import type { DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import { listContainers } from "./containers.ts";

/** A DockerError whose message is the panel's; `details` is the Engine's text. */
export class TranslatedDockerError extends DockerError {
  override name = "TranslatedDockerError";
  constructor(daemonStatus: number, message: string, readonly details: string, field?: string) {
    super(daemonStatus, message);
    // DockerError takes no field; HttpError's is readonly only to its callers.
    if (field) Object.assign(this, { field });
  }
}

const PORT_ALLOCATED = /Bind for ([\d.:\[\]a-f]*?):(\d+) failed: port is already allocated/i;
const PORT_BOUND = /listen (?:tcp|udp)[46]? ([\d.:\[\]a-f]*?):(\d+): bind: address already in use/i;
const NAME_IN_USE = /container name "\/?([^"]+)" is already in use by container "([0-9a-f]{64})"/i;

/** The short name of a container from the Engine's list (`/web` → `web`). */
function shortName(names: string[] | undefined, id: string): string {
  return names?.[0]?.replace(/^\//, "") ?? id.slice(0, 12);
}

/**
 * A port-in-use or name-in-use error from create or start, in words; anything else as it was.
 * `self` is the container being started (it never counts as the one holding the port).
 */
export async function explainEngineError(
  docker: DockerClient,
  error: unknown,
  self?: string,
): Promise<unknown> {
  if (!(error instanceof DockerError) || error instanceof TranslatedDockerError) return error;
  const text = error.message;
  const port = text.match(PORT_ALLOCATED) ?? text.match(PORT_BOUND);
  if (port) {
    const hostPort = Number(port[2]);
    const holders = await listContainers(docker, {}).catch(() => []);
    const holder = holders.find((container) =>
      container.Id !== self &&
      (container.Ports ?? []).some((published) => published.PublicPort === hostPort)
    );
    const message = holder
      ? `Port ${hostPort} on the host is already published by container "${
        shortName(holder.Names, holder.Id)
      }"`
      : `Port ${hostPort} on the host is in use by a process outside Docker`;
    return new TranslatedDockerError(409, message, text, "ports");
  }
  const name = text.match(NAME_IN_USE);
  if (name) {
    const [holder] = await listContainers(docker, { all: true, filters: { id: [name[2]] } })
      .catch(() => []);
    const state = holder ? ` (${holder.State}, ${holder.Image})` : "";
    return new TranslatedDockerError(
      409,
      `A container named "${name[1]}" already exists${state}: choose another name or remove it`,
      text,
      "name",
    );
  }
  return error;
}

/** The registry host a reference pulls from ("docker.io" when none is written). */
function registryOf(reference: string): string {
  const first = reference.split("/")[0];
  return reference.includes("/") && (first.includes(".") || first.includes(":") ||
      first === "localhost")
    ? first
    : "docker.io";
}

/** A failed pull (the Engine's status and text) as what failed, in words. */
export function pullError(
  reference: string,
  daemonStatus: number,
  engineText: string,
): TranslatedDockerError {
  const registry = registryOf(reference);
  const text = engineText;
  const say = (status: number, message: string) =>
    new TranslatedDockerError(status, message, text, "reference");
  if (/no such host|server misbehaving|name resolution|lookup .* on .*:53/i.test(text)) {
    return say(502, `The registry ${registry} could not be found: its name did not resolve (DNS)`);
  }
  if (/connection refused/i.test(text)) {
    return say(502, `The registry ${registry} refused the connection: nothing answers there`);
  }
  if (/i\/o timeout|Client\.Timeout|deadline exceeded|TLS handshake timeout/i.test(text)) {
    return say(502, `The registry ${registry} did not answer in time`);
  }
  if (/network is unreachable|no route to host/i.test(text)) {
    return say(502, `The registry ${registry} is unreachable from this machine`);
  }
  if (
    /no basic auth credentials|authentication required|unauthorized|incorrect username/i.test(text)
  ) {
    // A 401 passed on would read as the panel's own session ending: the upstream's failure.
    return say(
      500,
      `The registry ${registry} refused the credentials for ${reference}` +
        (/no basic auth credentials/i.test(text) ? " (none were sent: add the registry)" : ""),
    );
  }
  if (/manifest unknown|manifest for .* not found|not found: manifest/i.test(text)) {
    return say(404, `${reference} does not exist in ${registry}: no such tag or digest`);
  }
  if (/repository does not exist|pull access denied|denied/i.test(text)) {
    return say(
      404,
      `${reference} does not exist in ${registry}, or it needs credentials the panel does not have`,
    );
  }
  return say(daemonStatus, `Pulling ${reference} failed: ${text}`);
}
