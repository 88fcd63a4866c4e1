/**
 * Escape-shaped container settings: what lets a container reach or control the host. One
 * set of rules for the compose preview and deploy (lib/compose/normalise.ts) and for the
 * Run dialog and the run API (islands/RunContainerDialog.tsx, lib/sysctl/handlers/
 * containers.ts). Either way the settings are applied only after an explicit
 * acknowledgement (`acknowledge_risks: true`). No imports: the browser bundles it too.
 */

export type RiskSetting =
  | "volumes"
  | "cap_add"
  | "privileged"
  | "pid"
  | "ipc"
  | "network_mode"
  | "devices";

export interface Risk {
  setting: RiskSetting;
  /** The entry of a list setting (volumes, cap_add) the risk is about. */
  index?: number;
  message: string;
}

/** The settings judged; each is optional (the run API has only binds). */
export interface RiskySettings {
  /** Bind sources as written: absolute host paths, or compose's relative ones. */
  binds?: readonly string[];
  capAdd?: readonly string[];
  privileged?: boolean;
  pid?: string;
  ipc?: string;
  networkMode?: string;
  devices?: readonly string[];
}

/** POSIX path.Clean for absolute paths: `//etc/`, `/etc/../etc` and `/etc/.` are `/etc`. */
function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

const SOCKETS = [
  ["/var/run/docker.sock", "the Docker socket (full control of the host)"],
  ["/run/docker.sock", "the Docker socket (full control of the host)"],
  ["/run/containerd/containerd.sock", "the containerd socket (full control of the host)"],
  ["/var/run/containerd/containerd.sock", "the containerd socket (full control of the host)"],
] as const;

/** Host folders a bind of which (or of anything under them) reaches past the container. */
const TREES = [
  ["/root", "the host's /root (root's keys and files)"],
  ["/var/lib/docker", "the host's /var/lib/docker (every container's files)"],
  ["/proc", "the host's /proc"],
  ["/sys", "the host's /sys"],
  ["/boot", "the host's /boot"],
] as const;

/** Host folders flagged only when bound whole (single files under them are common). */
const WHOLE = [
  ["/etc", "the host's /etc (its accounts and configuration)"],
  ["/dev", "the host's /dev (every device)"],
] as const;

/** Why binding host path `source` into a container is dangerous, or null. */
export function bindRisk(source: string): string | null {
  // A relative compose source resolves under the stack's own folder; climbing out of it
  // can reach anything on the host.
  if (source.startsWith(".") && source.split("/").includes("..")) {
    return "a folder outside the stack's own folder";
  }
  if (!source.startsWith("/")) return null;
  const path = cleanPath(source);
  if (path === "/") return "the host's whole filesystem";
  for (const [socket, what] of SOCKETS) {
    // The socket itself, or a folder that holds it (/var/run, /run).
    if (socket === path || socket.startsWith(`${path}/`)) return what;
  }
  for (const [tree, what] of TREES) {
    if (path === tree || path.startsWith(`${tree}/`)) return what;
  }
  for (const [folder, what] of WHOLE) if (path === folder) return what;
  return null;
}

/** Capabilities that amount to power over the host, and what each allows. */
const CAPABILITIES: Record<string, string> = {
  ALL: "every capability",
  SYS_ADMIN: "near-root power over the host (mounts, namespaces)",
  SYS_MODULE: "loading kernel modules into the host's kernel",
  DAC_READ_SEARCH: "reading any file on the host through open_by_handle_at",
  SYS_PTRACE: "tracing and injecting into other processes",
  SYS_RAWIO: "raw access to the host's memory and I/O ports",
};

/** Every risky setting in `settings`, in a stable order. */
export function risksOf(settings: RiskySettings): Risk[] {
  const risks: Risk[] = [];
  (settings.binds ?? []).forEach((source, index) => {
    const why = bindRisk(source);
    if (why) {
      risks.push({
        setting: "volumes",
        index,
        message: `a bind of ${JSON.stringify(source)} mounts ${why} into the container`,
      });
    }
  });
  (settings.capAdd ?? []).forEach((cap, index) => {
    const name = cap.toUpperCase().replace(/^CAP_/, "");
    if (name in CAPABILITIES) {
      risks.push({
        setting: "cap_add",
        index,
        message: `cap_add ${name} gives the container ${CAPABILITIES[name]}`,
      });
    }
  });
  if (settings.privileged) {
    risks.push({
      setting: "privileged",
      message: "privileged: true gives the container full access to the host",
    });
  }
  if (settings.pid === "host") {
    risks.push({
      setting: "pid",
      message: "pid: host lets the container see and signal every process on the host",
    });
  }
  if (settings.ipc === "host") {
    risks.push({
      setting: "ipc",
      message: "ipc: host shares the host's shared memory and message queues with the container",
    });
  }
  if (settings.networkMode === "host") {
    risks.push({
      setting: "network_mode",
      message: "network_mode: host puts the container on the host's network stack",
    });
  }
  if (settings.devices?.length) {
    risks.push({
      setting: "devices",
      message: `devices gives the container direct access to host devices (${
        settings.devices.join(", ")
      })`,
    });
  }
  return risks;
}

/** One line naming every risk, for an error message or an audit row. */
export function describeRisks(risks: readonly Risk[]): string {
  return risks.map((risk) => risk.message).join("; ");
}
