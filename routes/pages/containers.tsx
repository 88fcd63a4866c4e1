import type { AppDeps } from "../deps.ts";
import { containerListFor } from "../../lib/docker/container_list.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { Island } from "../_components/Island.tsx";
import type { ContainerView, Role } from "../../islands/containers/types.ts";
import { packContainers } from "../../islands/containers/packed.ts";

/**
 * The Containers tab. The island gets the list as the server read it, in the compact packed
 * form (1000 containers as full views were about 2 MB of HTML), and the server renders the
 * first screenful of rows; from then on it follows the Engine's events by itself. With the Engine
 * unreachable at load the page says so (EngineStatus reloads it when the Engine is back).
 */
export async function containersPage(deps: AppDeps, reachable: boolean, role: Role | null = null) {
  let containers: ContainerView[] = [];
  if (reachable) {
    try {
      const list = containerListFor(deps.docker, deps.events, deps.config.managedLabel);
      containers = await list.views() as ContainerView[];
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Containers</h1>
      </div>
      {reachable
        ? (
          <Island
            name="ContainersTable"
            props={{ role, packed: packContainers(containers), endpoint: deps.docker.endpoint }}
          />
        )
        : <EngineDown endpoint={deps.docker.endpoint} />}
    </section>
  );
}
