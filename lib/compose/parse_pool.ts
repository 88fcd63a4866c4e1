/**
 * Compose previews are open to every signed-in user, so their cost is bounded here:
 *
 * - a place is taken before the request body is even read: one preview at a time per user
 *   and a few in all (one parsing, the rest waiting); beyond that a 429 with Retry-After.
 *   A body is read only when its turn comes;
 * - files are parsed in a worker (YAML parsing is synchronous), so even the costliest file
 *   the caps admit never blocks the panel's event loop. One worker serves the previews
 *   that queue up and is ended as soon as none is waiting (a worker kept alive would keep
 *   the heap of every file it parsed), at shutdown, or when a parse runs past its time
 *   (that preview is refused).
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
}

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
  const worker = createWorkerSlot(options.signal);

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
    worker.end();
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

/** The parse worker: started on demand, one request at a time. */
function createWorkerSlot(signal?: AbortSignal) {
  let worker: Worker | undefined;
  let nextId = 1;
  let settle: ((answer: WorkerAnswer | Error) => void) | undefined;

  const end = (reason?: Error) => {
    worker?.terminate();
    worker = undefined;
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
    end: () => end(),
    run(input: ComposeInput, timeoutMs: number): Promise<ComposeProject> {
      if (signal?.aborted) return Promise.reject(new HttpError(503, "The panel is shutting down"));
      worker ??= start();
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
