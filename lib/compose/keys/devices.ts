/** devices: of a service. */
import { shown } from "../errors.ts";
import type { YNode } from "../yaml.ts";
import { asSeq, asString, checkKeys, type Context, isNull, prefix } from "../readers.ts";

/** One `devices:` entry in the Engine's form. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Cgroup permissions: a non-empty mix of r, w and m, each at most once (docker's rule). */
function isDeviceMode(mode: string): boolean {
  return /^[rwm]{1,3}$/.test(mode) && new Set(mode).size === mode.length;
}

/**
 * "HOST[:CONTAINER][:PERMISSIONS]" as the docker CLI reads it: the container path defaults
 * to the host path, permissions to "rwm", and a second part that is a permission set
 * ("/dev/x:r") is taken as the permissions. Returns an error message when it is invalid.
 */
export function parseDevice(spec: string): DeviceMapping | string {
  const parts = spec.split(":");
  if (parts.length > 3) return `${shown(spec)} has too many ":"-separated parts`;
  let [host, container = "", permissions = "rwm"] = parts;
  if (parts.length === 2 && isDeviceMode(container)) {
    permissions = container;
    container = "";
  }
  if (container === "") container = host;
  if (!host.startsWith("/")) return `${shown(spec)}: the host path must be absolute`;
  if (!container.startsWith("/")) return `${shown(spec)}: the container path must be absolute`;
  if (!isDeviceMode(permissions)) {
    return `${shown(spec)}: the permissions must be a combination of r, w and m`;
  }
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}

/** A CDI device name (vendor.com/class=name), which docker passes as a device request. */
const CDI_DEVICE_RE = /^[a-zA-Z0-9][a-zA-Z0-9.-]*\/[a-zA-Z0-9][a-zA-Z0-9_.-]*=[^:]+$/;

export function devices(ctx: Context, node: YNode, service: string): string[] {
  const what = `${prefix(service)}devices`;
  const out: string[] = [];
  asSeq(ctx, node, what).forEach((item, i) => {
    let spec: string;
    if (item.kind === "map") {
      checkKeys(ctx, item, ["source", "target", "permissions"], service, `devices[${i}]`);
      const source = item.entries.get("source")?.value;
      if (isNull(source)) ctx.fail(`${what}[${i}] needs a source`, item.line);
      const target = item.entries.get("target")?.value;
      const permissions = item.entries.get("permissions")?.value;
      spec = [
        asString(ctx, source!, `${what}[${i}].source`),
        ...(isNull(target) ? [] : [asString(ctx, target!, `${what}[${i}].target`)]),
        ...(isNull(permissions) ? [] : [asString(ctx, permissions!, `${what}[${i}].permissions`)]),
      ].join(":");
    } else {
      spec = asString(ctx, item, `${what}[${i}]`);
    }
    if (CDI_DEVICE_RE.test(spec)) {
      ctx.warn(
        "unsupported",
        item.line,
        service,
        `${what}[${i}]: CDI device ${shown(spec)} is not supported and was ignored`,
      );
      return;
    }
    const parsed = parseDevice(spec);
    if (typeof parsed === "string") ctx.fail(`${what}[${i}]: ${parsed}`, item.line);
    out.push(spec);
  });
  return out;
}
