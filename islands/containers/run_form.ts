/**
 * The Run container form as data: rows, validation while typing, and the request body
 * with a map from the body's array indexes back to the form's rows (for the server's
 * `field` errors such as "ports[1]").
 */
import { type Risk, risksOf } from "../../lib/risks.ts";
import { splitCommand } from "./format.ts";
import type { InspectView } from "./types.ts";

export type Proto = "tcp" | "udp" | "sctp";
export type RestartName = "no" | "always" | "unless-stopped" | "on-failure";

export interface EnvRow {
  key: string;
  value: string;
  uid: number;
}
export interface PortRow {
  ip: string;
  host: string;
  container: string;
  proto: Proto;
  uid: number;
}
export interface VolumeRow {
  source: string;
  target: string;
  readOnly: boolean;
  uid: number;
}

export interface RunForm {
  image: string;
  name: string;
  env: EnvRow[];
  ports: PortRow[];
  volumes: VolumeRow[];
  restart: RestartName;
  retries: string;
  cmd: string;
}

export interface RunBody {
  image: string;
  name?: string;
  env: string[];
  ports: string[];
  volumes: string[];
  restart_policy: string;
  cmd?: string[];
  /** Sent when the form has risky settings and the user ticked the acknowledgement. */
  acknowledge_risks?: true;
}

let nextUid = 1;
export const uid = () => nextUid++;

export function emptyForm(): RunForm {
  return {
    image: "",
    name: "",
    env: [],
    ports: [],
    volumes: [],
    restart: "no",
    retries: "",
    cmd: "",
  };
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/;

const isEmptyEnv = (row: EnvRow) => !row.key.trim() && !row.value;
const isEmptyPort = (row: PortRow) => !row.ip.trim() && !row.host.trim() && !row.container.trim();
const isEmptyVolume = (row: VolumeRow) => !row.source.trim() && !row.target.trim();

function portNumber(text: string): number | null {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Which input of a row a problem is about, so that one is outlined. */
export type RowPart = "key" | "ip" | "host" | "container" | "source" | "target";

export interface Problems {
  /** Messages keyed by "image", "name", "env[i]", "ports[i]", "volumes[i]", "restart_policy", "cmd". */
  errors: Record<string, string>;
  /** For row problems: the input at fault. */
  parts: Record<string, RowPart>;
}

/** What is wrong with the form (i is the form row). Rows left completely empty are ignored. */
export function validate(form: RunForm): Problems {
  const errors: Record<string, string> = {};
  const parts: Record<string, RowPart> = {};
  const fail = (key: string, message: string, part?: RowPart) => {
    errors[key] = message;
    if (part) parts[key] = part;
  };

  const image = form.image.trim();
  if (!image) fail("image", "An image is required");
  else if (/\s/.test(image)) fail("image", "An image reference has no spaces");
  else if (!/^[a-z0-9]/.test(image)) {
    fail("image", "An image reference starts with a lowercase letter or digit");
  }

  const name = form.name.trim();
  if (name.length > 128) fail("name", "At most 128 characters");
  else if (name && !NAME_PATTERN.test(name)) {
    fail(
      "name",
      name.length < 2 && /^[a-zA-Z0-9]$/.test(name)
        ? "At least 2 characters"
        : "Letters, digits, _ . - only, starting with a letter or digit",
    );
  }

  const keys = new Set<string>();
  form.env.forEach((row, i) => {
    if (isEmptyEnv(row)) return;
    const at = `env[${i}]`;
    const key = row.key.trim();
    if (!key) fail(at, "The variable needs a name", "key");
    else if (key.includes("=")) fail(at, "A name cannot contain “=”", "key");
    else if (/\s/.test(key)) fail(at, "A name cannot contain spaces", "key");
    else if (!ENV_KEY.test(key)) {
      fail(at, "Letters, digits, _ . - only, starting with a letter or _", "key");
    } else if (keys.has(key)) fail(at, `${key} is already set above`, "key");
    keys.add(key);
  });

  const published = new Set<string>();
  form.ports.forEach((row, i) => {
    if (isEmptyPort(row)) return;
    const at = `ports[${i}]`;
    const ip = row.ip.trim();
    const host = portNumber(row.host);
    const container = portNumber(row.container);
    if (ip && !IPV4.test(ip) && !IPV6.test(ip.replace(/^\[|\]$/g, ""))) {
      fail(at, "The host IP is not an IPv4 or IPv6 address", "ip");
    } else if (host === null && row.host.trim()) {
      fail(at, "The host port must be a number from 1 to 65535", "host");
    } else if (container === null) {
      fail(
        at,
        row.container.trim()
          ? "The container port must be a number from 1 to 65535"
          : "Which container port? (1-65535)",
        "container",
      );
    } else if (host !== null) {
      const key = `${ip}|${host}|${row.proto}`;
      if (published.has(key)) fail(at, `Host port ${host}/${row.proto} is used above`, "host");
      published.add(key);
    }
  });

  const targets = new Set<string>();
  form.volumes.forEach((row, i) => {
    if (isEmptyVolume(row)) return;
    const at = `volumes[${i}]`;
    const source = row.source.trim();
    const target = row.target.trim();
    if (!source) fail(at, "A volume name or an absolute host path is required", "source");
    else if (source.includes(":")) fail(at, "The source cannot contain “:”", "source");
    else if (source.startsWith("/") && source.split("/").includes("..")) {
      fail(at, "A host path cannot contain “..”", "source");
    } else if (!source.startsWith("/") && !VOLUME_NAME.test(source)) {
      fail(
        at,
        "A volume name (2+ letters, digits, _ . -) or an absolute host path (/…)",
        "source",
      );
    } else if (!target) fail(at, "The container path is required", "target");
    else if (!target.startsWith("/")) {
      fail(at, "The container path must be absolute (start with /)", "target");
    } else if (target.includes(":")) fail(at, "The container path cannot contain “:”", "target");
    else if (targets.has(target)) fail(at, `${target} is mounted above`, "target");
    targets.add(target);
  });

  if (form.restart === "on-failure" && form.retries.trim()) {
    if (!/^\d{1,4}$/.test(form.retries.trim())) {
      fail("restart_policy", "Max retries is a whole number (0 or empty: no limit)");
    }
  }

  if (form.cmd.trim()) {
    const { error } = splitCommand(form.cmd);
    if (error) fail("cmd", error);
  }
  return { errors, parts };
}

/** The request body, and for each array which form row each entry came from. */
export function toBody(form: RunForm): {
  body: RunBody;
  rows: { env: number[]; ports: number[]; volumes: number[] };
} {
  const rows = { env: [] as number[], ports: [] as number[], volumes: [] as number[] };
  const env: string[] = [];
  form.env.forEach((row, i) => {
    if (isEmptyEnv(row)) return;
    env.push(`${row.key.trim()}=${row.value}`);
    rows.env.push(i);
  });
  const ports: string[] = [];
  form.ports.forEach((row, i) => {
    if (isEmptyPort(row)) return;
    let ip = row.ip.trim();
    if (ip.includes(":") && !ip.startsWith("[")) ip = `[${ip}]`;
    // "8080:80", "127.0.0.1:8080:80/udp"; no host port: "80" (Docker picks one).
    const host = row.host.trim();
    const binding = ip ? `${ip}:${host}:` : host ? `${host}:` : "";
    ports.push(`${binding}${row.container.trim()}${row.proto === "tcp" ? "" : `/${row.proto}`}`);
    rows.ports.push(i);
  });
  const volumes: string[] = [];
  form.volumes.forEach((row, i) => {
    if (isEmptyVolume(row)) return;
    volumes.push(`${row.source.trim()}:${row.target.trim()}${row.readOnly ? ":ro" : ""}`);
    rows.volumes.push(i);
  });
  const retries = form.retries.trim();
  const restart_policy = form.restart === "on-failure" && retries && Number(retries) > 0
    ? `on-failure:${Number(retries)}`
    : form.restart;
  const body: RunBody = { image: form.image.trim(), env, ports, volumes, restart_policy };
  if (form.name.trim()) body.name = form.name.trim();
  if (form.cmd.trim()) body.cmd = splitCommand(form.cmd).args;
  return { body, rows };
}

/**
 * The form's escape-shaped settings, by the rules the server applies (lib/risks.ts); a
 * volume risk's `index` is its row in the form.
 */
export function formRisks(form: RunForm): Risk[] {
  return risksOf({ binds: form.volumes.map((row) => row.source.trim()) });
}

/** Turns the server's field ("ports[1]") into the form's key ("ports[3]"). */
export function formField(
  field: string | undefined,
  rows: { env: number[]; ports: number[]; volumes: number[] },
): string | null {
  if (!field) return null;
  const match = /^(env|ports|volumes)\[(\d+)\]/.exec(field);
  if (match) {
    const row = rows[match[1] as "env" | "ports" | "volumes"][Number(match[2])];
    return row === undefined ? null : `${match[1]}[${row}]`;
  }
  const base = field.split(/[.\[]/)[0];
  return ["image", "name", "restart_policy", "cmd"].includes(base) ? base : null;
}

/** "A=1\nB=2" pasted into a key field: the rows it describes, or null for plain text. */
export function parseEnvLines(text: string): { key: string; value: string }[] | null {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean)
    .filter((line) => !line.startsWith("#"));
  if (lines.length === 0 || !lines.every((line) => /^[^=\s]+=/.test(line))) return null;
  return lines.map((line) => {
    const at = line.indexOf("=");
    return { key: line.slice(0, at), value: line.slice(at + 1) };
  });
}

/** Duplicate / edit: the Run form filled from a container's inspect view. */
export function formFromInspect(view: InspectView): RunForm {
  const policy = view.restart_policy;
  const quote = (word: string) =>
    /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;
  return {
    image: view.image,
    name: `${view.name}-copy`.slice(0, 128),
    env: view.env.map((entry) => ({ key: entry.key, value: entry.value ?? "", uid: uid() })),
    ports: view.ports.filter((port) => port.host_port !== null).map((port) => ({
      ip: port.host_ip && port.host_ip !== "0.0.0.0" && port.host_ip !== "::" ? port.host_ip : "",
      // The copy would collide with the original's host port: leave it for the Engine to pick.
      host: "",
      container: String(port.container_port),
      proto: port.proto,
      uid: uid(),
    })).filter((row, i, rows) =>
      rows.findIndex((other) => other.container === row.container && other.proto === row.proto) ===
        i
    ),
    volumes: view.mounts.filter((mount) => mount.type === "volume" || mount.type === "bind").map((
      mount,
    ) => ({
      source: mount.type === "volume" ? mount.name ?? "" : mount.source,
      target: mount.destination,
      readOnly: mount.read_only,
      uid: uid(),
    })),
    restart: (policy.name || "no") as RestartName,
    retries: policy.name === "on-failure" && policy.max_retries ? String(policy.max_retries) : "",
    cmd: (view.cmd ?? []).map(quote).join(" "),
  };
}
