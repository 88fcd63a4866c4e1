/**
 * The Audit tab: filters, newest-first rows with "Load more", and CSV/JSON export. A long
 * operation's started row is folded into its final row by the server; one still shown is
 * running (or was cut short and awaits the restart sweep), and a final row written by that
 * sweep or by a shutdown that could not wait shows as interrupted.
 */
import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.ts";
import { useLive } from "./shared/live.ts";
import { useEnvironmentNames } from "./environments/names.ts";

/** The server's row type (a type-only import: nothing of lib/ reaches the bundle). */
export type AuditRowView = import("../lib/sysctl/audit.ts").AuditRow;

interface Page {
  rows: AuditRowView[];
  next_cursor: number | null;
}

export interface AuditLogProps {
  initial: Page;
  actions: string[];
}

/** lib/sysctl/audit.ts INTERRUPTED and the shutdown's abandon reason (kept in step by hand). */
const INTERRUPTED_TEXTS = [
  "Interrupted by a panel restart",
  "The panel shut down before this finished",
];

/** How an exec session ended, from its row's result (lib/sysctl/handlers/exec.ts). */
function execEnd(row: AuditRowView): { ended?: string; reason?: string } {
  if (row.action !== "docker.exec" || row.exit_code !== 0 || !row.stdout) return {};
  try {
    return JSON.parse(row.stdout) ?? {};
  } catch {
    return {}; // cut to the column's cap: read as a plain ok
  }
}

export function outcomeOf(
  row: AuditRowView,
): { label: string; className: string; title?: string } {
  const exec = execEnd(row);
  if (exec.ended === "closed") {
    return { label: "closed", className: "state-running", title: exec.reason ?? "Closed" };
  }
  if (exec.ended === "exited") {
    return { label: "ended", className: "state-running", title: "The shell exited with code 0" };
  }
  if (row.phase === "started") {
    return { label: "running", className: "state-paused", title: "Started; no final row yet" };
  }
  if (row.started_seq !== null && INTERRUPTED_TEXTS.includes(row.stderr)) {
    return { label: "interrupted", className: "state-exited", title: row.stderr };
  }
  return row.exit_code === 0
    ? { label: "ok", className: "state-running" }
    : { label: `failed ${row.exit_code}`, className: "state-exited" };
}

const NAMES_REREAD_MS = 5_000;

const EMPTY_FILTERS = {
  user: "",
  action: "",
  target: "",
  outcome: "",
  from: "",
  to: "",
  environment: "",
};

/**
 * A datetime-local value ("2026-01-31T10:30", the browser's wall-clock time, no zone) as the
 * UTC instant it means here ("2026-01-31T09:30Z" in UTC+1), to the same precision, so the
 * server needs no guess about the zone and can make "to" cover its whole minute.
 */
export function localToInstant(local: string): string {
  const time = new Date(local); // a date-time without an offset is local time
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(local) || Number.isNaN(time.getTime())) {
    return local; // not a datetime-local value: the server says what is wrong with it
  }
  const iso = time.toISOString(); // 2026-01-31T09:30:00.000Z
  const precision = local.length <= 16 ? 16 : local.length <= 19 ? 19 : 23;
  return `${iso.slice(0, precision)}Z`;
}

function queryOf(filters: typeof EMPTY_FILTERS, extra: Record<string, string> = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...extra })) {
    if (!value) continue;
    params.set(key, key === "from" || key === "to" ? localToInstant(value) : value);
  }
  return params.toString();
}

/** "UTC+01:00", "UTC-05:30", "UTC": the browser's offset at `time`. */
export function zoneLabel(time: Date): string {
  const minutes = -time.getTimezoneOffset();
  if (minutes === 0) return "UTC";
  const sign = minutes > 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An ISO instant as the browser's wall-clock "YYYY-MM-DD HH:MM:SS" (the filters' zone). */
export function localTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ` +
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
}

const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

/**
 * The Target cell: a container id as the container's name while it exists (the id in the
 * tooltip), else as a 12-character short id; anything else as written. `names` is keyed by
 * the first 12 characters of container ids.
 */
export function targetText(
  target: string,
  names: ReadonlyMap<string, { id: string; name: string }>,
): { text: string; title: string } {
  if (!CONTAINER_ID.test(target)) return { text: target || "–", title: target };
  const container = names.get(target.slice(0, 12));
  if (container && container.id.startsWith(target)) {
    return { text: container.name, title: `${container.name} (${target})` };
  }
  return { text: target.slice(0, 12), title: target };
}

export function AuditLog({ initial, actions }: AuditLogProps) {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const [page, setPage] = useState<Page>(initial);
  const [error, setError] = useState("");
  const [expanded, setExpanded] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  /** Rows written since the list was last read, while the reader is scrolled or paged on. */
  const [newRows, setNewRows] = useState(0);
  // The server renders UTC; once in the browser, times are local like the filters.
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => setZone(zoneLabel(new Date())), []);
  const [names, setNames] = useState<Map<string, { id: string; name: string }>>(new Map());
  const environments = useEnvironmentNames();
  const namesReadAt = useRef(0);
  // Ids the list of containers does not know yet (a container made since): read it again,
  // at most every few seconds.
  useEffect(() => {
    const unknown = page.rows.some((row) =>
      CONTAINER_ID.test(row.target) && !names.has(row.target.slice(0, 12))
    );
    if (!unknown || Date.now() - namesReadAt.current < NAMES_REREAD_MS) return;
    namesReadAt.current = Date.now();
    api<{ containers: { id: string; name: string }[] }>("GET", "/api/containers")
      .then(({ containers }) =>
        setNames(new Map(containers.map((c) => [c.id.slice(0, 12), { id: c.id, name: c.name }])))
      )
      .catch(() => {}); // the ids stay as they are
  }, [page]);

  const pagedOn = page.rows.length > initial.rows.length && page.next_cursor !== null;
  const filtered = Object.entries(filters).some(([key, value]) =>
    value !== (EMPTY_FILTERS as Record<string, string>)[key]
  );
  useLive((event) => event.kind === "audit", () => {
    // New rows go in place only for a reader at the very top of the plain list: anywhere
    // else (scrolled, paged on, filtered, a row open) they would move the list under them.
    const inPlace = globalThis.scrollY < 4 && !pagedOn && !filtered && expanded === null;
    if (inPlace) void load();
    else void countNewRows();
  });

  /** How many rows matching the filters were written above the list's newest one. */
  async function countNewRows() {
    const newest = page.rows[0]?.seq ?? 0;
    try {
      const latest = await api<Page>("GET", `/api/audit?${queryOf(filters, { limit: "100" })}`);
      const count = latest.rows.filter((row) => row.seq > newest).length;
      setNewRows(count === latest.rows.length && latest.next_cursor !== null ? -count : count);
    } catch {
      // the next change tries again; the list stays as it is
    }
  }

  async function load(cursor?: number) {
    setError("");
    if (!cursor) setNewRows(0);
    try {
      const next = await api<Page>(
        "GET",
        `/api/audit?${queryOf(filters, cursor ? { cursor: String(cursor) } : {})}`,
      );
      setPage(
        cursor ? { rows: [...page.rows, ...next.rows], next_cursor: next.next_cursor } : next,
      );
    } catch (e) {
      setError((e as Error).message);
    }
  }

  useEffect(() => {
    if (loaded) load();
    setLoaded(true);
  }, [filters]);

  const set = (name: keyof typeof EMPTY_FILTERS) => (e: Event) =>
    setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value });

  return (
    <div class="stack">
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          User <input value={filters.user} onChange={set("user")} placeholder="any" />
        </label>
        <label>
          Action
          <select value={filters.action} onChange={set("action")}>
            <option value="">any</option>
            {actions.map((action) => <option key={action} value={action}>{action}</option>)}
          </select>
        </label>
        <label>
          Target <input value={filters.target} onChange={set("target")} placeholder="contains…" />
        </label>
        <label>
          Outcome
          <select value={filters.outcome} onChange={set("outcome")}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
          </select>
        </label>
        <label>
          Environment
          <select value={filters.environment} onChange={set("environment")}>
            <option value="">any</option>
            {[...environments].map(([id, name]) => <option key={id} value={id}>{name}</option>)}
          </select>
        </label>
        <label title="Your browser's local time">
          From <input type="datetime-local" value={filters.from} onChange={set("from")} />
        </label>
        <label title="Your browser's local time; the whole of this minute is included">
          To <input type="datetime-local" value={filters.to} onChange={set("to")} />
        </label>
        <div class="filters-actions">
          <a class="btn" href={`/api/audit/export?${queryOf(filters, { format: "csv" })}`} download>
            Export CSV
          </a>
          <a
            class="btn"
            href={`/api/audit/export?${queryOf(filters, { format: "json" })}`}
            download
          >
            Export JSON
          </a>
        </div>
      </form>
      {error && <div class="notice error" role="alert">{error}</div>}
      {newRows !== 0 && (
        <button
          type="button"
          class="notice audit-new"
          onClick={() => {
            void load();
            globalThis.scrollTo({ top: 0 });
          }}
        >
          {newRows === 1 ? "1 new row" : `${Math.abs(newRows)}${newRows < 0 ? "+" : ""} new rows`}
          {" "}
          since this list was read: show them
        </button>
      )}
      {page.rows.length === 0
        ? (
          <div class="empty">
            <p class="empty-title">No audit rows match.</p>
            <p class="muted">Every sign-in and every change made through the panel lands here.</p>
          </div>
        )
        : (
          <table class="table audit">
            <thead>
              <tr>
                <th class="col-seq">#</th>
                <th class="col-time">Time ({zone ?? "UTC"})</th>
                <th>User</th>
                <th>Action</th>
                <th>Target</th>
                <th class="col-env">Environment</th>
                <th class="col-outcome">Outcome</th>
                <th class="col-ms">ms</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((row) => (
                <Fragment key={row.seq}>
                  <tr
                    class="clickable"
                    onClick={() => setExpanded(expanded === row.seq ? null : row.seq)}
                    title="Show details"
                  >
                    <td class="mono muted">{row.seq}</td>
                    <td class="mono" title={row.ts}>
                      {zone ? localTime(row.ts) : row.ts.replace("T", " ").slice(0, 19)}
                    </td>
                    <td class="truncate" title={`${row.actor} from ${row.client_ip}`}>
                      {row.actor}
                    </td>
                    <td class="mono">{row.action}</td>
                    {(() => {
                      const target = targetText(row.target, names);
                      return <td class="mono truncate" title={target.title}>{target.text}</td>;
                    })()}
                    <td class="truncate col-env" title={row.environment ?? "The panel itself"}>
                      {row.environment ? environments.get(row.environment) ?? row.environment : "–"}
                    </td>
                    <td>
                      {(() => {
                        const outcome = outcomeOf(row);
                        return (
                          <span class={`pill ${outcome.className}`} title={outcome.title}>
                            {outcome.label}
                          </span>
                        );
                      })()}
                    </td>
                    <td class="mono muted">{row.duration_ms}</td>
                  </tr>
                  {expanded === row.seq && (
                    <tr class="details">
                      <td colSpan={8}>
                        <dl>
                          <dt>Client</dt>
                          <dd class="mono">{row.client_ip || "–"}</dd>
                          {row.started_seq !== null && (
                            <>
                              <dt>Started</dt>
                              <dd class="mono">row {row.started_seq}</dd>
                            </>
                          )}
                          <dt>Parameters</dt>
                          <dd class="mono pre">{row.params}</dd>
                          {row.stdout && (
                            <>
                              <dt>Result</dt>
                              <dd class="mono pre">{row.stdout}</dd>
                            </>
                          )}
                          {row.stderr && (
                            <>
                              <dt>Error</dt>
                              <dd class="mono pre">{row.stderr}</dd>
                            </>
                          )}
                        </dl>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      {page.next_cursor !== null && (
        <button
          type="button"
          class="btn"
          onClick={() => load(page.next_cursor!)}
        >
          Load more
        </button>
      )}
    </div>
  );
}
