/**
 * The Networks tab: every network with its driver, scope, subnets, flags, compose project
 * and the containers attached (with their addresses); details per row (aliases); for
 * admins create, remove (built-ins never; refused while containers are attached), connect,
 * disconnect and prune.
 */
import { useMemo, useState } from "preact/hooks";
import { api } from "./api.ts";
import { Notice, type NoticeValue } from "./shared/Notice.tsx";
import { SortHeader, type SortState } from "./shared/SortHeader.tsx";
import { attempt, ConfirmDialog } from "./shared/ConfirmDialog.tsx";
import { CreateNetworkDialog } from "./networks/CreateNetworkDialog.tsx";
import { ConnectDialog } from "./networks/ConnectDialog.tsx";
import { keyValueEntries } from "./volumes/kv.ts";
import { formatDate } from "./images/format.ts";
import type { NetworkView } from "../lib/docker/networks.ts";
import { useLive } from "./shared/live.ts";
import { pagePath } from "./env.ts";

export interface NetworksPanelProps {
  role: "admin" | "viewer";
  networks: NetworkView[];
}

type SortKey = "name" | "driver" | "containers";

export function NetworksPanel({ role, networks: initial }: NetworksPanelProps) {
  const isAdmin = role === "admin";
  const [networks, setNetworks] = useState(initial);
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: 1 });
  const [open, setOpen] = useState<string | null>(null);
  const [detail, setDetail] = useState<NetworkView | null>(null);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<NetworkView | null>(null);
  const [connecting, setConnecting] = useState<NetworkView | null>(null);
  const [pruning, setPruning] = useState(false);

  async function refresh() {
    try {
      const answer = await api<{ networks: NetworkView[] }>("GET", "/api/containers/networks");
      setNetworks(answer.networks);
      if (open) await loadDetail(open);
    } catch (e) {
      setNotice({ kind: "error", text: `Could not read the networks: ${(e as Error).message}` });
    }
  }

  // Created, removed, connected or disconnected anywhere (the CLI too).
  useLive((event) => event.kind === "object" && event.type === "network", () => void refresh());

  async function loadDetail(id: string) {
    try {
      const answer = await api<{ network: NetworkView }>(
        "GET",
        `/api/containers/networks/${encodeURIComponent(id)}`,
      );
      setDetail(answer.network);
    } catch {
      setDetail(null);
    }
  }

  async function disconnect(network: NetworkView, container: string) {
    try {
      await api("POST", `/api/containers/networks/${encodeURIComponent(network.id)}/disconnect`, {
        container,
      });
      setNotice({ kind: "ok", text: `Disconnected ${container} from ${network.name}.` });
    } catch (e) {
      setNotice({ kind: "error", text: (e as Error).message });
    }
    await refresh();
  }

  const shown = useMemo(() => {
    const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const by: Record<SortKey, (a: NetworkView, b: NetworkView) => number> = {
      name: (a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      driver: (a, b) => a.driver < b.driver ? -1 : a.driver > b.driver ? 1 : 0,
      containers: (a, b) => a.containers.length - b.containers.length,
    };
    return networks.filter((n) => {
      const text = [
        n.name,
        n.id.slice(0, 12),
        n.driver,
        n.compose_project ?? "",
        ...n.subnets.map((s) => s.subnet ?? ""),
        ...n.containers.map((c) => `${c.name} ${c.ipv4 ?? ""}`),
      ].join(" ").toLowerCase();
      return words.every((word) => text.includes(word));
    }).sort((a, b) => by[sort.key](a, b) * sort.dir || by.name(a, b));
  }, [networks, query, sort]);

  const prunable = networks.filter((n) => !n.built_in && n.containers.length === 0);
  const userDefined = networks.filter((n) => !n.built_in);
  const columns = isAdmin ? 7 : 6;

  return (
    <div class="stack vn-panel">
      <div class="im-toolbar">
        <input
          type="search"
          class="im-filter"
          placeholder="Filter networks…"
          aria-label="Filter networks"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <span class="muted im-count">
          {networks.length} {networks.length === 1 ? "network" : "networks"} · {userDefined.length}
          {" "}
          user-defined
        </span>
        <div class="im-toolbar-actions">
          <button type="button" class="btn" onClick={refresh}>Refresh</button>
          {isAdmin && (
            <>
              <button type="button" class="btn" onClick={() => setPruning(true)}>
                Prune unused
              </button>
              <button type="button" class="btn primary" onClick={() => setCreating(true)}>
                Create network
              </button>
            </>
          )}
        </div>
      </div>

      {notice && <Notice notice={notice} class="im-notice" onDismiss={() => setNotice(null)} />}

      {shown.length === 0
        ? (
          <div class="empty">
            <p class="empty-title">No network matches “{query}”.</p>
            <button type="button" class="btn" onClick={() => setQuery("")}>Clear the filter</button>
          </div>
        )
        : (
          <table class="table vn-table">
            <thead>
              <tr>
                <SortHeader
                  column="name"
                  label="Name"
                  class="vn-col-name"
                  sort={sort}
                  onSort={setSort}
                />
                <SortHeader
                  column="driver"
                  label="Driver"
                  class="vn-col-driver"
                  sort={sort}
                  onSort={setSort}
                />
                <th class="vn-col-subnet">Subnet / gateway</th>
                <th class="vn-col-flags">Flags</th>
                <th class="vn-col-project">Project</th>
                <SortHeader
                  column="containers"
                  label="Containers"
                  class="vn-col-used"
                  sort={sort}
                  firstDir={-1}
                  onSort={setSort}
                />
                {isAdmin && (
                  <th class="vn-col-actions">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {shown.map((network) => {
                const expanded = open === network.id;
                // The list has no aliases; the details read them (one inspect per container).
                const loaded = expanded && detail?.id === network.id;
                const full = loaded ? detail : network;
                return [
                  <tr
                    key={network.id}
                    data-network={network.name}
                    class={expanded ? "vn-row is-open" : "vn-row"}
                  >
                    <td class="vn-col-name">
                      <button
                        type="button"
                        class="vn-name mono"
                        aria-expanded={expanded}
                        title={`${network.name} (${network.id.slice(0, 12)})`}
                        onClick={() => {
                          setOpen(expanded ? null : network.id);
                          if (!expanded) loadDetail(network.id);
                        }}
                      >
                        {network.name}
                      </button>
                      {network.built_in && <span class="pill vn-builtin">built-in</span>}
                    </td>
                    <td class="vn-col-driver mono">
                      {network.driver} <span class="muted">· {network.scope}</span>
                    </td>
                    <td class="vn-col-subnet mono">
                      {network.subnets.length === 0
                        ? <span class="muted">–</span>
                        : network.subnets.map((s, i) => (
                          <div key={i} class="vn-break">
                            {s.subnet ?? "–"}
                            {s.gateway && <span class="muted">{` via ${s.gateway}`}</span>}
                          </div>
                        ))}
                    </td>
                    <td class="vn-col-flags">
                      {network.internal && <span class="pill">internal</span>}
                      {network.attachable && <span class="pill">attachable</span>}
                      {network.ipv6 && <span class="pill">IPv6</span>}
                      {!network.internal && !network.attachable && !network.ipv6 && (
                        <span class="muted">–</span>
                      )}
                    </td>
                    <td class="vn-col-project">
                      {network.compose_project
                        ? <span class="pill">{network.compose_project}</span>
                        : <span class="muted">–</span>}
                    </td>
                    <td class="vn-col-used">
                      {network.containers.length === 0
                        ? <span class="muted">none</span>
                        : (
                          <span class="vn-users">
                            {network.containers.map((c) => (
                              <a
                                key={c.id}
                                class="vn-user"
                                href={pagePath(`/containers?${new URLSearchParams({ q: c.name })}`)}
                                title={`${c.name} (${c.state})`}
                              >
                                {c.name}
                                {c.ipv4 && <span class="muted mono">{` ${c.ipv4}`}</span>}
                              </a>
                            ))}
                          </span>
                        )}
                    </td>
                    {isAdmin && (
                      <td class="vn-col-actions">
                        {network.driver !== "host" && network.driver !== "null" && (
                          <button
                            type="button"
                            class="btn small"
                            onClick={() => setConnecting(network)}
                          >
                            Connect
                          </button>
                        )}
                        {!network.built_in && (
                          <span
                            title={network.containers.length
                              ? `Containers attached: ${
                                network.containers.map((c) => c.name).join(", ")
                              }`
                              : `Remove ${network.name}`}
                          >
                            <button
                              type="button"
                              class="btn small danger-outline"
                              disabled={network.containers.length > 0}
                              aria-label={`Remove ${network.name}`}
                              onClick={() => setRemoving(network)}
                            >
                              Remove
                            </button>
                          </span>
                        )}
                      </td>
                    )}
                  </tr>,
                  expanded && (
                    <tr key={`${network.id}-details`} class="details vn-details">
                      <td colSpan={columns}>
                        <dl>
                          <dt>Id</dt>
                          <dd class="mono vn-break">{network.id}</dd>
                          <dt>Created</dt>
                          <dd>{formatDate(Date.parse(network.created))}</dd>
                          {network.subnets.map((s, i) => [
                            <dt key={`s${i}`}>Subnet</dt>,
                            <dd key={`d${i}`} class="mono">
                              {s.subnet ?? "–"}
                              {s.gateway && ` · gateway ${s.gateway}`}
                              {s.ip_range && ` · range ${s.ip_range}`}
                            </dd>,
                          ])}
                          <dt>Labels</dt>
                          <dd>{kvList(network.labels)}</dd>
                          <dt>Options</dt>
                          <dd>{kvList(network.options)}</dd>
                          <dt>Containers</dt>
                          <dd>
                            {full.containers.length === 0
                              ? <span class="muted">none</span>
                              : (
                                <table class="table compact vn-attached">
                                  <thead>
                                    <tr>
                                      <th>Container</th>
                                      <th>IPv4</th>
                                      <th>IPv6</th>
                                      <th>Aliases</th>
                                      {isAdmin && (
                                        <th>
                                          <span class="sr-only">Disconnect</span>
                                        </th>
                                      )}
                                    </tr>
                                  </thead>
                                  <tbody>
                                    {full.containers.map((c) => (
                                      <tr key={c.id} data-attached={c.name}>
                                        <td>
                                          <a
                                            href={pagePath(`/containers?${new URLSearchParams({
                                              q: c.name,
                                            })}`)}
                                          >
                                            {c.name}
                                          </a>{" "}
                                          <span class="muted">({c.state})</span>
                                        </td>
                                        <td class="mono">{c.ipv4 ?? "–"}</td>
                                        <td class="mono">{c.ipv6 ?? "–"}</td>
                                        <td class="mono vn-break">
                                          {loaded ? c.aliases.join(", ") || "–" : "…"}
                                        </td>
                                        {isAdmin && (
                                          <td>
                                            <button
                                              type="button"
                                              class="btn small"
                                              onClick={() => disconnect(network, c.name)}
                                            >
                                              Disconnect
                                            </button>
                                          </td>
                                        )}
                                      </tr>
                                    ))}
                                  </tbody>
                                </table>
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
      {userDefined.length === 0 && !query && (
        <div class="empty vn-empty-user">
          <p class="empty-title">No networks of your own yet.</p>
          <p class="muted">
            {isAdmin
              ? "Only Docker's built-in networks exist. Create one to give containers their own subnet and names."
              : "Only Docker's built-in networks exist."}
          </p>
        </div>
      )}

      {creating && (
        <CreateNetworkDialog
          onClose={() => setCreating(false)}
          onCreated={async (network) => {
            setCreating(false);
            setNotice({ kind: "ok", text: `Created network ${network.name}.` });
            await refresh();
          }}
        />
      )}
      {connecting && (
        <ConnectDialog
          network={connecting}
          onClose={() => setConnecting(null)}
          onConnected={async (container) => {
            setNotice({ kind: "ok", text: `Connected ${container} to ${connecting.name}.` });
            setConnecting(null);
            await refresh();
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          id="vn-network-remove"
          title="Remove network"
          action="Remove network"
          busyText="Removing…"
          onClose={() => setRemoving(null)}
          onConfirm={() =>
            attempt(async () => {
              await api("DELETE", `/api/containers/networks/${encodeURIComponent(removing.id)}`);
              setNotice({ kind: "ok", text: `Removed network ${removing.name}.` });
              setRemoving(null);
              await refresh();
            })}
        >
          <p class="im-confirm-what vn-break">{removing.name}</p>
        </ConfirmDialog>
      )}
      {pruning && (
        <ConfirmDialog
          id="vn-network-prune"
          title="Prune unused networks"
          action={`Remove ${prunable.length} ${prunable.length === 1 ? "network" : "networks"}`}
          busyText="Pruning…"
          empty={prunable.length === 0
            ? (
              <p class="im-confirm-what">
                No unused networks: every network of your own has containers, and built-ins stay.
              </p>
            )
            : undefined}
          onClose={() => setPruning(false)}
          onConfirm={() =>
            attempt(async () => {
              const { deleted } = await api<{ deleted: string[] }>(
                "POST",
                "/api/containers/networks/prune",
                {},
              );
              setPruning(false);
              setNotice({
                kind: "ok",
                text: deleted.length ? `Pruned ${deleted.join(", ")}.` : "Nothing to prune.",
              });
              await refresh();
            })}
        >
          <p class="im-confirm-what vn-break">
            These networks have no containers and are removed:{" "}
            {prunable.map((n) => n.name).join(", ")}
          </p>
        </ConfirmDialog>
      )}
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
