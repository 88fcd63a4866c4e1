/**
 * The YNode tree of a compose file → ComposeProject (types.ts). Every value a service uses
 * is interpolated just before it is read (sections that are dropped are never
 * interpolated, so a `${X:?}` inside `build:` cannot fail an import that ignores it).
 * Problems that make the file unusable throw ComposeError naming the service, the entry
 * and the line; everything else that is dropped or dangerous becomes a warning.
 *
 * Typed readers and the per-import Context live in readers.ts, one normaliser per compose
 * key (or small group of keys) in keys/, and the risk policy in lib/risks.ts.
 */
import type { ComposeProject, NetworkSpec, VolumeSpec } from "./types.ts";
import type { YMap } from "./yaml.ts";
import { asMap, Context, isNull, type NormaliseOptions, prefix, setOwn } from "./readers.ts";
import { type PendingService, service } from "./keys/service.ts";
import { topLevel } from "./keys/top_level.ts";
import { fileObjects } from "./keys/secrets.ts";
import { applyExtends } from "./keys/extends.ts";
import { applyInclude } from "./keys/include.ts";
import { serviceProfiles } from "./keys/profiles.ts";

export type { NormaliseOptions } from "./readers.ts";
export { MAX_PORT_MAPPINGS } from "./keys/ports.ts";
export { MAX_ENV_BYTES } from "./keys/environment.ts";
export { cleanPath } from "./keys/volumes.ts";
export { type DeviceMapping, parseDevice } from "./keys/devices.ts";
export { newServiceSpec } from "./keys/service.ts";

const TOP_LEVEL_KEYS = new Set([
  "version",
  "name",
  "services",
  "networks",
  "volumes",
  "include",
  "secrets",
  "configs",
]);
const UNSUPPORTED_TOP_LEVEL: Record<string, string> = {};

/** Builds the project from the parsed (not yet interpolated) root map. */
export function normaliseProject(root: YMap, options: NormaliseOptions): ComposeProject {
  const ctx = new Context(options);

  for (const entry of root.entries.values()) {
    const key = entry.key;
    if (TOP_LEVEL_KEYS.has(key) || key.startsWith("x-")) continue;
    if (key in UNSUPPORTED_TOP_LEVEL) {
      ctx.warn("unsupported", entry.keyLine, null, UNSUPPORTED_TOP_LEVEL[key]);
    } else {
      ctx.warn(
        "unknown",
        entry.keyLine,
        null,
        `Unknown top-level key ${JSON.stringify(key)} was ignored`,
      );
    }
  }
  const version = root.entries.get("version");
  if (version) {
    ctx.warn(
      "obsolete",
      version.keyLine,
      null,
      "version: is obsolete and was ignored (the Compose Specification needs none)",
    );
  }

  applyInclude(ctx, root);
  const networks = topLevel<NetworkSpec>(ctx, root.entries.get("networks")?.value, "networks");
  const volumes = topLevel<VolumeSpec>(ctx, root.entries.get("volumes")?.value, "volumes");

  // A file without services (networks or volumes only) is a project, as for the CLI.
  const servicesEntry = root.entries.get("services");
  const servicesMap: YMap = !servicesEntry || isNull(servicesEntry.value)
    ? { kind: "map", entries: new Map(), line: 1 }
    : asMap(ctx, servicesEntry.value, "services");
  applyExtends(ctx, servicesMap);
  const names = [...servicesMap.entries.keys()];
  names.sort();

  const profiles = serviceProfiles(ctx, servicesMap, options.profiles ?? []);
  const pending = new Map<string, PendingService>();
  const skipped = new Set<string>();
  for (const name of names) {
    if (profiles.disabled.has(name)) continue;
    const result = service(ctx, name, servicesMap.entries.get(name)!, networks, volumes);
    if (result && result.spec.replicas === 0) {
      skipped.add(name);
      ctx.warn(
        "unsupported",
        result.spec.line,
        name,
        `${prefix(name)}deploy.replicas is 0, so no container is created (as the CLI does)`,
      );
    } else if (result) pending.set(name, result);
    else skipped.add(name);
  }

  // Services that share the network stack of a skipped service cannot run either.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, { spec, networkModeLine }] of pending) {
      const target = spec.network_mode?.startsWith("service:")
        ? spec.network_mode.slice("service:".length)
        : null;
      if (target === null) continue;
      if (profiles.disabled.has(target)) {
        ctx.fail(
          `${prefix(name)}network_mode: service:${target} needs ${
            JSON.stringify(target)
          }, which is in an inactive profile (${profiles.disabled.get(target)!.join(", ")})`,
          networkModeLine,
        );
      }
      if (!names.includes(target)) {
        ctx.fail(
          `${prefix(name)}network_mode refers to the unknown service ${JSON.stringify(target)}`,
          networkModeLine,
        );
      }
      if (skipped.has(target)) {
        ctx.warn(
          "unsupported",
          networkModeLine,
          name,
          `${prefix(name)}shares the network of ${
            JSON.stringify(target)
          }, which was skipped, so it was skipped too`,
        );
        pending.delete(name);
        skipped.add(name);
        changed = true;
      }
    }
  }

  const containerNames = new Map<string, string>();
  for (const [name, { spec, dependsLines, networkModeLine }] of pending) {
    for (const dependency of Object.keys(spec.depends_on)) {
      const line = dependsLines.get(dependency) ?? spec.line;
      const required = spec.depends_on[dependency].required;
      if (profiles.disabled.has(dependency)) {
        // As compose-go: an optional dependency on a disabled service is dropped quietly.
        if (!required) {
          delete spec.depends_on[dependency];
          continue;
        }
        ctx.fail(
          `${prefix(name)}depends on ${
            JSON.stringify(dependency)
          }, which is in an inactive profile (${
            profiles.disabled.get(dependency)!.join(", ")
          }): activate the profile, or mark the dependency required: false`,
          line,
        );
      }
      if (!required && !pending.has(dependency) && !skipped.has(dependency)) {
        ctx.warn(
          "unknown",
          line,
          name,
          `${prefix(name)}depends_on names ${
            JSON.stringify(dependency)
          }, which is not in the file; the optional dependency (required: false) was dropped`,
        );
        delete spec.depends_on[dependency];
        continue;
      }
      if (skipped.has(dependency)) {
        ctx.warn(
          "unsupported",
          line,
          name,
          `${prefix(name)}depends on ${
            JSON.stringify(dependency)
          }, which was skipped; the dependency was dropped`,
        );
        delete spec.depends_on[dependency];
      } else if (!pending.has(dependency)) {
        ctx.fail(
          `${prefix(name)}depends_on names the unknown service ${JSON.stringify(dependency)}`,
          line,
        );
      }
    }
    // Sharing another service's network stack means starting after it.
    const target = spec.network_mode?.startsWith("service:")
      ? spec.network_mode.slice("service:".length)
      : null;
    if (target && !Object.hasOwn(spec.depends_on, target)) {
      // As compose-go does: the implied dependency restarts this service with its target.
      setOwn(spec.depends_on, target, {
        condition: "service_started",
        required: true,
        restart: true,
      });
      dependsLines.set(target, networkModeLine ?? spec.line);
    }
    if (spec.container_name) {
      const other = containerNames.get(spec.container_name);
      if (other) {
        ctx.fail(
          `${prefix(name)}container_name ${JSON.stringify(spec.container_name)} is also used by ${
            JSON.stringify(other)
          }`,
          spec.line,
        );
      }
      containerNames.set(spec.container_name, name);
    }
  }

  const services = [...pending.values()].map((p) => p.spec);
  const projectNetworks: Record<string, NetworkSpec> = {};
  for (const [key, { spec }] of networks) setOwn(projectNetworks, key, spec);
  if (!networks.has("default") && services.some((s) => Object.hasOwn(s.networks, "default"))) {
    setOwn(projectNetworks, "default", { name: `${ctx.project}_default`, external: false });
  }
  const projectVolumes: Record<string, VolumeSpec> = {};
  for (const [key, { spec }] of volumes) setOwn(projectVolumes, key, spec);
  // Secrets and configs the services use (after every service is read).
  const files = fileObjects(ctx, root, services);

  return {
    name: ctx.project,
    services,
    profiles: profiles.all,
    active_profiles: profiles.active,
    disabled_services: [...profiles.disabled.keys()].sort(),
    networks: projectNetworks,
    volumes: projectVolumes,
    ...files,
    warnings: options.warnings,
  };
}
