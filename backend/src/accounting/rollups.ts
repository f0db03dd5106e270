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
const QUARTER_HOUR = 15 * 60_000;

/** The model a report groups by: the priced model (`claude-opus-5-5`) whatever the provider called it. */
export function reportingModel(event: PricedUsageEvent): string {
  const priced = event.cost?.snapshot?.model;
  if (priced) return priced;
  const raw = event.servedModel ?? event.requestedModel;
  return raw ? pricingModel(raw).model.slice(0, MAX_MODEL_LENGTH) : 'unknown';
}

interface Sums {
  /** Its costs are filled in from `pico` once every event is counted. */
  row: RollupRow;
  pico: [bigint, bigint, bigint, bigint, bigint];
}

type Bucket = { start: Date; iso: string };

/**
 * The hour, day and month starts of an instant (with their ISO strings, for sort keys), computed
 * once per UTC quarter hour: every instant in one has the same zone offset (calendar.ts), so the
 * same buckets, and a batch's events mostly share one or two.
 */
function bucketsIn(timeZone: string): (instant: Date) => Record<Granularity, Bucket> {
  const bySlot = new Map<number, Record<Granularity, Bucket>>();
  const bucket = (instant: Date, granularity: Granularity): Bucket => {
    const start = startOf(instant, granularity, timeZone);
    return { start, iso: start.toISOString() };
  };
  return (instant) => {
    const slot = Math.floor(instant.getTime() / QUARTER_HOUR);
    let buckets = bySlot.get(slot);
    if (!buckets) {
      buckets = { hour: bucket(instant, 'hour'), day: bucket(instant, 'day'), month: bucket(instant, 'month') };
      bySlot.set(slot, buckets);
    }
    return buckets;
  };
}

function emptySums(granularity: Granularity, bucket: Bucket, of: Pick<RollupRow, 'userId' | 'accessKeyId' | 'provider' | 'model'>): Sums {
  return {
    row: {
      granularity,
      bucketStart: bucket.start,
      userId: of.userId,
      accessKeyId: of.accessKeyId,
      provider: of.provider,
      model: of.model,
      requests: 0,
      unpricedRequests: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      inputCostUsd: '',
      outputCostUsd: '',
      cacheReadCostUsd: '',
      cacheWrite5mCostUsd: '',
      cacheWrite1hCostUsd: '',
    },
    pico: [0n, 0n, 0n, 0n, 0n],
  };
}

const keyOf = (granularity: Granularity, bucket: Bucket, of: Pick<RollupRow, 'userId' | 'accessKeyId' | 'provider' | 'model'>): string =>
  `${granularity}|${bucket.iso}|${of.userId}|${of.accessKeyId}|${of.provider}|${of.model}`;

/**
 * One row per bucket and dimension for these events, sorted by key: several writers then lock
 * rollup rows in the same order, so their transactions cannot deadlock.
 */
export function rollupsFor(events: readonly PricedUsageEvent[], timeZone: string): RollupRow[] {
  const bucketsOf = bucketsIn(timeZone);
  // Events are summed per hour first (one key and one set of bigint additions each), then the hours
  // into their days and months: an hour (a whole local hour, DST included) lies within one of each.
  const hours = new Map<string, { sums: Sums; buckets: Record<Granularity, Bucket> }>();
  for (const event of events) {
    const buckets = bucketsOf(event.occurredAt);
    const of = { userId: event.userId, accessKeyId: event.accessKeyId, provider: event.provider, model: reportingModel(event) };
    const key = keyOf('hour', buckets.hour, of);
    let hour = hours.get(key);
    if (!hour) {
      hour = { sums: emptySums('hour', buckets.hour, of), buckets };
      hours.set(key, hour);
    }
    const { row, pico } = hour.sums;
    row.requests += 1;
    if (!event.cost) row.unpricedRequests += 1;
    row.inputTokens += event.inputTokens;
    row.outputTokens += event.outputTokens;
    row.cacheReadTokens += event.cacheReadTokens;
    row.cacheWrite5mTokens += event.cacheWrite5mTokens;
    row.cacheWrite1hTokens += event.cacheWrite1hTokens;
    const parts = event.cost?.parts;
    if (parts) {
      pico[0] += toPico(parts.input);
      pico[1] += toPico(parts.output);
      pico[2] += toPico(parts.cacheRead);
      pico[3] += toPico(parts.cacheWrite5m);
      pico[4] += toPico(parts.cacheWrite1h);
    }
  }
  const sums = new Map<string, Sums>();
  for (const [key, { sums: hour, buckets }] of hours) {
    sums.set(key, hour);
    for (const granularity of GRANULARITIES) {
      if (granularity === 'hour') continue;
      const wider = keyOf(granularity, buckets[granularity], hour.row);
      let s = sums.get(wider);
      if (!s) {
        s = emptySums(granularity, buckets[granularity], hour.row);
        sums.set(wider, s);
      }
      s.row.requests += hour.row.requests;
      s.row.unpricedRequests += hour.row.unpricedRequests;
      s.row.inputTokens += hour.row.inputTokens;
      s.row.outputTokens += hour.row.outputTokens;
      s.row.cacheReadTokens += hour.row.cacheReadTokens;
      s.row.cacheWrite5mTokens += hour.row.cacheWrite5mTokens;
      s.row.cacheWrite1hTokens += hour.row.cacheWrite1hTokens;
      for (let i = 0; i < 5; i++) s.pico[i] = s.pico[i]! + hour.pico[i]!;
    }
  }
  // Filled in place rather than spread into new objects: spreading an object this wide is slow in V8.
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { row, pico }]) => {
      row.inputCostUsd = formatUsd(pico[0]);
      row.outputCostUsd = formatUsd(pico[1]);
      row.cacheReadCostUsd = formatUsd(pico[2]);
      row.cacheWrite5mCostUsd = formatUsd(pico[3]);
      row.cacheWrite1hCostUsd = formatUsd(pico[4]);
      return row;
    });
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
