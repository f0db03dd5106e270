/**
 * Rollups: usage summed per hour, day and month (in TIMEZONE) × user × access key × provider ×
 * model, and Bedrock spend per user and month for budgets. Computed here from the events a batch
 * actually inserted, and written in the same transaction as those events (db/usage-repository.ts),
 * so a replayed batch cannot count twice. Pure.
 */

import { startOf, type Granularity } from './calendar.ts';
import type { PricedUsageEvent } from './cost.ts';
import { formatUsd, toPico } from './money.ts';
import { pricingModel } from './pricing.ts';
import type { UsageTotals } from './reports.ts';

export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'month'];

/** One rollup bucket: the report totals (reports.ts) of one user × key × provider × model. */
export interface RollupRow extends UsageTotals {
  granularity: Granularity;
  bucketStart: Date;
  userId: string;
  accessKeyId: string;
  provider: 'plan' | 'bedrock';
  model: string;
}

const MAX_MODEL_LENGTH = 200;

/** The model a report groups by: the priced model (`claude-opus-5-5`) whatever the provider called it. */
export function reportingModel(event: PricedUsageEvent): string {
  const priced = event.cost?.snapshot?.model;
  if (priced) return priced;
  const raw = event.servedModel ?? event.requestedModel;
  return raw ? pricingModel(raw).model.slice(0, MAX_MODEL_LENGTH) : 'unknown';
}

interface Sums {
  row: Omit<RollupRow, 'inputCostUsd' | 'outputCostUsd' | 'cacheReadCostUsd' | 'cacheWrite5mCostUsd' | 'cacheWrite1hCostUsd'>;
  pico: [bigint, bigint, bigint, bigint, bigint];
}

/**
 * One row per bucket and dimension for these events, sorted by key: several writers then lock
 * rollup rows in the same order, so their transactions cannot deadlock.
 */
export function rollupsFor(events: readonly PricedUsageEvent[], timeZone: string): RollupRow[] {
  const sums = new Map<string, Sums>();
  for (const event of events) {
    const model = reportingModel(event);
    const parts = event.cost?.parts;
    const pico: Sums['pico'] = parts
      ? [toPico(parts.input), toPico(parts.output), toPico(parts.cacheRead), toPico(parts.cacheWrite5m), toPico(parts.cacheWrite1h)]
      : [0n, 0n, 0n, 0n, 0n];
    for (const granularity of GRANULARITIES) {
      const bucketStart = startOf(event.occurredAt, granularity, timeZone);
      const key = [granularity, bucketStart.toISOString(), event.userId, event.accessKeyId, event.provider, model].join('|');
      let s = sums.get(key);
      if (!s) {
        s = {
          row: {
            granularity,
            bucketStart,
            userId: event.userId,
            accessKeyId: event.accessKeyId,
            provider: event.provider,
            model,
            requests: 0,
            unpricedRequests: 0,
            inputTokens: 0,
            outputTokens: 0,
            cacheReadTokens: 0,
            cacheWrite5mTokens: 0,
            cacheWrite1hTokens: 0,
          },
          pico: [0n, 0n, 0n, 0n, 0n],
        };
        sums.set(key, s);
      }
      s.row.requests += 1;
      if (!event.cost) s.row.unpricedRequests += 1;
      s.row.inputTokens += event.inputTokens;
      s.row.outputTokens += event.outputTokens;
      s.row.cacheReadTokens += event.cacheReadTokens;
      s.row.cacheWrite5mTokens += event.cacheWrite5mTokens;
      s.row.cacheWrite1hTokens += event.cacheWrite1hTokens;
      for (let i = 0; i < 5; i++) s.pico[i] = s.pico[i]! + pico[i]!;
    }
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { row, pico }]) => ({
      ...row,
      inputCostUsd: formatUsd(pico[0]),
      outputCostUsd: formatUsd(pico[1]),
      cacheReadCostUsd: formatUsd(pico[2]),
      cacheWrite5mCostUsd: formatUsd(pico[3]),
      cacheWrite1hCostUsd: formatUsd(pico[4]),
    }));
}

/** Bedrock spend of these events per user and budget month (TIMEZONE), sorted like the rollups. */
export function bedrockSpendFor(events: readonly PricedUsageEvent[], timeZone: string): { userId: string; periodStart: Date; spentUsd: string }[] {
  const sums = new Map<string, { userId: string; periodStart: Date; pico: bigint }>();
  for (const event of events) {
    if (event.provider !== 'bedrock' || !event.cost) continue;
    const periodStart = startOf(event.occurredAt, 'month', timeZone);
    const key = `${event.userId}|${periodStart.toISOString()}`;
    const s = sums.get(key) ?? { userId: event.userId, periodStart, pico: 0n };
    s.pico += toPico(event.cost.totalUsd);
    sums.set(key, s);
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => ({ userId: s.userId, periodStart: s.periodStart, spentUsd: formatUsd(s.pico) }));
}
