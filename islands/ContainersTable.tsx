/**
 * The Containers tab: every container, live. Rows change with the Engine's events (one SSE
 * stream, no polling); CPU and memory sparklines come from the one multiplexed stats stream,
 * which closes while the tab is hidden. Actions run inline with the row busy and the
 * daemon's error under it; Inspect and Logs open in a side drawer, Exec shell (admins, running
 * containers) in a terminal modal that loads xterm.js only when it opens.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "./api.ts";
import { ActionMenu, type MenuItem } from "./containers/ActionMenu.tsx";
import { Drawer, type DrawerKind } from "./containers/Drawer.tsx";
import {
  formatBytes,
  formatDateTime,
  formatPercent,
  lifetime,
  pillClass,
  portLinks,
  stateLabel,
} from "./containers/format.ts";
import { StatsPanel } from "./containers/StatsPanel.tsx";
import {
  BULK_TEXT,
  type BulkAction,
  type BulkOutcome,
  ConfirmBulk,
  KillDialog,
  LimitsDialog,
  RecreateDialog,
  RenameDialog,
} from "./containers/OperationDialogs.tsx";
import { InspectPanel } from "./containers/InspectPanel.tsx";
import { LogsPanel } from "./containers/LogsPanel.tsx";
import { Modal } from "./shared/Modal.tsx";
import { SortHeader, type SortState } from "./shared/SortHeader.tsx";
import { ExecTerminal } from "./containers/Terminal.tsx";
import { SPARK_SAMPLES, Sparkline } from "./containers/Sparkline.tsx";
import { COLLAPSED_KEY, GROUP_KEY, groupByStack, parseCollapsed } from "./containers/grouping.ts";
import { openStream } from "./containers/sse.ts";
import { unpackContainers } from "./containers/packed.ts";
import { COMPACT_KEY, compactRows, parseCompactChoice } from "./containers/compact.ts";
import { VIRTUAL_MIN } from "./containers/virtual.ts";
import { useRowWindow } from "./containers/useRowWindow.ts";
import { useUpdates } from "./updates/useUpdates.ts";
import { UpdateBadge } from "./updates/UpdateBadge.tsx";
import { updateItems } from "./updates/menu.ts";
import { UpdatesControls } from "./updates/UpdatesControls.tsx";
import { hasUpdate } from "./updates/text.ts";
import {
  CONTAINER_RUN,
  type ContainerEvent,
  type ContainerState,
  type ContainerView,
  OPEN_RUN_DIALOG,
  type Role,
  type StatsSample,
} from "./containers/types.ts";

export interface ContainersTableProps {
  /** The signed-in user's role; null makes the island ask /api/auth/me. */
  role: Role | null;
  /** The list as the server read it, so the first paint is complete. */
  initial?: ContainerView[];
  /** The same list in packContainers' compact form (what the page sends). */
  packed?: string;
  /** Where the panel reaches the Engine, for the "unreachable" banner. */
  endpoint?: string;
}

type SortKey = "name" | "image" | "state" | "cpu" | "mem" | "ports" | "created";
/** Busiest first on the first click: the question these columns answer. */
const DESCENDING_FIRST = new Set<SortKey>(["cpu", "mem"]);
type Action = "start" | "stop" | "restart" | "remove" | "pause" | "unpause";
type Operation = "kill" | "rename" | "limits" | "recreate";

interface Series {
  cpu: number[];
  mem: number[];
  last: StatsSample;
}

const ACTIVE = new Set<ContainerState>(["running", "paused", "restarting"]);
const STATE_ORDER: Record<ContainerState, number> = {
  running: 0,
  restarting: 1,
  paused: 2,
  created: 3,
  exited: 4,
  dead: 5,
  removing: 6,
};
const BUSY_TEXT: Record<Action, string> = {
  start: "starting…",
  stop: "stopping…",
  restart: "restarting…",
  remove: "removing…",
  pause: "pausing…",
  unpause: "resuming…",
};
const FAILED_TEXT: Record<Action, string> = {
  start: "Start failed",
  stop: "Stop failed",
  restart: "Restart failed",
  remove: "Remove failed",
  pause: "Pause failed",
  unpause: "Resume failed",
};
const MANAGED_TITLE =
  "Owned by another system (it carries the --managed-label); the panel still acts on it";
const PANEL_TITLE = "Created by this panel (label io.container-manager.created-by=panel)";
const STATS_FLUSH_MS = 250;
const RESYNC_MS = 500;
const CLOCK_MS = 5_000;
const SHOW_STOPPED_KEY = "cm.containers.showStopped";
/** Stats stream for these ids at most; a longer window takes the every-container stream. */
const MAX_STATS_IDS = 200;
const STATS_RESUBSCRIBE_MS = 300;
/** Heights before a row of the kind was measured (px): normal and compact rows. */
const ESTIMATED_HEIGHT = { row: [53, 33], group: [41, 33], error: [45, 37] } as const;
const collator = new Intl.Collator(undefined, { numeric: true });
const byName = (a: ContainerView, b: ContainerView) => collator.compare(a.name, b.name);

/** One line of the table body: a stack's heading, a container, or a container's error. */
type Item =
  | { kind: "group"; key: string; project: string | null; rows: ContainerView[] }
  | { kind: "row"; key: string; c: ContainerView }
  | { kind: "error"; key: string; c: ContainerView; error: string };

/** When each view arrived: the Engine's "Up 5 minutes" is relative to that moment. */
const received = new WeakMap<ContainerView, number>();
const receivedAt = (c: ContainerView, fallback: number) => {
  let at = received.get(c);
  if (at === undefined) {
    at = fallback;
    received.set(c, at);
  }
  return at;
};

export function ContainersTable(
  { role: initialRole, initial, packed, endpoint }: ContainersTableProps,
) {
  const [role, setRole] = useState<Role | null>(initialRole);
  const [containers, setContainers] = useState<ContainerView[]>(() =>
    initial ?? (packed ? unpackContainers(packed) : [])
  );
  /** The user's choice of compact rows (null: none remembered, the count decides). */
  const [compactChoice, setCompactChoice] = useState<boolean | null>(null);
  const [query, setQuery] = useState("");
  const [showStopped, setShowStopped] = useState(true);
  const [grouped, setGrouped] = useState(false);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: 1 });
  const [engineUp, setEngineUp] = useState(true);
  const updates = useUpdates();
  const [streamDown, setStreamDown] = useState(false);
  const [busy, setBusy] = useState<Record<string, Action>>({});
  // `/containers?image=<id>` (the Images tab's used-by link) or `?q=` opens pre-filtered.
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const preset = params.get("image") ?? params.get("q");
    if (preset) setQuery(preset);
  }, []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [drawer, setDrawer] = useState<{ kind: DrawerKind; id: string; name: string } | null>(
    null,
  );
  const [confirming, setConfirming] = useState<ContainerView | null>(null);
  const [operation, setOperation] = useState<{ kind: Operation; container: ContainerView } | null>(
    null,
  );
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [bulk, setBulk] = useState<BulkAction | null>(null);
  /** The row last clicked without shift: the anchor of a shift-click range. */
  const anchor = useRef<string | null>(null);
  const [terminal, setTerminal] = useState<{ id: string; name: string } | null>(null);
  const [menu, setMenu] = useState<{ id: string; anchor: HTMLElement } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [loadedAt] = useState(() => Date.now());
  const [hostname, setHostname] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [statsVersion, setStatsVersion] = useState(0);
  const series = useRef(new Map<string, Series>());
  const statsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const isAdmin = role === "admin";
  const closeMenu = useCallback(() => setMenu(null), []);

  const refresh = useCallback(async () => {
    try {
      const answer = await api<{ containers: ContainerView[] }>("GET", "/api/containers");
      const at = Date.now();
      for (const c of answer.containers) received.set(c, at);
      setContainers(answer.containers);
      setEngineUp(true);
    } catch (e) {
      // 503 while dockerd is away: the engine event says when to try again.
      if ((e as { status?: number }).status === 503) setEngineUp(false);
    }
  }, []);

  // Things only the browser knows.
  useEffect(() => {
    setHostname(location.hostname);
    try {
      if (localStorage.getItem(SHOW_STOPPED_KEY) === "0") setShowStopped(false);
      if (localStorage.getItem(GROUP_KEY) === "1") setGrouped(true);
      setCompactChoice(parseCompactChoice(localStorage.getItem(COMPACT_KEY)));
      setCollapsed(parseCollapsed(localStorage.getItem(COLLAPSED_KEY)));
    } catch {
      // storage disabled
    }
    if (initialRole === null) {
      api<{ user: { role: Role } }>("GET", "/api/auth/me")
        .then((answer) => setRole(answer.user.role))
        .catch(() => setRole("viewer"));
    }
    const clock = setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => clearInterval(clock);
  }, []);

  // Rows follow the Engine's events.
  useEffect(() => {
    let downTimer: ReturnType<typeof setTimeout> | undefined;
    let resyncTimer: ReturnType<typeof setTimeout> | undefined;
    const close = openStream("/api/containers/events", {
      container: (event: ContainerEvent) => {
        if (event.container) received.set(event.container, Date.now());
        // The Engine announces "die" a moment before its container list says so: a view
        // that still reads "running" then is stale. Read the list again once, shortly.
        if (
          event.container?.state === "running" &&
          (event.action === "die" || event.action === "stop")
        ) {
          clearTimeout(resyncTimer);
          resyncTimer = setTimeout(refresh, RESYNC_MS);
        }
        setContainers((list) => {
          const at = list.findIndex((c) => c.id === event.id);
          if (!event.container) return at < 0 ? list : list.filter((c) => c.id !== event.id);
          if (at < 0) return [...list, event.container];
          const next = list.slice();
          next[at] = event.container;
          return next;
        });
        if (!event.container || event.container.state !== "running") {
          series.current.delete(event.id);
        }
      },
      engine: (event: { connected: boolean }) => {
        setEngineUp(event.connected);
        if (event.connected) refresh();
      },
    }, {
      onOpen: (first) => {
        clearTimeout(downTimer);
        setStreamDown(false);
        // Events may have been missed while the stream was down.
        if (!first) refresh();
      },
      onDown: (closed) => {
        clearTimeout(downTimer);
        downTimer = setTimeout(() => setStreamDown(true), 2000);
        // A closed stream may be an expired session: this sends the browser to sign in.
        if (closed) refresh();
      },
    });
    return () => {
      clearTimeout(downTimer);
      clearTimeout(resyncTimer);
      close();
    };
  }, []);

  // Stats: one stream for the running containers whose rows are rendered (or every running
  // container: a short list, or sorted by a live figure), closed while the tab is hidden.
  const [statsKey, setStatsKey] = useState<string | null>(null);
  useEffect(() => {
    if (statsKey === null || statsKey === "none") return;
    const url = statsKey === "all"
      ? "/api/containers/stats/stream"
      : `/api/containers/stats/stream?ids=${statsKey}`;
    let close: (() => void) | null = null;
    const onStats = (sample: StatsSample) => {
      let entry = series.current.get(sample.id);
      if (!entry) {
        entry = { cpu: [], mem: [], last: sample };
        series.current.set(sample.id, entry);
      }
      entry.cpu.push(sample.cpu_percent);
      entry.mem.push(sample.mem_bytes);
      if (entry.cpu.length > SPARK_SAMPLES) entry.cpu.shift();
      if (entry.mem.length > SPARK_SAMPLES) entry.mem.shift();
      entry.last = sample;
      statsTimer.current ??= setTimeout(() => {
        statsTimer.current = undefined;
        setStatsVersion((n) => n + 1);
      }, STATS_FLUSH_MS);
    };
    const sync = () => {
      if (document.visibilityState === "hidden") {
        close?.();
        close = null;
      } else if (!close) {
        close = openStream(url, { stats: onStats });
      }
    };
    sync();
    document.addEventListener("visibilitychange", sync);
    return () => {
      document.removeEventListener("visibilitychange", sync);
      close?.();
    };
  }, [statsKey]);
  useEffect(() => () => clearTimeout(statsTimer.current), []);

  // A container started from the header's dialog: highlight its row once it arrives.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onRun = (e: Event) => {
      setQuery("");
      setFlash((e as CustomEvent<{ id: string }>).detail.id);
      clearTimeout(timer);
      timer = setTimeout(() => setFlash(null), 5000);
    };
    addEventListener(CONTAINER_RUN, onRun);
    return () => {
      removeEventListener(CONTAINER_RUN, onRun);
      clearTimeout(timer);
    };
  }, []);

  const flashed = flash !== null && containers.some((c) => c.id === flash);

  async function act(container: ContainerView, action: Action, volumes = false) {
    const { id } = container;
    setBusy((b) => ({ ...b, [id]: action }));
    setErrors(({ [id]: _, ...rest }) => rest);
    try {
      if (action === "remove") {
        await api(
          "DELETE",
          `/api/containers/${encodeURIComponent(id)}${volumes ? "?volumes=1" : ""}`,
        );
        setContainers((list) => list.filter((c) => c.id !== id));
        series.current.delete(id);
      } else {
        const answer = await api<{ id: string; state: ContainerState }>(
          "POST",
          `/api/containers/${encodeURIComponent(id)}/${action}`,
        );
        // Unless an event already brought a newer view of the row (events are ordered and
        // fresher than this answer), show the state the action left.
        setContainers((list) =>
          list.map((c) => c === container ? { ...c, state: answer.state } : c)
        );
      }
    } catch (e) {
      setErrors((all) => ({ ...all, [id]: `${FAILED_TEXT[action]}: ${(e as Error).message}` }));
    } finally {
      setBusy(({ [id]: _, ...rest }) => rest);
    }
  }

  const byId = useMemo(() => new Map(containers.map((c) => [c.id, c])), [containers]);
  const needle = query.trim().toLowerCase();
  const rows = useMemo(() => {
    const filtered = containers.filter((c) => {
      if (!showStopped && !ACTIVE.has(c.state) && !busy[c.id]) return false;
      if (updates.onlyUpdates && !hasUpdate(updates.byId.get(c.id))) return false;
      if (!needle) return true;
      return c.name.toLowerCase().includes(needle) ||
        c.image.toLowerCase().includes(needle) ||
        c.id.startsWith(needle) ||
        c.image_id.startsWith(needle) ||
        c.image_id.replace("sha256:", "").startsWith(needle) ||
        (c.compose !== null &&
          `${c.compose.project}/${c.compose.service}`.toLowerCase().includes(needle));
    });
    // Containers without a sample (stopped, or not measured yet) and without published
    // ports sort after the others whichever the direction.
    const latest = (c: ContainerView, key: "cpu_percent" | "mem_bytes") =>
      series.current.get(c.id)?.last[key] ?? null;
    const lastly = (x: number | null, y: number | null) =>
      x === null ? (y === null ? 0 : 1) : y === null ? -1 : null;
    const byNumber = (x: number | null, y: number | null, a: ContainerView, b: ContainerView) =>
      lastly(x, y) ?? ((x! - y!) * sort.dir || byName(a, b));
    const compare = (a: ContainerView, b: ContainerView): number => {
      switch (sort.key) {
        case "cpu":
          return byNumber(latest(a, "cpu_percent"), latest(b, "cpu_percent"), a, b);
        case "mem":
          return byNumber(latest(a, "mem_bytes"), latest(b, "mem_bytes"), a, b);
        case "ports":
          return byNumber(firstPort(a), firstPort(b), a, b);
        case "image":
          return (collator.compare(a.image, b.image) || byName(a, b)) * sort.dir;
        case "state":
          return (STATE_ORDER[a.state] - STATE_ORDER[b.state] || byName(a, b)) * sort.dir;
        case "created":
          return (a.created - b.created || byName(a, b)) * sort.dir;
        default:
          return byName(a, b) * sort.dir;
      }
    };
    return filtered.sort(compare);
    // Sorting by a live figure re-sorts as samples arrive.
  }, [
    containers,
    needle,
    showStopped,
    sort,
    busy,
    updates.onlyUpdates && updates.byId,
    sort.key === "cpu" || sort.key === "mem" ? statsVersion : 0,
  ]);

  const groups = useMemo(() => grouped ? groupByStack(rows) : [], [grouped, rows]);
  // The rows on screen, in screen order: selection and shift-ranges leave collapsed stacks out.
  const shown = grouped
    ? groups.flatMap((group) => collapsed.has(group.project ?? "") ? [] : group.rows)
    : rows;

  const compact = compactRows(compactChoice, containers.length);
  // The table body as a flat list of lines, of which only those near the screen are rendered.
  const items = useMemo(() => {
    const list: Item[] = [];
    const addRows = (of: ContainerView[]) => {
      for (const c of of) {
        list.push({ kind: "row", key: c.id, c });
        if (errors[c.id]) {
          list.push({ kind: "error", key: `error:${c.id}`, c, error: errors[c.id] });
        }
      }
    };
    if (!grouped) addRows(rows);
    else {
      for (const group of groups) {
        const key = group.project ?? "";
        list.push({ kind: "group", key: `group:${key}`, project: group.project, rows: group.rows });
        if (!collapsed.has(key)) addRows(group.rows);
      }
    }
    return list;
  }, [grouped, groups, rows, collapsed, errors]);
  const virtual = items.length > VIRTUAL_MIN;
  const { body, offsets, windowed, onFocusIn } = useRowWindow(items, {
    enabled: virtual,
    mode: compact,
    estimate: (item) => ESTIMATED_HEIGHT[item.kind][compact ? 1 : 0],
  });

  // A container started from the header's dialog: bring its row on screen once it arrives.
  useEffect(() => {
    if (!flashed) return;
    const row = document.querySelector(`tr[data-id="${CSS.escape(flash!)}"]`);
    if (row) return row.scrollIntoView({ block: "nearest" });
    const at = items.findIndex((item) => item.kind === "row" && item.c.id === flash);
    const tbody = body.current;
    if (at < 0 || !tbody) return;
    scrollBy({ top: tbody.getBoundingClientRect().top + offsets[at] - innerHeight / 3 });
  }, [flashed]);

  // The stats stream follows the rendered rows, a moment after they settle.
  const wantedStats = useMemo(() => {
    if (!virtual || sort.key === "cpu" || sort.key === "mem") return "all";
    const ids = items.slice(windowed.start, windowed.end).flatMap((item) =>
      item.kind === "row" && item.c.state === "running" ? [item.c.id] : []
    );
    if (ids.length === 0) return "none";
    return ids.length > MAX_STATS_IDS ? "all" : ids.sort().join(",");
  }, [virtual, sort.key, items, windowed.start, windowed.end]);
  // At most one reopening per STATS_RESUBSCRIBE_MS, with the latest rows: a pause in the
  // changes is not awaited (rows that keep changing would otherwise never get their stats).
  const latestStats = useRef(wantedStats);
  latestStats.current = wantedStats;
  const resubscribe = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (statsKey === null) return setStatsKey(wantedStats);
    if (wantedStats === statsKey || resubscribe.current !== undefined) return;
    resubscribe.current = setTimeout(() => {
      resubscribe.current = undefined;
      setStatsKey(latestStats.current);
    }, STATS_RESUBSCRIBE_MS);
  }, [wantedStats, statsKey]);
  useEffect(() => () => clearTimeout(resubscribe.current), []);

  function remember(key: string, value: string) {
    try {
      localStorage.setItem(key, value);
    } catch {
      // storage disabled
    }
  }

  function toggleGroup(key: string) {
    const next = new Set(collapsed);
    if (!next.delete(key)) next.add(key);
    setCollapsed(next);
    remember(COLLAPSED_KEY, JSON.stringify([...next]));
  }

  const running = containers.filter((c) => c.state === "running").length;
  const hiddenStopped = showStopped ? 0 : containers.filter((c) => !ACTIVE.has(c.state)).length;

  const menuItems = (c: ContainerView): MenuItem[] => {
    const items: MenuItem[] = [];
    const locked = c.state === "removing" || !!busy[c.id];
    if (isAdmin) {
      items.push(
        ACTIVE.has(c.state)
          ? { label: "Stop", onSelect: () => act(c, "stop"), disabled: locked }
          : { label: "Start", onSelect: () => act(c, "start"), disabled: locked },
        { label: "Restart", onSelect: () => act(c, "restart"), disabled: locked },
      );
      if (c.state === "running") {
        items.push({ label: "Pause", onSelect: () => act(c, "pause"), disabled: locked });
      } else if (c.state === "paused") {
        items.push({ label: "Resume", onSelect: () => act(c, "unpause"), disabled: locked });
      }
      if (c.state === "running") {
        items.push({
          label: "Kill…",
          onSelect: () => setOperation({ kind: "kill", container: c }),
          disabled: locked,
        });
      }
    }
    items.push(
      {
        label: "Inspect",
        onSelect: () => setDrawer({ kind: "inspect", id: c.id, name: c.name }),
        separated: isAdmin,
      },
      { label: "Stats", onSelect: () => setDrawer({ kind: "stats", id: c.id, name: c.name }) },
      { label: "Logs", onSelect: () => setDrawer({ kind: "logs", id: c.id, name: c.name }) },
    );
    if (isAdmin && c.state === "running") {
      items.push({
        label: "Exec shell",
        onSelect: () => setTerminal({ id: c.id, name: c.name }),
        disabled: locked,
      });
    }
    if (isAdmin) {
      items.push(
        {
          label: "Rename…",
          onSelect: () => setOperation({ kind: "rename", container: c }),
          disabled: locked,
          separated: true,
        },
        {
          label: "Limits & restart policy…",
          onSelect: () => setOperation({ kind: "limits", container: c }),
          disabled: locked,
        },
        {
          label: "Duplicate / edit…",
          onSelect: () =>
            dispatchEvent(new CustomEvent(OPEN_RUN_DIALOG, { detail: { fromContainer: c.id } })),
        },
        {
          label: "Recreate…",
          onSelect: () => setOperation({ kind: "recreate", container: c }),
          disabled: locked,
        },
        {
          label: "Check for updates",
          onSelect: () => updates.check([c.id]),
          disabled: updates.checking,
        },
        ...updateItems(updates, c, locked),
      );
      items.push({
        label: "Remove…",
        onSelect: () => setConfirming(c),
        danger: true,
        separated: true,
        disabled: locked,
      });
    }
    return items;
  };

  // Selection: ids of rows still listed; a shift-click selects the range from the anchor.
  const selectedRows = shown.filter((c) => selected.has(c.id));
  const toggleRow = (c: ContainerView, shift: boolean) => {
    const next = new Set(selected);
    const on = !selected.has(c.id);
    const from = shift && anchor.current ? shown.findIndex((r) => r.id === anchor.current) : -1;
    const to = shown.findIndex((r) => r.id === c.id);
    if (from >= 0 && to >= 0) {
      for (const r of shown.slice(Math.min(from, to), Math.max(from, to) + 1)) {
        if (on) next.add(r.id);
        else next.delete(r.id);
      }
    } else if (on) next.add(c.id);
    else next.delete(c.id);
    if (!shift) anchor.current = c.id;
    setSelected(next);
  };
  const allSelected = shown.length > 0 && selectedRows.length === shown.length;
  const onBulkDone = (results: BulkOutcome[]) => {
    const failed: Record<string, string> = {};
    for (const result of results) if (!result.ok) failed[result.id] = result.error ?? "Failed";
    setErrors((all) => ({ ...all, ...failed }));
    setSelected(new Set(Object.keys(failed)));
  };

  const sortHeader = (key: SortKey, label: string, className: string) => (
    <SortHeader
      column={key}
      label={label}
      class={className}
      sort={sort}
      firstDir={DESCENDING_FIRST.has(key) ? -1 : 1}
      onSort={setSort}
    />
  );

  const columns = isAdmin ? 9 : 8;
  /** What screen readers and the measuring need on every line of the body. */
  type LineAttributes = {
    "aria-rowindex": number;
    "data-vkey": string;
    "data-vkind": Item["kind"];
  };

  const renderItem = (item: Item, index: number) => {
    const line: LineAttributes = {
      "aria-rowindex": index + 2,
      "data-vkey": item.key,
      "data-vkind": item.kind,
    };
    if (item.kind === "row") return renderRow(item.c, line);
    if (item.kind === "error") {
      const { c } = item;
      return (
        <tr key={item.key} class="ct-row-error" {...line}>
          <td colSpan={columns}>
            <span role="alert">{item.error}</span>
            <button
              type="button"
              class="btn small ghost-dark"
              onClick={() => setErrors(({ [c.id]: _, ...rest }) => rest)}
            >
              Dismiss
            </button>
          </td>
        </tr>
      );
    }
    const key = item.project ?? "";
    const closed = collapsed.has(key);
    const label = item.project ?? "No stack";
    const up = item.rows.filter((c) => c.state === "running").length;
    return (
      <tr key={item.key} class="ct-group" data-group={label} {...line}>
        <td colSpan={columns}>
          <button
            type="button"
            class="ct-group-toggle"
            aria-expanded={!closed}
            onClick={() => toggleGroup(key)}
          >
            <span class="ct-group-caret" aria-hidden="true">
              {closed ? "▸" : "▾"}
            </span>
            <span class={item.project ? "ct-group-name" : "ct-group-name muted"}>
              {label}
            </span>
            <span class="muted ct-group-count">
              {item.rows.length} {item.rows.length === 1 ? "container" : "containers"}, {up} running
            </span>
          </button>
        </td>
      </tr>
    );
  };

  const renderRow = (c: ContainerView, line: LineAttributes) => {
    const action = busy[c.id];
    const error = errors[c.id];
    const stats = c.state === "running" ? series.current.get(c.id) : undefined;
    const life = lifetime(c, now, receivedAt(c, loadedAt));
    const ports = portLinks(c.ports, hostname);
    const portsShown = compact ? 1 : 3;
    const classes = [
      "ct-row",
      `is-${c.state}`,
      action ? "is-busy" : "",
      error ? "has-error" : "",
      flash === c.id ? "is-new" : "",
    ].filter(Boolean).join(" ");
    return (
      <tr
        key={c.id}
        class={classes}
        data-id={c.id}
        data-name={c.name}
        aria-busy={!!action}
        {...line}
      >
        {isAdmin && (
          <td class="ct-col-select">
            <input
              type="checkbox"
              aria-label={`Select ${c.name}`}
              checked={selected.has(c.id)}
              onClick={(e) => {
                e.preventDefault();
                toggleRow(c, (e as MouseEvent).shiftKey);
              }}
            />
          </td>
        )}
        <td class="ct-col-name">
          <div class="ct-name-cell">
            <button
              type="button"
              class="ct-name"
              title={c.name}
              onClick={() => setDrawer({ kind: "inspect", id: c.id, name: c.name })}
            >
              {c.name}
            </button>
            <div class="ct-sub">
              {c.compose && (
                <span
                  class="badge badge-stack"
                  title={`Compose project ${c.compose.project}, service ${c.compose.service}`}
                >
                  {c.compose.project}/{c.compose.service}
                </span>
              )}
              {c.managed && (
                <span class="badge badge-managed" title={MANAGED_TITLE}>
                  managed
                </span>
              )}
              {c.panel_created && (
                <span class="badge badge-panel" title={PANEL_TITLE}>
                  panel
                </span>
              )}
              {(c.restart_count ?? 0) > 0 && (
                <span
                  class="badge badge-restarts"
                  title="Restarts by the Engine under the restart policy"
                  data-restarts={c.restart_count}
                >
                  {c.restart_count} {c.restart_count === 1 ? "restart" : "restarts"}
                </span>
              )}
              <UpdateBadge
                result={updates.byId.get(c.id)}
                onUpdate={isAdmin ? () => updates.apply(c) : undefined}
                busy={!!updates.updating}
              />
              <span class="mono muted ct-id" title={c.id}>{c.id.slice(0, 12)}</span>
            </div>
          </div>
        </td>
        <td class="ct-col-image mono" title={c.image}>
          <span class="ct-ellipsis">{c.image}</span>
        </td>
        <td class="ct-col-state">
          {action
            ? (
              <span class="pill state-busy">
                <span class="ct-spinner" aria-hidden="true" />
                {BUSY_TEXT[action]}
              </span>
            )
            : (
              <span class={pillClass(c)} title={c.status} data-state={c.state}>
                {stateLabel(c)}
              </span>
            )}
        </td>
        <td class="ct-col-cpu">
          {c.state !== "running" ? <span class="muted">–</span> : stats
            ? (
              <span
                class="ct-metric"
                title={`CPU ${formatPercent(stats.last.cpu_percent)}`}
              >
                <Sparkline
                  values={stats.cpu}
                  max={Math.max(10, ...stats.cpu)}
                  kind="cpu"
                  label={`CPU of ${c.name}`}
                />
                <span class="ct-metric-value">
                  {formatPercent(stats.last.cpu_percent)}
                </span>
              </span>
            )
            : <span class="muted ct-waiting">…</span>}
        </td>
        <td class="ct-col-mem">
          {c.state !== "running" ? <span class="muted">–</span> : stats
            ? (
              <span
                class="ct-metric"
                title={`Memory ${formatBytes(stats.last.mem_bytes)}${
                  stats.last.mem_limit
                    ? ` of ${formatBytes(stats.last.mem_limit)} (${
                      formatPercent(stats.last.mem_percent)
                    })`
                    : ""
                }`}
              >
                <Sparkline
                  values={stats.mem}
                  max={Math.max(...stats.mem) * 1.2}
                  kind="mem"
                  label={`Memory of ${c.name}`}
                />
                <span class="ct-metric-value">
                  {formatBytes(stats.last.mem_bytes)}
                </span>
              </span>
            )
            : <span class="muted ct-waiting">…</span>}
        </td>
        <td class="ct-col-ports mono">
          {ports.length === 0 ? <span class="muted">–</span> : (
            <ul class="ct-ports">
              {ports.slice(0, portsShown).map((port) => (
                <li key={port.label} title={port.title}>
                  {port.href
                    ? (
                      <a href={port.href} target="_blank" rel="noopener">
                        {port.label}
                      </a>
                    )
                    : port.label}
                </li>
              ))}
              {ports.length > portsShown && (
                <li
                  class="muted"
                  title={ports.slice(portsShown).map((port) => port.label).join(", ")}
                >
                  +{ports.length - portsShown}
                  {compact ? "" : " more"}
                </li>
              )}
            </ul>
          )}
        </td>
        <td
          class="ct-col-life"
          title={`${c.status}; created ${formatDateTime(new Date(c.created * 1000).toISOString())}`}
        >
          <span class="ct-ellipsis">{life}</span>
        </td>
        <td class="ct-col-actions">
          <button
            type="button"
            class={`ct-menu-btn${menu?.id === c.id ? " open" : ""}`}
            aria-label={`Actions for ${c.name}`}
            aria-haspopup="menu"
            aria-expanded={menu?.id === c.id}
            title="Actions"
            onClick={(e) => {
              const anchor = e.currentTarget as HTMLElement;
              setMenu(menu?.id === c.id ? null : { id: c.id, anchor });
            }}
          >
            ⋯
          </button>
        </td>
      </tr>
    );
  };

  const openDrawerContainer = drawer ? byId.get(drawer.id) : undefined;

  return (
    <div class="ct">
      {!engineUp && (
        <div class="notice error ct-banner" role="alert">
          <strong>Docker Engine unreachable{endpoint ? ` at ${endpoint}` : ""}.</strong>{" "}
          The rows below are the last known state. The list refreshes by itself when the Engine
          answers again.
        </div>
      )}
      {engineUp && streamDown && (
        <div class="notice ct-banner ct-banner-warn" role="status">
          Live updates are interrupted; reconnecting to the panel…
        </div>
      )}

      <div class="ct-toolbar">
        <input
          type="search"
          class="ct-filter"
          placeholder="Filter by name, image or stack"
          aria-label="Filter containers"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <label class="ct-check">
          <input
            type="checkbox"
            checked={showStopped}
            onChange={(e) => {
              const checked = (e.target as HTMLInputElement).checked;
              setShowStopped(checked);
              try {
                localStorage.setItem(SHOW_STOPPED_KEY, checked ? "1" : "0");
              } catch {
                // storage disabled
              }
            }}
          />
          Show stopped
        </label>
        <label class="ct-check">
          <input
            type="checkbox"
            checked={grouped}
            onChange={(e) => {
              const checked = (e.target as HTMLInputElement).checked;
              setGrouped(checked);
              remember(GROUP_KEY, checked ? "1" : "0");
            }}
          />
          Group by stack
        </label>
        <label class="ct-check" title="One line per container, about 32 px">
          <input
            type="checkbox"
            checked={compact}
            onChange={(e) => {
              const checked = (e.target as HTMLInputElement).checked;
              setCompactChoice(checked);
              remember(COMPACT_KEY, checked ? "1" : "0");
            }}
          />
          Compact rows
        </label>
        <UpdatesControls updates={updates} isAdmin={isAdmin} />
        <span class="muted ct-count">
          {containers.length} {containers.length === 1 ? "container" : "containers"}, {running}{" "}
          running
          {hiddenStopped > 0 && `, ${hiddenStopped} stopped hidden`}
          {needle && rows.length !== containers.length - hiddenStopped &&
            ` · ${rows.length} shown`}
        </span>
      </div>

      {isAdmin && selectedRows.length > 0 && (
        <div class="ct-bulk" role="toolbar" aria-label="Selected containers">
          <span class="ct-bulk-count">{selectedRows.length} selected</span>
          {(["start", "stop", "restart", "pause", "resume", "kill", "remove"] as const).map((
            action,
          ) => (
            <button
              key={action}
              type="button"
              class={`btn small${action === "remove" || action === "kill" ? " danger" : ""}`}
              onClick={() => setBulk(action)}
            >
              {BULK_TEXT[action]}
            </button>
          ))}
          <button
            type="button"
            class="btn small"
            onClick={() =>
              setSelected(new Set())}
          >
            Clear
          </button>
        </div>
      )}

      {containers.length === 0
        ? (
          <div class="empty ct-empty">
            <p class="empty-title">No containers on this node yet.</p>
            {isAdmin
              ? (
                <p class="muted">
                  Start one with{" "}
                  <button
                    type="button"
                    class="btn small primary"
                    onClick={() => dispatchEvent(new CustomEvent(OPEN_RUN_DIALOG))}
                  >
                    Run container
                  </button>. New containers show up here by themselves.
                </p>
              )
              : <p class="muted">Containers appear here as soon as they are created.</p>}
          </div>
        )
        : rows.length === 0
        ? (
          <div class="empty ct-empty">
            <p class="empty-title">
              {needle ? `No containers match “${query.trim()}”.` : "No running containers."}
            </p>
            <p class="muted">
              {needle && (
                <button
                  type="button"
                  class="btn small"
                  onClick={() => setQuery("")}
                >
                  Clear the filter
                </button>
              )} {!showStopped && (
                <button
                  type="button"
                  class="btn small"
                  onClick={() => setShowStopped(true)}
                >
                  Show stopped containers
                </button>
              )}
            </p>
          </div>
        )
        : (
          <table
            class={`table ct-table${compact ? " ct-compact" : ""}`}
            aria-rowcount={items.length + 1}
          >
            <thead>
              <tr aria-rowindex={1}>
                {isAdmin && (
                  <th class="ct-col-select">
                    <input
                      type="checkbox"
                      aria-label="Select every shown container"
                      checked={allSelected}
                      onChange={() =>
                        setSelected(allSelected ? new Set() : new Set(shown.map((c) => c.id)))}
                    />
                  </th>
                )}
                {sortHeader("name", "Name", "ct-col-name")}
                {sortHeader("image", "Image", "ct-col-image")}
                {sortHeader("state", "State", "ct-col-state")}
                {sortHeader("cpu", "CPU", "ct-col-cpu")}
                {sortHeader("mem", "Memory", "ct-col-mem")}
                {sortHeader("ports", "Ports", "ct-col-ports")}
                {sortHeader("created", "Uptime", "ct-col-life")}
                <th class="ct-col-actions">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody ref={body} onFocusIn={onFocusIn}>
              {windowed.start > 0 && (
                <tr key="spacer-top" class="ct-spacer" aria-hidden="true">
                  <td colSpan={columns} height={offsets[windowed.start]} />
                </tr>
              )}
              {items.slice(windowed.start, windowed.end).map((item, i) =>
                renderItem(item, windowed.start + i)
              )}
              {windowed.end < items.length && (
                <tr key="spacer-bottom" class="ct-spacer" aria-hidden="true">
                  <td
                    colSpan={columns}
                    height={offsets[items.length] - offsets[windowed.end]}
                  />
                </tr>
              )}
            </tbody>
          </table>
        )}

      {menu && byId.get(menu.id) && (
        <ActionMenu
          anchor={menu.anchor}
          label={`Actions for ${byId.get(menu.id)!.name}`}
          items={menuItems(byId.get(menu.id)!)}
          onClose={closeMenu}
        />
      )}

      {confirming && (
        <ConfirmRemove
          container={confirming}
          onCancel={() => setConfirming(null)}
          onConfirm={(volumes) => {
            setConfirming(null);
            act(confirming, "remove", volumes);
          }}
        />
      )}

      {bulk && (
        <ConfirmBulk
          action={bulk}
          containers={selectedRows}
          onClose={() => setBulk(null)}
          onDone={onBulkDone}
        />
      )}

      {operation?.kind === "kill" && (
        <KillDialog
          container={operation.container}
          onClose={() => setOperation(null)}
        />
      )}
      {operation?.kind === "rename" && (
        <RenameDialog
          container={operation.container}
          onClose={() => setOperation(null)}
        />
      )}
      {operation?.kind === "limits" && (
        <LimitsDialog
          container={operation.container}
          onClose={() => setOperation(null)}
        />
      )}
      {operation?.kind === "recreate" && (
        <RecreateDialog
          container={operation.container}
          onClose={() => setOperation(null)}
        />
      )}

      {terminal && (
        <ExecTerminal
          key={terminal.id}
          id={terminal.id}
          name={byId.get(terminal.id)?.name ?? terminal.name}
          container={byId.get(terminal.id)}
          onClose={() => setTerminal(null)}
        />
      )}

      {drawer && (
        <Drawer
          name={openDrawerContainer?.name ?? drawer.name}
          container={openDrawerContainer}
          kind={drawer.kind}
          onKind={(kind) => setDrawer({ ...drawer, kind })}
          onClose={() => setDrawer(null)}
        >
          {drawer.kind === "inspect"
            ? (
              <InspectPanel
                id={drawer.id}
                version={`${openDrawerContainer?.state}|${openDrawerContainer?.started_at}|${openDrawerContainer?.restart_count}`}
              />
            )
            : drawer.kind === "stats"
            ? <StatsPanel id={drawer.id} running={openDrawerContainer?.state === "running"} />
            : (
              <LogsPanel
                id={drawer.id}
                name={openDrawerContainer?.name ?? drawer.name}
                running={openDrawerContainer?.state === "running"}
                startedAt={openDrawerContainer?.started_at ?? null}
                project={openDrawerContainer?.compose?.project ?? null}
              />
            )}
        </Drawer>
      )}
    </div>
  );
}

function ConfirmRemove(
  { container, onCancel, onConfirm }: {
    container: ContainerView;
    onCancel: () => void;
    onConfirm: (volumes: boolean) => void;
  },
) {
  const [volumes, setVolumes] = useState(false);
  const running = ACTIVE.has(container.state);
  return (
    <Modal class="ct-modal ct-confirm" labelledBy="ct-confirm-title" onClose={onCancel}>
      <form
        class="ct-modal-inner"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm(volumes);
        }}
      >
        <h2 id="ct-confirm-title">
          Remove container{" "}
          <span class="ct-confirm-name" title={container.name}>{container.name}</span>?
        </h2>
        <p>
          {running ? "It is running: it will be stopped first (killed). " : ""}
          This cannot be undone; named volumes are kept.
        </p>
        <label class="ct-check">
          <input
            type="checkbox"
            checked={volumes}
            onChange={(e) => setVolumes((e.target as HTMLInputElement).checked)}
          />
          Also remove its anonymous volumes
        </label>
        <div class="ct-modal-actions">
          <button type="button" class="btn" onClick={onCancel} data-autofocus>Cancel</button>
          <button type="submit" class="btn danger">Remove</button>
        </div>
      </form>
    </Modal>
  );
}

/** The first published host port, else the first exposed container port, else null. */
function firstPort(c: ContainerView): number | null {
  const published = c.ports.find((port) => port.host_port !== null);
  return published?.host_port ?? c.ports[0]?.container_port ?? null;
}
