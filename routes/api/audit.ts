/**
 * The audit trail: filtered, cursor-paginated reads and a CSV/JSON export. The list folds
 * a long operation's started row into its final row; the export has every row, so the
 * chain can be checked from it.
 */
import { type Context, Hono } from "hono";
import {
  AUDIT_COLUMNS,
  type AuditFilter,
  exportAuditText,
  listAudit,
  MAX_PAGE,
} from "../../lib/sysctl/audit.ts";
import { ValidationError } from "../../lib/errors.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";

export function parseAuditFilter(c: Context): AuditFilter {
  const q = (name: string) => {
    const value = c.req.query(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const filter: AuditFilter = { user: q("user"), action: q("action"), target: q("target") };
  const environment = q("environment");
  if (environment !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(environment)) {
      throw new ValidationError("environment must be an environment id", "environment");
    }
    filter.environment = environment;
  }
  const outcome = q("outcome");
  if (outcome !== undefined) {
    if (outcome !== "success" && outcome !== "failure") {
      throw new ValidationError(`outcome must be "success" or "failure"`, "outcome");
    }
    filter.outcome = outcome;
  }
  for (const field of ["from", "to"] as const) {
    const value = q(field);
    if (value !== undefined) filter[field] = parseInstant(value, field);
  }
  const cursor = q("cursor");
  if (cursor !== undefined) {
    if (!/^\d{1,15}$/.test(cursor)) {
      throw new ValidationError("cursor must be a row number", "cursor");
    }
    filter.cursor = Number(cursor);
  }
  const limit = q("limit");
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE) {
      throw new ValidationError(`limit must be between 1 and ${MAX_PAGE}`, "limit");
    }
    filter.limit = Number(limit);
  }
  return filter;
}

/**
 * `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or a `±HH:MM` offset: one instant, wherever the
 * server runs. Anything without a zone (or a bare date) would be read in the server's own
 * zone, so it is refused rather than guessed.
 */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * An ISO 8601 instant as the audit table writes it (`toISOString`, milliseconds, UTC).
 * `from` is the instant itself. `to` is inclusive of everything its precision names: a
 * value to the minute ends at that minute's last millisecond, to the second at that
 * second's, so `to=…T10:30Z` keeps rows written at 10:30:59.
 */
export function parseInstant(value: string, field: "from" | "to"): string {
  const match = value.match(INSTANT);
  if (!match) {
    const hint = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?( \d{2}:\d{2})?$/.test(value)
      ? value.includes(" ")
        ? ` (a "+" in a query string must be written %2B)`
        : " (it has no time zone, so it is ambiguous)"
      : /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? " (a date alone is ambiguous: whose midnight?)"
      : "";
    throw new ValidationError(
      `${field} must be an ISO 8601 instant with a time zone, like 2026-01-31T09:30Z or ` +
        `2026-01-31T10:30+01:00${hint}`,
      field,
    );
  }
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const invalid = () => new ValidationError(`${field} is not a real date and time`, field);
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  if (
    date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 ||
    date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 ||
    Number(second ?? 0) > 59
  ) {
    throw invalid();
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const [hours, minutes] = zone.slice(1).split(":").map(Number);
    if (hours > 23 || minutes > 59) throw invalid();
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
  }
  const millis = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  const start = date.getTime() +
    ((Number(hour) * 60 + Number(minute) - offsetMinutes) * 60 + Number(second ?? 0)) * 1000 +
    millis;
  // The length of the unit the value is precise to, less one millisecond.
  const unit = second === undefined
    ? 60_000
    : fraction === undefined
    ? 1000
    : 10 ** Math.max(0, 3 - fraction.length);
  const time = field === "to" ? start + unit - 1 : start;
  return new Date(time).toISOString();
}

const CSV_HEADER = AUDIT_COLUMNS.join(",") + "\r\n";

export function auditApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json(listAudit(deps.db, parseAuditFilter(c))));

  app.get("/export", (c) => {
    const format = c.req.query("format") ?? "csv";
    if (format !== "csv" && format !== "json") {
      throw new ValidationError(`format must be "csv" or "json"`, "format");
    }
    const { cursor: _cursor, limit: _limit, ...filter } = parseAuditFilter(c);
    // One batch of rows per chunk, formatted by SQLite (lib/sysctl/audit.ts).
    const batches = exportAuditText(deps.db, filter, format);
    const encoder = new TextEncoder();
    let first = true;
    // Pull-based: the next rows are read only when the client has taken the previous chunk
    // (highWaterMark 0), so a client that stops reading stops the reading.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = batches.next();
        if (next.done) {
          const end = format === "json" ? (first ? "[]\n" : "\n]\n") : first ? CSV_HEADER : "";
          if (end) controller.enqueue(encoder.encode(end));
          controller.close();
          return;
        }
        const lead = format === "json" ? (first ? "[\n" : ",\n") : first ? CSV_HEADER : "";
        first = false;
        controller.enqueue(encoder.encode(lead + next.value));
      },
      cancel() {
        batches.return(undefined);
      },
    }, { highWaterMark: 0 });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return c.body(body, 200, {
      "Content-Type": format === "csv"
        ? "text/csv; charset=utf-8"
        : "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="audit-${stamp}.${format}"`,
      "Cache-Control": "no-store",
    });
  });

  return app;
}
