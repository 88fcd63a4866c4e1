/** The audit trail: filtered, cursor-paginated reads and a CSV/JSON export. */
import { type Context, Hono } from "hono";
import {
  type AuditFilter,
  type AuditRow,
  iterateAudit,
  listAudit,
  MAX_PAGE,
} from "../../lib/sysctl/audit.ts";
import { ValidationError } from "../../lib/errors.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";

export const AUDIT_COLUMNS = [
  "seq",
  "ts",
  "actor",
  "client_ip",
  "action",
  "target",
  "params",
  "exit_code",
  "duration_ms",
  "stdout",
  "stderr",
  "request_id",
  "prev_hash",
  "hash",
] as const satisfies readonly (keyof AuditRow)[];

export function parseAuditFilter(c: Context): AuditFilter {
  const q = (name: string) => {
    const value = c.req.query(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const filter: AuditFilter = { user: q("user"), action: q("action"), target: q("target") };
  const outcome = q("outcome");
  if (outcome !== undefined) {
    if (outcome !== "success" && outcome !== "failure") {
      throw new ValidationError(`outcome must be "success" or "failure"`, "outcome");
    }
    filter.outcome = outcome;
  }
  for (const field of ["from", "to"] as const) {
    const value = q(field);
    if (value === undefined) continue;
    const time = new Date(value);
    if (Number.isNaN(time.getTime())) {
      throw new ValidationError(`${field} must be a date or ISO timestamp`, field);
    }
    filter[field] = time.toISOString();
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

function csvCell(value: unknown): string {
  const text = String(value ?? "");
  // A leading = + - @ would run as a formula in a spreadsheet; prefix it with a quote.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditApiRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", (c) => c.json(listAudit(deps.db, parseAuditFilter(c))));

  app.get("/export", (c) => {
    const format = c.req.query("format") ?? "csv";
    if (format !== "csv" && format !== "json") {
      throw new ValidationError(`format must be "csv" or "json"`, "format");
    }
    const { cursor: _cursor, limit: _limit, ...filter } = parseAuditFilter(c);
    const rows = iterateAudit(deps.db, filter);
    const encoder = new TextEncoder();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // A batch per pull keeps memory flat for large exports.
        for (let i = 0; i < 200; i++) {
          const next = rows.next();
          if (next.done) {
            if (format === "json") controller.enqueue(encoder.encode(first ? "[]\n" : "\n]\n"));
            else if (first) controller.enqueue(encoder.encode(AUDIT_COLUMNS.join(",") + "\r\n"));
            controller.close();
            return;
          }
          const row = next.value;
          let line: string;
          if (format === "csv") {
            line = (first ? AUDIT_COLUMNS.join(",") + "\r\n" : "") +
              AUDIT_COLUMNS.map((column) => csvCell(row[column])).join(",") + "\r\n";
          } else {
            line = (first ? "[\n" : ",\n") + JSON.stringify(row);
          }
          first = false;
          controller.enqueue(encoder.encode(line));
        }
      },
      cancel() {
        rows.return(undefined);
      },
    });
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
