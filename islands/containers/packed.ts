/**
 * The container list in a compact text form for the page's island props: with 1000
 * containers the views as JSON, HTML-escaped into an attribute, were about 2 MB. One line per
 * container, fields separated by "|", the strings that repeat (images, image ids, states,
 * status texts, stacks) written once in a table and referred to by number, and every
 * character that JSON or an HTML attribute would escape written as %XX instead. Labels are
 * left out (the table does not show them; an event brings a container's full view).
 */
import type { ContainerView, PortView } from "./types.ts";

const VERSION = "cm1";
const ESCAPED = /[%|\n\r"&<>',;\\]/g;

const escape = (text: string) =>
  text.replace(ESCAPED, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
const unescape = (text: string) =>
  text.includes("%")
    ? text.replace(/%([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
    : text;

const orNull = (text: string) => text === "" ? null : text;
const numberOrNull = (text: string) => text === "" ? null : Number(text);

export function packContainers(views: readonly ContainerView[]): string {
  const table: string[] = [];
  const index = new Map<string, number>();
  const intern = (text: string | null) => {
    if (text === null) return "";
    let at = index.get(text);
    if (at === undefined) {
      at = table.length;
      table.push(text);
      index.set(text, at);
    }
    return String(at);
  };
  const lines = views.map((c) =>
    [
      escape(c.id),
      escape(c.name),
      intern(c.image),
      intern(c.image_id),
      intern(c.state),
      intern(c.status),
      String(c.created),
      escape(c.started_at ?? ""),
      escape(c.finished_at ?? ""),
      c.exit_code === null ? "" : String(c.exit_code),
      c.restart_count === null ? "" : String(c.restart_count),
      intern(c.health),
      c.ports.map(packPort).join(";"),
      intern(c.compose?.project ?? null),
      intern(c.compose?.service ?? null),
      String((c.managed ? 1 : 0) | (c.panel_created ? 2 : 0)),
    ].join("|")
  );
  return [VERSION, table.map(escape).join("|"), ...lines].join("\n");
}

export function unpackContainers(packed: string): ContainerView[] {
  const [version, tableLine, ...lines] = packed.split("\n");
  if (version !== VERSION) throw new Error(`Unknown container list format "${version}"`);
  const table = tableLine.split("|").map(unescape);
  const lookup = (field: string) => field === "" ? null : table[Number(field)];
  return lines.map((line) => {
    const f = line.split("|");
    const project = lookup(f[13]);
    const flags = Number(f[15]);
    return {
      id: unescape(f[0]),
      name: unescape(f[1]),
      image: lookup(f[2]) ?? "",
      image_id: lookup(f[3]) ?? "",
      state: lookup(f[4]) as ContainerView["state"],
      status: lookup(f[5]) ?? "",
      created: Number(f[6]),
      started_at: orNull(unescape(f[7])),
      finished_at: orNull(unescape(f[8])),
      exit_code: numberOrNull(f[9]),
      restart_count: numberOrNull(f[10]),
      health: lookup(f[11]),
      ports: f[12] === "" ? [] : f[12].split(";").map(unpackPort),
      labels: {},
      compose: project === null ? null : { project, service: lookup(f[14]) ?? "" },
      managed: (flags & 1) !== 0,
      panel_created: (flags & 2) !== 0,
    };
  });
}

function packPort(port: PortView): string {
  return [
    escape(port.host_ip ?? ""),
    port.host_port ?? "",
    port.container_port,
    port.proto,
  ].join(",");
}

function unpackPort(text: string): PortView {
  const [ip, host, container, proto] = text.split(",");
  return {
    host_ip: orNull(unescape(ip)),
    host_port: numberOrNull(host),
    container_port: Number(container),
    proto: proto as PortView["proto"],
  };
}
