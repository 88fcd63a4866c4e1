import type { AppDeps } from "../deps.ts";
import { listImages } from "../../lib/docker/images.ts";
import { listContainers } from "../../lib/docker/containers.ts";
import { imageViews } from "../../lib/docker/views.ts";
import { listRegistries } from "../../lib/registries.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { Island } from "../_components/Island.tsx";
import type { ImageView, RegistryView, Role } from "../../islands/images/types.ts";

/**
 * The Images tab. The island gets the image list (with who uses each image) and the saved
 * registries as the server read them, so the first paint is complete. Registries come from
 * the database; with the Engine unreachable the page shows only that notice (EngineStatus
 * reloads it when the Engine is back).
 */
export async function imagesPage(deps: AppDeps, reachable: boolean, role: Role | null = null) {
  let images: ImageView[] = [];
  if (reachable) {
    try {
      const [summaries, containers] = await Promise.all([
        listImages(deps.docker),
        listContainers(deps.docker, { all: true }),
      ]);
      images = imageViews(summaries, containers);
    } catch {
      reachable = false;
    }
  }
  const registries: RegistryView[] = listRegistries(deps.db);
  return (
    <section>
      <div class="section-head">
        <h1>Images</h1>
      </div>
      {reachable
        ? <Island name="ImagesPanel" props={{ role, images, registries }} />
        : <EngineDown endpoint={deps.docker.endpoint} />}
    </section>
  );
}
