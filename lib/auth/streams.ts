/**
 * Long-lived streams (SSE, WebSocket) belong to a session. Logging out, deleting the user,
 * changing their role or password, and the session's expiry close them: each stream
 * registers an AbortController here.
 */
export interface SessionStreams {
  /** Registers a stream; call the returned function when the stream ends on its own. */
  register(tokenHash: string, userId: number, controller: AbortController): () => void;
  closeSession(tokenHash: string): void;
  closeUser(userId: number): void;
  /**
   * While any stream is open, checks every `periodMs` whether its session is still live
   * and closes the streams of those that are not (expired, or deleted elsewhere). Stops
   * for good when `stop` aborts.
   */
  watchExpiry(isLive: (tokenHash: string) => boolean, stop: AbortSignal, periodMs?: number): void;
  /** Open streams, for tests and diagnostics. */
  count(): number;
}

interface Entry {
  tokenHash: string;
  userId: number;
  controller: AbortController;
}

export function createSessionStreams(): SessionStreams {
  const streams = new Set<Entry>();
  let sweep: { isLive: (tokenHash: string) => boolean; periodMs: number } | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const closeWhere = (match: (entry: Entry) => boolean) => {
    for (const entry of [...streams]) {
      if (match(entry)) {
        streams.delete(entry);
        entry.controller.abort();
      }
    }
    idleCheck();
  };
  // The timer runs only while there is something to check.
  const idleCheck = () => {
    if (streams.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const busyCheck = () => {
    if (!sweep || timer !== undefined || streams.size === 0) return;
    timer = setInterval(sweepNow, sweep.periodMs);
    Deno.unrefTimer(timer);
  };
  const sweepNow = () => {
    if (!sweep) return;
    const verdicts = new Map<string, boolean>();
    const { isLive } = sweep;
    closeWhere((entry) => {
      if (!verdicts.has(entry.tokenHash)) {
        let live = true;
        try {
          live = isLive(entry.tokenHash);
        } catch {
          // Cannot tell (the database is closing, say): leave it to the next sweep.
        }
        verdicts.set(entry.tokenHash, live);
      }
      return !verdicts.get(entry.tokenHash);
    });
  };

  return {
    register(tokenHash, userId, controller) {
      const entry = { tokenHash, userId, controller };
      streams.add(entry);
      busyCheck();
      return () => {
        streams.delete(entry);
        idleCheck();
      };
    },
    closeSession: (tokenHash) => closeWhere((entry) => entry.tokenHash === tokenHash),
    closeUser: (userId) => closeWhere((entry) => entry.userId === userId),
    watchExpiry(isLive, stop, periodMs = 1000) {
      if (stop.aborted) return;
      sweep = { isLive, periodMs };
      stop.addEventListener("abort", () => {
        sweep = undefined;
        if (timer !== undefined) clearInterval(timer);
        timer = undefined;
      }, { once: true });
      busyCheck();
    },
    count: () => streams.size,
  };
}
