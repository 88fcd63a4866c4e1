/**
 * The Volumes tab: the list (driver, mount point, created, labels, compose project, the
 * containers using each, sizes when asked), details per row, and for admins create,
 * remove (refused while in use), prune of unused volumes and the file browser.
 */
import { useMemo, useState } from "preact/hooks";
import { api } from "./api.ts";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { SortHeader, type SortState } from "./shared/SortHeader.tsx";
import { attempt, ConfirmDialog } from "./shared/ConfirmDialog.tsx";
import { formatBytes, formatDate, parseTimestamp } from "./images/format.ts";
import { CreateVolumeDialog } from "./volumes/CreateVolumeDialog.tsx";
import { BrowseDialog } from "./volumes/BrowseDialog.tsx";
import { keyValueEntries } from "./volumes/kv.ts";
import type { Role, VolumeSizes, VolumeView } from "./volumes/types.ts";
import { useLive } from "./shared/live.ts";
import { pagePath } from "./env.ts";

export interface VolumesPanelProps {
  role: Role;
  volumes: VolumeView[];
}

type SortKey = "name" | "driver" | "created" | "size" | "used";

function usersText(volume: VolumeView) {
  return volume.containers.map((c) => `${c.name} (${c.state})`).join(", ");
}

export function VolumesPanel({ role, volumes: initial }: VolumesPanelProps) {
  const isAdmin = role === "admin";
  const [volumes, setVolumes] = useState(initial);
  const [sizes, setSizes] = useState<VolumeSizes | null>(null);
  const [measuring, setMeasuring] = useState(false);
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: 1 });
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<VolumeView | null>(null);
  const [pruning, setPruning] = useState(false);
  const [browsing, setBrowsing] = useState<string | null>(null);

  async function refresh(withSizes = false) {
    try {
      const answer = await api<{ volumes: VolumeView[] } & Partial<VolumeSizes>>(
        "GET",
        `/api/containers/volumes${withSizes ? "?size=1" : ""}`,
      );
      setVolumes(answer.volumes);
      if (answer.sizes && answer.measured_at) {
        setSizes({ sizes: answer.sizes, measured_at: answer.measured_at });
      }
    } catch (e) {
      setNotice({ kind: "error", text: `Could not read the volumes: ${(e as Error).message}` });
    }
  }

  // Created or removed anywhere (the CLI too); a container's create or destroy changes
  // which containers use a volume.
  useLive(
    (event) =>
      (event.kind === "object" && event.type === "volume") ||
      (event.kind === "container" && (event.action === "create" || event.action === "destroy")),
    () => void refresh(),
  );

  async function measure() {
    setMeasuring(true);
    await refresh(true);
    setMeasuring(false);
  }

  const shown = useMemo(() => {
    const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const sizeOf = (v: VolumeView) => sizes?.sizes[v.name]?.size ?? -1;
    const by: Record<SortKey, (a: VolumeView, b: VolumeView) => number> = {
      name: (a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      driver: (a, b) => a.driver < b.driver ? -1 : a.driver > b.driver ? 1 : 0,
      created: (a, b) => (a.created_at ?? "") < (b.created_at ?? "") ? -1 : 1,
      size: (a, b) => sizeOf(a) - sizeOf(b),
      used: (a, b) => a.containers.length - b.containers.length,
    };
    return volumes.filter((v) => {
      const text = [
        v.name,
        v.driver,
        v.compose_project ?? "",
        ...v.containers.map((c) => c.name),
        ...Object.entries(v.labels).map(([k, val]) => `${k}=${val}`),
        v.containers.length ? "in-use" : "unused",
      ].join(" ").toLowerCase();
      return words.every((word) => text.includes(word));
    }).sort((a, b) => by[sort.key](a, b) * sort.dir || by.name(a, b));
  }, [volumes, query, sort, sizes]);

  const unused = volumes.filter((v) => v.containers.length === 0);
  const header = (key: SortKey, label: string, className: string, firstDir: 1 | -1 = 1) => (
    <SortHeader
      column={key}
      label={label}
      class={className}
      sort={sort}
      firstDir={firstDir}
      onSort={setSort}
    />
  );

  return (
    <div class="stack vn-panel">
      <div class="im-toolbar">
        <input
          type="search"
          class="im-filter"
          placeholder="Filter volumes…"
          aria-label="Filter volumes"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <span class="muted im-count">
          {volumes.length} {volumes.length === 1 ? "volume" : "volumes"} · {unused.length} unused
          {sizes && (
            <span class="vn-measured" title={sizes.measured_at}>
              {` · sizes measured ${formatDate(parseTimestamp(sizes.measured_at))}`}
            </span>
          )}
        </span>
        <div class="im-toolbar-actions">
          <button type="button" class="btn" onClick={() => refresh(sizes !== null)}>Refresh</button>
          <button
            type="button"
            class="btn"
            disabled={measuring}
            onClick={measure}
            title="Asks the Engine to measure every volume (docker system df); can take a while"
          >
            {measuring ? "Measuring…" : sizes ? "Measure again" : "Measure sizes"}
          </button>
          {isAdmin && (
            <>
              <button type="button" class="btn" onClick={() => setPruning(true)}>
                Prune unused
              </button>
              <button type="button" class="btn primary" onClick={() => setCreating(true)}>
                Create volume
              </button>
            </>
          )}
        </div>
      </div>

      {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}

      {volumes.length === 0
        ? (
          <div class="empty">
            <p class="empty-title">No volumes on this host.</p>
            <p class="muted">
              {isAdmin
                ? "Create one here, or run a container or a compose stack with a named volume."
                : "Volumes appear here once an admin creates one or a container uses one."}
            </p>
          </div>
        )
        : shown.length === 0
        ? (
          <div class="empty">
            <p class="empty-title">No volume matches “{query}”.</p>
            <button type="button" class="btn" onClick={() => setQuery("")}>Clear the filter</button>
          </div>
        )
        : (
          <table class="table vn-table">
            <thead>
              <tr>
                {header("name", "Name", "vn-col-name")}
                {header("driver", "Driver", "vn-col-driver")}
                <th class="vn-col-project">Project</th>
                {header("used", "Used by", "vn-col-used", -1)}
                {header("size", "Size", "vn-col-size", -1)}
                {header("created", "Created", "vn-col-created", -1)}
                {isAdmin && (
                  <th class="vn-col-actions">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {shown.map((volume) => {
                const size = sizes?.sizes[volume.name];
                const expanded = open === volume.name;
                return [
                  <tr
                    key={volume.name}
                    data-volume={volume.name}
                    class={expanded ? "vn-row is-open" : "vn-row"}
                  >
                    <td class="vn-col-name">
                      <button
                        type="button"
                        class="vn-name mono"
                        aria-expanded={expanded}
                        title={volume.name}
                        onClick={() => setOpen(expanded ? null : volume.name)}
                      >
                        {volume.name}
                      </button>
                    </td>
                    <td class="vn-col-driver mono">{volume.driver}</td>
                    <td class="vn-col-project">
                      {volume.compose_project
                        ? <span class="pill">{volume.compose_project}</span>
                        : <span class="muted">–</span>}
                    </td>
                    <td class="vn-col-used">
                      {volume.containers.length === 0
                        ? <span class="muted">unused</span>
                        : (
                          <span class="vn-users">
                            {volume.containers.map((c) => (
                              <a
                                key={c.id}
                                class="vn-user"
                                href={pagePath(`/containers?${new URLSearchParams({ q: c.name })}`)}
                                title={`${c.name} (${c.state}) at ${c.destination}${
                                  c.read_only ? ", read-only" : ""
                                }`}
                              >
                                {c.name}
                              </a>
                            ))}
                          </span>
                        )}
                    </td>
                    <td
                      class="vn-col-size"
                      title={size ? `${size.size.toLocaleString("en-US")} bytes` : "Not measured"}
                    >
                      {size
                        ? (size.size < 0 ? "–" : formatBytes(size.size))
                        : <span class="muted">–</span>}
                    </td>
                    <td class="vn-col-created muted">
                      {volume.created_at ? formatDate(Date.parse(volume.created_at)) : "–"}
                    </td>
                    {isAdmin && (
                      <td class="vn-col-actions">
                        <button
                          type="button"
                          class="btn small"
                          onClick={() => setBrowsing(volume.name)}
                        >
                          Browse
                        </button>
                        <span
                          title={volume.containers.length
                            ? `In use by ${usersText(volume)}; remove those containers first`
                            : `Remove ${volume.name}`}
                        >
                          <button
                            type="button"
                            class="btn small danger-outline"
                            disabled={volume.containers.length > 0}
                            aria-label={`Remove ${volume.name}`}
                            onClick={() => setRemoving(volume)}
                          >
                            Remove
                          </button>
                        </span>
                      </td>
                    )}
                  </tr>,
                  expanded && (
                    <tr key={`${volume.name}-details`} class="details vn-details">
                      <td colSpan={isAdmin ? 7 : 6}>
                        <dl>
                          <dt>Mount point</dt>
                          <dd class="mono vn-break">{volume.mountpoint}</dd>
                          <dt>Scope</dt>
                          <dd>{volume.scope}</dd>
                          <dt>Labels</dt>
                          <dd>{kvList(volume.labels)}</dd>
                          <dt>Driver options</dt>
                          <dd>{kvList(volume.options)}</dd>
                          <dt>Containers</dt>
                          <dd>
                            {volume.containers.length === 0
                              ? <span class="muted">none</span>
                              : (
                                <ul class="vn-list">
                                  {volume.containers.map((c) => (
                                    <li key={c.id}>
                                      <a
                                        href={pagePath(
                                          `/containers?${new URLSearchParams({ q: c.name })}`,
                                        )}
                                      >
                                        {c.name}
                                      </a>{" "}
                                      <span class="muted">
                                        ({c.state}) at <span class="mono">{c.destination}</span>
                                        {c.read_only ? ", read-only" : ""}
                                      </span>
                                    </li>
                                  ))}
                                </ul>
                              )}
                          </dd>
                        </dl>
                      </td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        )}

      {creating && (
        <CreateVolumeDialog
          onClose={() => setCreating(false)}
          onCreated={async (volume) => {
            setCreating(false);
            setNotice({ kind: "ok", text: `Created volume ${volume.name}.` });
            await refresh(sizes !== null);
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          id="vn-volume-remove"
          title="Remove volume"
          action="Remove volume"
          busyText="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={() =>
            attempt(async () => {
              await api("DELETE", `/api/containers/volumes/${encodeURIComponent(removing.name)}`);
              setNotice({ kind: "ok", text: `Removed volume ${removing.name}.` });
              setRemoving(null);
              await refresh(sizes !== null);
            })}
        >
          <p class="im-confirm-what">
            <span class="mono im-break">{removing.name}</span>
          </p>
          <p class="im-small">Its data is deleted from disk. This cannot be undone.</p>
        </ConfirmDialog>
      )}
      {pruning && (
        <ConfirmDialog
          id="vn-volume-prune"
          class="im-prune"
          title="Prune unused volumes"
          action={`Delete ${unused.length} ${unused.length === 1 ? "volume" : "volumes"}`}
          busyText="Pruning…"
          empty={unused.length === 0
            ? <p>No unused volumes: every volume is mounted by a container.</p>
            : undefined}
          onClose={() => setPruning(false)}
          onConfirm={() =>
            attempt(async () => {
              const result = await api<{ deleted: string[]; reclaimed_bytes: number }>(
                "POST",
                "/api/containers/volumes/prune",
                {},
              );
              setPruning(false);
              setNotice({
                kind: "ok",
                text: `Pruned ${result.deleted.length} ${
                  result.deleted.length === 1 ? "volume" : "volumes"
                }: reclaimed ${formatBytes(result.reclaimed_bytes)}.`,
              });
              await refresh(sizes !== null);
            })}
        >
          <p>No container uses these volumes. Their data is deleted from disk:</p>
          <ul class="vn-list mono im-prune-list">
            {unused.map((v) => <li key={v.name} class="vn-break">{v.name}</li>)}
          </ul>
        </ConfirmDialog>
      )}
      {browsing && <BrowseDialog volume={browsing} onClose={() => setBrowsing(null)} />}
    </div>
  );
}

function kvList(map: Record<string, string>) {
  const entries = keyValueEntries(map);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="vn-list mono">
      {entries.map(([key, value]) => (
        <li key={key} class="vn-break">{value ? `${key}=${value}` : key}</li>
      ))}
    </ul>
  );
}
