import type { AppDeps } from "../deps.ts";
import { listImages } from "../../lib/docker/images.ts";
import type { ImageSummary } from "../../lib/docker/types.ts";
import { EngineDown } from "../_components/EngineDown.tsx";
import { formatAge, formatBytes } from "../_components/format.ts";

export async function imagesPage(deps: AppDeps, reachable: boolean) {
  let images: ImageSummary[] = [];
  if (reachable) {
    try {
      images = await listImages(deps.docker);
    } catch {
      reachable = false;
    }
  }
  return (
    <section>
      <div class="section-head">
        <h1>Images</h1>
        {reachable && <span class="muted">{images.length} images</span>}
      </div>
      {!reachable && <EngineDown endpoint={deps.docker.endpoint} />}
      {reachable && images.length === 0 && (
        <div class="empty">
          <p class="empty-title">No images on this node yet.</p>
        </div>
      )}
      {images.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Repository:tag</th>
              <th>Id</th>
              <th>Size</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {images.map((image) => {
              const tags = (image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>");
              return (
                <tr>
                  <td class="mono truncate">
                    {tags.length
                      ? tags.join(", ")
                      : <span class="pill state-dangling">dangling</span>}
                  </td>
                  <td class="mono">{image.Id.replace("sha256:", "").slice(0, 12)}</td>
                  <td>{formatBytes(image.Size)}</td>
                  <td class="muted">{formatAge(image.Created)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
