/**
 * The proxied requests that hold an upstream call (Anthropic or Bedrock) right now: at most `max`
 * of them (MAX_UPSTREAM_REQUESTS), so a burst queues nowhere in the proxy's memory and is told
 * `529 overloaded_error` at once; and, at the end of a shutdown drain, every one of them can be
 * told to stop.
 */
export interface InFlight {
  readonly size: number;
  readonly max: number;
  /**
   * Takes a slot, or returns null when all `max` are taken. `stop` is what the request does when
   * the drain time is over; the returned function gives the slot back (call it exactly once).
   */
  enter(stop: () => void): (() => void) | null;
  /** Tells every request still in flight to stop; returns how many there were. */
  stopAll(): number;
}

export function createInFlight(max: number): InFlight {
  const entries = new Set<() => void>();
  return {
    get size() {
      return entries.size;
    },
    max,
    enter(stop) {
      if (entries.size >= max) return null;
      // A wrapper per request, so the same stop function entered twice still takes two slots.
      const entry = () => stop();
      entries.add(entry);
      return () => void entries.delete(entry);
    },
    stopAll() {
      const stopping = [...entries];
      for (const stop of stopping) {
        try {
          stop();
        } catch {
          // one request failing to stop must not keep the others running
        }
      }
      return stopping.length;
    },
  };
}
