/**
 * Long-lived streams (SSE, WebSocket) belong to a session. Logging out, deleting the user
 * or changing their role closes them: each stream registers an AbortController here.
 */
export interface SessionStreams {
  /** Registers a stream; call the returned function when the stream ends on its own. */
  register(tokenHash: string, userId: number, controller: AbortController): () => void;
  closeSession(tokenHash: string): void;
  closeUser(userId: number): void;
  /** Open streams, for tests and diagnostics. */
  count(): number;
}

export function createSessionStreams(): SessionStreams {
  const streams = new Set<{ tokenHash: string; userId: number; controller: AbortController }>();
  const closeWhere = (match: (entry: { tokenHash: string; userId: number }) => boolean) => {
    for (const entry of [...streams]) {
      if (match(entry)) {
        streams.delete(entry);
        entry.controller.abort();
      }
    }
  };
  return {
    register(tokenHash, userId, controller) {
      const entry = { tokenHash, userId, controller };
      streams.add(entry);
      return () => streams.delete(entry);
    },
    closeSession: (tokenHash) => closeWhere((entry) => entry.tokenHash === tokenHash),
    closeUser: (userId) => closeWhere((entry) => entry.userId === userId),
    count: () => streams.size,
  };
}
