/** A container row menu's update items: the tag's newer image, then each newer version. */
import type { MenuItem } from "../containers/ActionMenu.tsx";
import type { Updates } from "./useUpdates.ts";

export function updateItems(
  updates: Updates,
  container: { id: string; name: string },
  locked: boolean,
): MenuItem[] {
  const result = updates.byId.get(container.id);
  if (!result) return [];
  const disabled = locked || !!updates.updating;
  const items: MenuItem[] = [];
  if (result.state === "update_available") {
    items.push({ label: "Update", onSelect: () => updates.apply(container), disabled });
  }
  for (const level of ["patch", "minor", "major"] as const) {
    const tag = result.versions?.[level];
    if (tag) {
      items.push({
        label: `Update to ${tag} (${level})`,
        onSelect: () => updates.apply(container, tag),
        disabled,
      });
    }
  }
  return items;
}
