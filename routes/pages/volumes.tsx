import type { AppDeps } from "../deps.ts";
import { volumeViews } from "../../lib/docker/volumes.ts";
import type { VolumeView } from "../../lib/docker/volumes.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { Island } from "../_components/Island.tsx";

/**
 * The Volumes tab. The island gets the list as the server read it (sizes are measured only
 * when someone asks); with the Engine unreachable the page says so.
 */
export async function volumesPage(deps: AppDeps, reachable: boolean, role: "admin" | "viewer") {
  let volumes: VolumeView[] = [];
  if (reachable) {
    try {
      volumes = await volumeViews(deps.docker);
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Volumes</h1>
      </div>
      {reachable
        ? <Island name="VolumesPanel" props={{ role, volumes }} />
        : <EngineDown endpoint={deps.docker.endpoint} />}
    </section>
  );
}
