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
  /** Keys whose `plan_first` requests (of any model family) go to Bedrock now, by each key's last policy asked. */
  parkedKeys(defaultPolicy: PlanPolicy): number;
  /** The highest utilization of a window across the readings (0 without any). */
  maxUtilization(window: 'five_hour' | 'seven_day'): number;
  /** Readings whose storing failed: taken again next time (unless a newer one replaced them). */
  retry(entries: readonly PlanWindowEntry[]): void;
}

// One model per family: a family's weekly window parks only its own models.
const FAMILY_MODELS = ['claude-opus', 'claude-sonnet', 'claude-haiku'];

/**
 * Plan readings per access key, in memory: read on every `plan_first` request, so no query. Bounded
 * by the number of keys in use (one entry each).
 */
export function createPlanWindows(options: { now?: () => number } = {}): PlanWindows {
  const now = options.now ?? Date.now;
  const entries = new Map<string, PlanWindowEntry>();
  const changed = new Set<string>();
  // The policy each key's requests were last routed by (its user's): the gauges use it.
  const policies = new Map<string, PlanPolicy>();
  return {
    observe(key, limits, at = now()) {
      const previous = entries.get(key.accessKeyId);
      if (previous && previous.observedAt > at) return;
      entries.set(key.accessKeyId, { accessKeyId: key.accessKeyId, userId: key.userId, observedAt: at, limits });
      changed.add(key.accessKeyId);
    },
    park(accessKeyId, policy, model) {
      const entry = entries.get(accessKeyId);
      if (entry) policies.set(accessKeyId, policy);
      return entry ? parkFor(entry.limits, entry.observedAt, policy, model, now()) : null;
    },
    get: (accessKeyId) => entries.get(accessKeyId),
    list: () => [...entries.values()],
    merge(entry) {
      const previous = entries.get(entry.accessKeyId);
      if (!previous || previous.observedAt < entry.observedAt) entries.set(entry.accessKeyId, entry);
    },
    parkedKeys(defaultPolicy) {
      const t = now();
      let n = 0;
      for (const e of entries.values()) {
        const policy = policies.get(e.accessKeyId) ?? defaultPolicy;
        if (FAMILY_MODELS.some((model) => parkFor(e.limits, e.observedAt, policy, model, t))) n++;
      }
      return n;
    },
    maxUtilization(window) {
      let max = 0;
      for (const e of entries.values()) max = Math.max(max, e.limits.windows[window]?.utilization ?? 0);
      return max;
    },
    forget(accessKeyId) {
      entries.delete(accessKeyId);
      policies.delete(accessKeyId);
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
