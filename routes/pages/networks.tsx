import type { AppDeps } from "../deps.ts";
import { networkViews } from "../../lib/docker/networks.ts";
import type { NetworkView } from "../../lib/docker/networks.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { Island } from "../_components/Island.tsx";

/** The Networks tab: the list with attached containers as the server read it. */
export async function networksPage(deps: AppDeps, reachable: boolean, role: "admin" | "viewer") {
  let networks: NetworkView[] = [];
  if (reachable) {
    try {
      networks = await networkViews(deps.docker);
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Networks</h1>
      </div>
      {reachable
        ? <Island name="NetworksPanel" props={{ role, networks }} />
        : <EngineDown endpoint={deps.docker.endpoint} />}
    </section>
  );
}
