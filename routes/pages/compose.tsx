import type { VNode } from "preact";
import type { AppDeps } from "../deps.ts";
import { listStacks } from "../../lib/compose/stacks.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { Island } from "../_components/Island.tsx";
import type { Role, StackSummary } from "../../islands/compose/types.ts";

/**
 * The Compose tab. The island gets the stacks as the server read them, so the first paint
 * is complete; the editor and preview are the browser's. With the Engine unreachable the
 * page shows only that notice (EngineStatus reloads it when the Engine is back).
 */
export async function composePage(
  deps: AppDeps,
  reachable: boolean,
  role: Role | null = null,
): Promise<VNode> {
  let stacks: StackSummary[] = [];
  if (reachable) {
    try {
      stacks = await listStacks(deps.docker, deps.config.dataDir);
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Compose</h1>
        <span class="muted">
          Deploy docker-compose files as stacks; stacks made with the compose CLI show up too.
        </span>
      </div>
      {reachable
        ? <Island name="ComposePanel" props={{ role, stacks }} />
        : <EngineDown endpoint={deps.docker.endpoint} />}
    </section>
  );
}
