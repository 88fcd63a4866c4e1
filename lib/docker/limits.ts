/**
 * Resource limits, signals and the `PATCH /api/containers/{id}` body (`docker update`), shared
 * by the run API and the update operation. Every problem is a ValidationError naming the field.
 */
import { ValidationError } from "../errors.ts";
import { onlyFields } from "./validate.ts";
import { parseRestart } from "./run_spec.ts";

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i;
const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** The Engine refuses memory limits under 6 MiB ("Minimum memory limit allowed is 6MB"). */
export const MIN_MEMORY = 6 * 1024 * 1024;
const MAX_MEMORY = 2 ** 50;

/** Bytes from a number or "512m", "1g", "1.5GiB"; null when absent. */
export function parseSize(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  let bytes = NaN;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const match = value.trim().match(SIZE_RE);
    if (match) bytes = Math.round(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  }
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_MEMORY) {
    throw new ValidationError(
      `${field} must be a size like 256m or 1g (or a number of bytes), got ${
        JSON.stringify(value).slice(0, 40)
      }`,
      field,
    );
  }
  return bytes;
}

/** A memory limit: a size of at least 6 MiB. */
export function parseMemory(value: unknown, field: string): number | null {
  const bytes = parseSize(value, field);
  if (bytes !== null && bytes < MIN_MEMORY) {
    throw new ValidationError(`${field} must be at least 6m (the Engine's minimum)`, field);
  }
  return bytes;
}

/** CPUs as a decimal ("0.5", 2) → the Engine's NanoCpus; null when absent. */
export function parseCpus(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  const cpus = typeof value === "number"
    ? value
    : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim())
    ? Number(value)
    : NaN;
  if (!Number.isFinite(cpus) || cpus < 0.01 || cpus > 1024) {
    throw new ValidationError(
      `${field} must be a number of CPUs from 0.01 to 1024, got ${
        JSON.stringify(value).slice(0, 40)
      }`,
      field,
    );
  }
  return Math.round(cpus * 1e9);
}

/** A pids limit: a positive whole number, or -1/0 for none. */
export function parsePidsLimit(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === "") return null;
  const pids = typeof value === "string" && /^-?\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof pids !== "number" || !Number.isInteger(pids) || pids < -1 || pids > 4_194_304) {
    throw new ValidationError(
      `${field} must be a whole number of processes (0 or -1 for no limit)`,
      field,
    );
  }
  return pids <= 0 ? -1 : pids;
}

const SIGNALS = [
  "HUP",
  "INT",
  "QUIT",
  "ILL",
  "TRAP",
  "ABRT",
  "BUS",
  "FPE",
  "KILL",
  "USR1",
  "SEGV",
  "USR2",
  "PIPE",
  "ALRM",
  "TERM",
  "STKFLT",
  "CHLD",
  "CONT",
  "STOP",
  "TSTP",
  "TTIN",
  "TTOU",
  "URG",
  "XCPU",
  "XFSZ",
  "VTALRM",
  "PROF",
  "WINCH",
  "IO",
  "PWR",
  "SYS",
];
export const SIGNAL_NAMES: readonly string[] = SIGNALS.map((name) => `SIG${name}`);

/** "SIGTERM", "term", "15" → the Engine's form ("SIGTERM", "15"); absent → SIGKILL. */
export function signalName(value: unknown, field = "signal"): string {
  if (value === undefined || value === null || value === "") return "SIGKILL";
  if (typeof value === "number" || (typeof value === "string" && /^\d{1,2}$/.test(value))) {
    const number = Number(value);
    if (Number.isInteger(number) && number >= 1 && number <= 64) return String(number);
  } else if (typeof value === "string") {
    const name = value.toUpperCase().replace(/^SIG/, "");
    if (SIGNALS.includes(name)) return `SIG${name}`;
  }
  throw new ValidationError(
    `${field}: ${
      JSON.stringify(value).slice(0, 40)
    } is not a signal (a name like SIGTERM or a number from 1 to 64)`,
    field,
  );
}

const UPDATE_FIELDS = [
  "restart_policy",
  "memory",
  "memory_reservation",
  "cpus",
  "pids_limit",
] as const;

/** The Engine's update body for a PATCH body, without MemorySwap (the handler adds it). */
export function parseUpdate(body: Record<string, unknown>): Record<string, unknown> {
  onlyFields(body, UPDATE_FIELDS);
  const update: Record<string, unknown> = {};
  if (body.restart_policy !== undefined) update.RestartPolicy = parseRestart(body.restart_policy);
  const memory = parseMemory(body.memory, "memory");
  if (memory !== null) update.Memory = memory;
  const reservation = parseSize(body.memory_reservation, "memory_reservation");
  if (reservation !== null) update.MemoryReservation = reservation;
  if (memory !== null && reservation !== null && reservation > memory) {
    throw new ValidationError(
      "memory_reservation must not be more than memory",
      "memory_reservation",
    );
  }
  const cpus = parseCpus(body.cpus, "cpus");
  if (cpus !== null) update.NanoCpus = cpus;
  const pids = parsePidsLimit(body.pids_limit, "pids_limit");
  if (pids !== null) update.PidsLimit = pids;
  if (Object.keys(update).length === 0) {
    throw new ValidationError(
      `Nothing to change: give at least one of ${UPDATE_FIELDS.join(", ")}`,
    );
  }
  return update;
}
