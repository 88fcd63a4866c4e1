/**
 * Compose previews are open to every signed-in user, so their cost is bounded here:
 *
 * - a place is taken before the request body is even read: one preview at a time per user
 *   and a few in all (one parsing, the rest waiting); beyond that a 429 with Retry-After.
 *   A body is read only when its turn comes;
 * - files are parsed in a worker (YAML parsing is synchronous), so even the costliest file
 *   the caps admit never blocks the panel's event loop. One worker serves the previews
 *   that queue up. It stays warm for a short idle period after the last one (starting a
 *   worker and warming its JIT was most of a 300-service preview), then ends: a worker
 *   kept alive for good would keep the heap of every file it parsed. For the same reason
 *   it is replaced once it has parsed RECYCLE_BYTES of input. It also ends at shutdown,
 *   or when a parse runs past its time (that preview is refused).
 */
import { HttpError, RateLimitedError, ValidationError } from "../errors.ts";
import type { ComposeInput, ComposeProject } from "./types.ts";
import type { WorkerAnswer, WorkerRequest } from "./parse_worker.ts";

export interface ParsePoolOptions {
  /** Previews admitted to wait while one is parsed; beyond it requests are refused. */
  waiting?: number;
  /** A parse still running after this is cut off and refused. */
  timeoutMs?: number;
  /** Ends the worker (the panel's shutdown). */
  signal?: AbortSignal;
  /** How long the worker stays warm after the last preview. Default 15 s; 0 ends it at once. */
  idleMs?: number;
}

/** A worker that parsed this much input is replaced after its current preview. */
export const RECYCLE_BYTES = 8 * 1024 * 1024;

/** A place taken for one preview; release it whatever happens. */
export interface ParseTurn {
  /** Waits for the turn, then reads the input (the request body) and parses it. */
  parse(read: () => Promise<ComposeInput>): Promise<ComposeProject>;
  release(): void;
}

export interface ParsePool {
  /** Takes a place for `user` (a stable key of the signed-in user) or throws a 429. */
  reserve(user: string): ParseTurn;
}

/** 429 with Retry-After, worded for a preview rather than a login. */
export class PreviewBusyError extends RateLimitedError {
  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds);
    this.message = message;
  }
}

export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const maxAdmitted = 1 + (options.waiting ?? 4);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const users = new Set<string>();
  const queue: (() => void)[] = [];
  let busy = false;
  const worker = createWorkerSlot(options.signal, options.idleMs ?? 15_000);

  const turn = (): Promise<void> => {
    if (!busy) {
      busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };
  const next = () => {
    const waiting = queue.shift();
    if (waiting) return waiting();
    busy = false;
    worker.idle();
  };

  return {
    reserve(user) {
      if (users.has(user)) {
        throw new PreviewBusyError(
          1,
          "A preview of yours is still being checked; try again in a moment",
        );
      }
      if (users.size >= maxAdmitted) {
        throw new PreviewBusyError(2, "The panel is busy checking other previews; try again soon");
      }
      users.add(user);
      let released = false;
      return {
        async parse(read) {
          await turn();
          try {
            return await worker.run(await read(), timeoutMs);
          } finally {
            next();
          }
        },
        release() {
          if (released) return;
          released = true;
          users.delete(user);
        },
      };
    },
  };
}

/** Where the parse worker's code is; the single-file build points it at an embedded copy. */
let parseWorkerUrl: string | URL = new URL("./parse_worker.ts", import.meta.url);

export function setParseWorkerUrl(url: string | URL): void {
  parseWorkerUrl = url;
}

/** The parse worker: started on demand, one request at a time, ended when idle. */
function createWorkerSlot(signal: AbortSignal | undefined, idleMs: number) {
  let worker: Worker | undefined;
  let nextId = 1;
  let settle: ((answer: WorkerAnswer | Error) => void) | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Input the current worker has parsed, in UTF-16 code units (a bound, not a count). */
  let parsed = 0;

  const end = (reason?: Error) => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    worker?.terminate();
    worker = undefined;
    parsed = 0;
    const pending = settle;
    settle = undefined;
    if (reason) pending?.(reason);
  };
  signal?.addEventListener("abort", () => end(new HttpError(503, "The panel is shutting down")), {
    once: true,
  });

  const start = (): Worker => {
    const created = new Worker(parseWorkerUrl, { type: "module" });
    created.onmessage = ({ data }: MessageEvent<WorkerAnswer>) => {
      if (worker !== created) return;
      const pending = settle;
      settle = undefined;
      pending?.(data);
    };
    created.onerror = (event) => {
      event.preventDefault();
      if (worker === created) end(new Error(`The compose parser failed: ${event.message}`));
    };
    return created;
  };

  return {
    /** Nothing is waiting: keep the worker warm for a while, unless it has done its share. */
    idle() {
      clearTimeout(idleTimer);
      idleTimer = undefined;
      if (!worker) return;
      if (idleMs <= 0 || parsed >= RECYCLE_BYTES) return end();
      const timer = setTimeout(() => end(), idleMs);
      Deno.unrefTimer(timer as unknown as number); // a warm worker never holds the panel up
      idleTimer = timer;
    },
    run(input: ComposeInput, timeoutMs: number): Promise<ComposeProject> {
      if (signal?.aborted) return Promise.reject(new HttpError(503, "The panel is shutting down"));
      clearTimeout(idleTimer);
      idleTimer = undefined;
      if (worker && parsed >= RECYCLE_BYTES) end();
      worker ??= start();
      parsed += inputSize(input);
      const message: WorkerRequest = { id: nextId++, input };
      return new Promise<ComposeProject>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Stuck on this file: end the worker (the next preview gets a new one).
          end(
            new ValidationError(
              `The compose file took longer than ${timeoutMs / 1000} s to check`,
              "yaml",
            ),
          );
        }, timeoutMs);
        settle = (answer) => {
          clearTimeout(timer);
          if (answer instanceof Error) reject(answer);
          else if (answer.ok) resolve(answer.project);
          else if (answer.status === 400) reject(new ValidationError(answer.message, answer.field));
          else reject(new HttpError(answer.status, answer.message, answer.field));
        };
        worker!.postMessage(message);
      });
    },
  };
}

function inputSize(input: ComposeInput): number {
  let size = input.yaml.length + (input.env?.length ?? 0);
  for (const text of Object.values(input.envFiles ?? {})) size += text.length;
  for (const text of Object.values(input.files ?? {})) size += text.length;
  return size;
}
