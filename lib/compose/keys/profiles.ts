/**
 * `profiles:` of each service, read before the services themselves: a service with
 * profiles runs only when one of them is active ("*" activates all), as the CLI decides.
 */
import { shown } from "../errors.ts";
import type { YMap } from "../yaml.ts";
import { type Context, isNull, prefix, stringList } from "../readers.ts";

const PROFILE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface Profiles {
  /** Every profile the file names, sorted. */
  all: string[];
  /** The active profiles as given (only valid names), sorted. */
  active: string[];
  /** Disabled service → its profiles. */
  disabled: Map<string, string[]>;
}

export function serviceProfiles(ctx: Context, services: YMap, active: string[]): Profiles {
  const activeSet = new Set(active);
  const all = new Set<string>();
  const disabled = new Map<string, string[]>();
  for (const [name, entry] of services.entries) {
    if (entry.value.kind !== "map") continue;
    const node = entry.value.entries.get("profiles")?.value;
    if (node === undefined || isNull(node)) continue;
    ctx.interpolate(node, name, "profiles");
    const what = `${prefix(name)}profiles`;
    const list = stringList(ctx, node, what).map(({ value, line }) => {
      if (!PROFILE_RE.test(value)) {
        ctx.fail(`${what}: ${shown(value)} is not a valid profile name`, line);
      }
      all.add(value);
      return value;
    });
    if (list.length === 0 || activeSet.has("*")) continue;
    if (!list.some((profile) => activeSet.has(profile))) disabled.set(name, list);
  }
  return {
    all: [...all].sort(),
    active: [...activeSet].filter((p) => p === "*" || PROFILE_RE.test(p)).sort(),
    disabled,
  };
}
