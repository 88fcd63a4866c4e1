import type { AppDeps } from "../deps.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import type { ContainerSummary } from "../../lib/docker/types.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { formatAge } from "../_components/format.ts";

export async function containersPage(deps: AppDeps, reachable: boolean) {
  let containers: ContainerSummary[] = [];
  if (reachable) {
    try {
      containers = await listContainers(deps.docker, { all: true });
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Containers</h1>
        {reachable && (
          <span class="muted">
            {containers.length} in all, {containers.filter((c) => c.State === "running").length}
            {" "}
            running
          </span>
        )}
      </div>
      {!reachable && <EngineDown endpoint={deps.docker.endpoint} />}
      {reachable && containers.length === 0 && (
        <div class="empty">
          <p class="empty-title">No containers on this node yet.</p>
        </div>
      )}
      {containers.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Image</th>
              <th>State</th>
              <th>Ports</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {containers.map((container) => {
              const name = (container.Names[0] ?? container.Id.slice(0, 12)).replace(/^\//, "");
              return (
                <tr>
                  <td class="name" title={name}>{name}</td>
                  <td class="mono truncate" title={container.Image}>{container.Image}</td>
                  <td>
                    <span class={`pill state-${container.State}`}>{container.State}</span>{" "}
                    <span class="muted">{container.Status}</span>
                  </td>
                  <td class="mono">
                    {container.Ports.filter((p) => p.PublicPort).map((p) =>
                      `${p.PublicPort}:${p.PrivatePort}/${p.Type}`
                    ).join(", ") || "–"}
                  </td>
                  <td class="muted">{formatAge(container.Created)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
