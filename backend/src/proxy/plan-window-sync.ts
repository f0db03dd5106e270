import type { Logger } from '../observability/logger.ts';
import type { PlanWindowEntry, PlanWindows } from './plan-windows.ts';

/** Where readings are shared: the database, and a notice to the other tasks that something changed. */
export interface PlanWindowStore {
  /** Stores the readings and tells the other tasks (one write for the whole batch). */
  save(entries: readonly PlanWindowEntry[]): Promise<void>;
  /** Readings stored after `since` (all when null), with the time each was stored. */
  changedSince(since: Date | null): Promise<(PlanWindowEntry & { updatedAt: Date })[]>;
}

export interface PlanWindowSync {
  /** Reads what other tasks stored since the last load (at start, and when they say they wrote). */
  load(): Promise<void>;
  /** Stores what this task observed since the last flush (the timer calls it; tests and shutdown too). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

// Rows committed out of order may carry an earlier time than the cursor: re-read a little behind it
// (merging is idempotent: the newer observation wins).
const CURSOR_OVERLAP_MS = 5_000;

/**
 * Shares Plan readings between tasks at a bounded write rate: whatever a task observes is stored at
 * most once per `intervalMs`, as one batched upsert, however many requests brought it; the hot path
 * never waits for it. A failed write is tried again at the next tick.
 */
export function startPlanWindowSync(options: { windows: PlanWindows; store: PlanWindowStore; intervalMs: number; logger: Logger }): PlanWindowSync {
  const { windows, store, logger } = options;
  let cursor: Date | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let loading: Promise<void> | null = null;
  let loadAgain = false;

  async function loadNow(): Promise<void> {
    try {
      const since = cursor ? new Date(cursor.getTime() - CURSOR_OVERLAP_MS) : null;
      for (const row of await store.changedSince(since)) {
        windows.merge({ accessKeyId: row.accessKeyId, userId: row.userId, observedAt: row.observedAt, limits: row.limits });
        if (!cursor || row.updatedAt > cursor) cursor = row.updatedAt;
      }
    } catch (err) {
      logger.warn({ err }, 'could not read Plan window readings of other tasks');
    }
  }

  async function flushNow(): Promise<void> {
    const entries = windows.takeChanged();
    if (entries.length === 0) return;
    try {
      await store.save(entries);
    } catch (err) {
      windows.retry(entries);
      logger.warn({ err, keys: entries.length }, 'could not store Plan window readings; retrying');
    }
  }

  const timer = setInterval(() => void sync.flush(), options.intervalMs);
  timer.unref();

  const sync: PlanWindowSync = {
    load() {
      // Notices arriving during a load (it may have read before their rows) are folded into one more load after it.
      if (loading) {
        loadAgain = true;
        return loading;
      }
      loading = (async () => {
        do {
          loadAgain = false;
          await loadNow();
        } while (loadAgain);
        loading = null;
      })();
      return loading;
    },
    flush() {
      flushing = flushing.then(flushNow);
      return flushing;
    },
    async close() {
      clearInterval(timer);
      await sync.flush();
    },
  };
  return sync;
}
