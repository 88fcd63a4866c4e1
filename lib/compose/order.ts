/**
 * The order to create and start a project's services: every service after the services it
 * depends on (`depends_on`, including the implicit dependency of `network_mode:
 * service:x`), and among the services that are ready at the same time, alphabetical.
 */
import { ComposeError } from "./errors.ts";
import type { ComposeProject, ServiceSpec } from "./types.ts";

export function deployOrder(project: ComposeProject): ServiceSpec[] {
  const byName = new Map(project.services.map((service) => [service.name, service]));
  const dependencies = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const service of project.services) {
    const deps = Object.keys(service.depends_on).filter((name) => byName.has(name)).sort();
    dependencies.set(service.name, deps);
    waiting.set(service.name, new Set(deps).size);
    for (const dep of new Set(deps)) {
      const list = dependents.get(dep) ?? [];
      list.push(service.name);
      dependents.set(dep, list);
    }
  }

  const ready = [...byName.keys()].filter((name) => waiting.get(name) === 0).sort();
  const order: ServiceSpec[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(byName.get(name)!);
    for (const dependent of dependents.get(name) ?? []) {
      const left = waiting.get(dependent)! - 1;
      waiting.set(dependent, left);
      if (left === 0) {
        const at = ready.findIndex((other) => other > dependent);
        ready.splice(at < 0 ? ready.length : at, 0, dependent);
      }
    }
  }
  if (order.length === byName.size) return order;

  // Every service left waits on another one left: walk from the first (alphabetically)
  // along its first unfinished dependency until a service repeats.
  const placed = new Set(order.map((service) => service.name));
  const left = [...byName.keys()].filter((name) => !placed.has(name)).sort();
  const path: string[] = [];
  const seen = new Map<string, number>();
  let current = left[0];
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = dependencies.get(current)!.find((dep) => !placed.has(dep))!;
  }
  // Start the cycle at its alphabetically first service, so the message is stable.
  const ring = path.slice(seen.get(current)!);
  const start = ring.indexOf([...ring].sort()[0]);
  const cycle = [...ring.slice(start), ...ring.slice(0, start), ring[start]];
  const first = byName.get(cycle[0])!;
  throw new ComposeError(`Dependency cycle: ${cycle.join(" -> ")}`, "yaml", first.line);
}
