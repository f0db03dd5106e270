/**
 * Usage reports: which time range a query means (in TIMEZONE), which rollups answer it, and the
 * buckets it returns (every bucket of the range, zeros where there was no traffic). Pure; the sums
 * come from db/usage-report-repository.ts.
 */

import { addUnits, parseLocalDate, startOf, unitStarts, type Granularity } from './calendar.ts';
import { formatUsd, toPico } from './money.ts';

export type ReportPeriod = 'day' | 'week' | 'month';

/** [start, end): whole days in the report's time zone. */
export interface ReportRange {
  start: Date;
  end: Date;
}

export class ReportRangeError extends Error {
  override name = 'ReportRangeError';
  /** The query field at fault, for the API's "field: problem" message. */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Hour buckets beyond this many days would be a response of thousands of rows: ask for days. */
export const MAX_HOUR_BUCKET_DAYS = 31;
const MAX_RANGE_DAYS = 3_700;

/**
 * The range a query names: `period` (the current day, ISO week from Monday, or month), or
 * `start_date`/`end_date` (inclusive local dates), else the current day.
 */
export function resolveRange(query: { period?: ReportPeriod; startDate?: string; endDate?: string }, now: Date, timeZone: string): ReportRange {
  const dates = query.startDate !== undefined || query.endDate !== undefined;
  if (dates && query.period) throw new ReportRangeError('period', 'give either period or start_date/end_date, not both');
  if (dates) {
    if (query.startDate === undefined) throw new ReportRangeError('start_date', 'is required with end_date');
    if (query.endDate === undefined) throw new ReportRangeError('end_date', 'is required with start_date');
    const start = parseLocalDate(query.startDate, timeZone);
    if (!start) throw new ReportRangeError('start_date', `must be a date like 2026-11-01 (got "${query.startDate}")`);
    const last = parseLocalDate(query.endDate, timeZone);
    if (!last) throw new ReportRangeError('end_date', `must be a date like 2026-11-30 (got "${query.endDate}")`);
    if (last < start) throw new ReportRangeError('end_date', 'must not be before start_date');
    const end = addUnits(last, 'day', 1, timeZone);
    if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * 86_400_000) throw new ReportRangeError('end_date', `the range may span at most ${MAX_RANGE_DAYS} days`);
    return { start, end };
  }
  const unit = query.period ?? 'day';
  const start = startOf(now, unit, timeZone);
  return { start, end: addUnits(start, unit, 1, timeZone) };
}

const isMonthStart = (t: Date, timeZone: string) => startOf(t, 'month', timeZone).getTime() === t.getTime();

/** The rollups that sum exactly to `bucket`s over `range`: month rollups only for whole months. */
export function sourceGranularity(range: ReportRange, bucket: Granularity | 'total', timeZone: string): Granularity {
  if (bucket === 'hour') return 'hour';
  if (bucket === 'day') return 'day';
  return isMonthStart(range.start, timeZone) && isMonthStart(range.end, timeZone) ? 'month' : 'day';
}

/**
 * The buckets of the range. A month bucket of a range that starts mid-month starts with the range
 * (it covers only the part inside the range).
 */
export function bucketStarts(range: ReportRange, bucket: Granularity, timeZone: string): Date[] {
  if (bucket === 'hour' && range.end.getTime() - range.start.getTime() > MAX_HOUR_BUCKET_DAYS * 86_400_000 + 3_600_000) {
    throw new ReportRangeError('bucket', `hour buckets cover at most ${MAX_HOUR_BUCKET_DAYS} days; use bucket=day`);
  }
  const first = startOf(range.start, bucket, timeZone);
  const starts = unitStarts(first, range.end, bucket, timeZone);
  starts[0] = range.start;
  return starts;
}

/** The bucket (of `starts`, ascending) a rollup row starting at `t` falls in. */
function bucketOf(starts: readonly Date[], t: Date): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]!.getTime() <= t.getTime()) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Sums of one bucket, one user, one model… Token counts are numbers; money is exact decimal strings. */
export interface UsageTotals {
  requests: number;
  unpricedRequests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  inputCostUsd: string;
  outputCostUsd: string;
  cacheReadCostUsd: string;
  cacheWrite5mCostUsd: string;
  cacheWrite1hCostUsd: string;
}

export const emptyTotals = (): UsageTotals => ({
  requests: 0,
  unpricedRequests: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  inputCostUsd: '0.00',
  outputCostUsd: '0.00',
  cacheReadCostUsd: '0.00',
  cacheWrite5mCostUsd: '0.00',
  cacheWrite1hCostUsd: '0.00',
});

const COUNTS = ['requests', 'unpricedRequests', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWrite5mTokens', 'cacheWrite1hTokens'] as const;
const MONEY = ['inputCostUsd', 'outputCostUsd', 'cacheReadCostUsd', 'cacheWrite5mCostUsd', 'cacheWrite1hCostUsd'] as const;

export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  const out = { ...a };
  for (const k of COUNTS) out[k] = a[k] + b[k];
  for (const k of MONEY) out[k] = formatUsd(toPico(a[k]) + toPico(b[k]));
  return out;
}

/** The sum of the five cost parts. */
export const totalCostUsd = (t: UsageTotals): string => formatUsd(MONEY.reduce((sum, k) => sum + toPico(t[k]), 0n));

/** Every bucket of the range in order, rollup sums added to the bucket they fall in, zeros elsewhere. */
export function fillBuckets(starts: readonly Date[], rows: readonly { bucketStart: Date; totals: UsageTotals }[]): { start: Date; totals: UsageTotals }[] {
  const buckets = starts.map((start) => ({ start, totals: emptyTotals() }));
  for (const row of rows) {
    const b = buckets[bucketOf(starts, row.bucketStart)]!;
    b.totals = addTotals(b.totals, row.totals);
  }
  return buckets;
}
