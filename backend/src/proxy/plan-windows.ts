import type { UnifiedLimits } from '../anthropic/unified-limits.ts';
import { parkFor, type Park, type PlanPolicy } from './plan-window-policy.ts';

/** The last Plan reading of one access key (its credential is one developer's Plan). */
export interface PlanWindowEntry {
  accessKeyId: string;
  userId: string;
  /** Epoch ms of the answer that carried it. */
  observedAt: number;
  limits: UnifiedLimits;
}

export interface PlanWindows {
  /** A Plan answer's reading (hot path: memory only; the sync stores it later). */
  observe(key: { accessKeyId: string; userId: string }, limits: UnifiedLimits, at?: number): void;
  /** Where a `plan_first` request for `model` goes now, by the key's last reading. */
  park(accessKeyId: string, policy: PlanPolicy, model: string): Park | null;
  get(accessKeyId: string): PlanWindowEntry | undefined;
  list(): PlanWindowEntry[];
  /** A reading from another task (or from before a restart): kept when newer than ours. */
  merge(entry: PlanWindowEntry): void;
  forget(accessKeyId: string): void;
  /** Readings observed since the last call, for the sync to store. */
  takeChanged(): PlanWindowEntry[];
  /** Readings whose storing failed: taken again next time (unless a newer one replaced them). */
  retry(entries: readonly PlanWindowEntry[]): void;
}

/**
 * Plan readings per access key, in memory: read on every `plan_first` request, so no query. Bounded
 * by the number of keys in use (one entry each).
 */
export function createPlanWindows(options: { now?: () => number } = {}): PlanWindows {
  const now = options.now ?? Date.now;
  const entries = new Map<string, PlanWindowEntry>();
  const changed = new Set<string>();
  return {
    observe(key, limits, at = now()) {
      const previous = entries.get(key.accessKeyId);
      if (previous && previous.observedAt > at) return;
      entries.set(key.accessKeyId, { accessKeyId: key.accessKeyId, userId: key.userId, observedAt: at, limits });
      changed.add(key.accessKeyId);
    },
    park(accessKeyId, policy, model) {
      const entry = entries.get(accessKeyId);
      return entry ? parkFor(entry.limits, entry.observedAt, policy, model, now()) : null;
    },
    get: (accessKeyId) => entries.get(accessKeyId),
    list: () => [...entries.values()],
    merge(entry) {
      const previous = entries.get(entry.accessKeyId);
      if (!previous || previous.observedAt < entry.observedAt) entries.set(entry.accessKeyId, entry);
    },
    forget(accessKeyId) {
      entries.delete(accessKeyId);
      changed.delete(accessKeyId);
    },
    takeChanged() {
      const out: PlanWindowEntry[] = [];
      for (const id of changed) {
        const entry = entries.get(id);
        if (entry) out.push(entry);
      }
      changed.clear();
      return out;
    },
    retry(failed) {
      for (const e of failed) if (entries.get(e.accessKeyId) === e) changed.add(e.accessKeyId);
    },
  };
}
