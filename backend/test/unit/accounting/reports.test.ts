import { describe, expect, it } from 'vitest';
import { formatZoned } from '../../../src/accounting/calendar.ts';
import { addTotals, bucketStarts, emptyTotals, fillBuckets, ReportRangeError, resolveRange, sourceGranularity, totalCostUsd } from '../../../src/accounting/reports.ts';

const SEOUL = 'Asia/Seoul';
const now = new Date('2026-11-25T03:00:00Z'); // Wednesday 25 November 2026, 12:00 in Seoul
const local = (d: Date) => formatZoned(d, SEOUL);

describe('report ranges in TIMEZONE', () => {
  it.each([
    [{ period: 'day' as const }, '2026-11-25T00:00:00+09:00', '2026-11-26T00:00:00+09:00'],
    [{ period: 'week' as const }, '2026-11-23T00:00:00+09:00', '2026-11-30T00:00:00+09:00'],
    [{ period: 'month' as const }, '2026-11-01T00:00:00+09:00', '2026-12-01T00:00:00+09:00'],
    [{}, '2026-11-25T00:00:00+09:00', '2026-11-26T00:00:00+09:00'],
    [{ startDate: '2026-11-01', endDate: '2026-11-01' }, '2026-11-01T00:00:00+09:00', '2026-11-02T00:00:00+09:00'],
    [{ startDate: '2026-10-15', endDate: '2026-11-14' }, '2026-10-15T00:00:00+09:00', '2026-11-15T00:00:00+09:00'],
  ])('%j → [%s, %s)', (query, start, end) => {
    const r = resolveRange(query, now, SEOUL);
    expect([local(r.start), local(r.end)]).toEqual([start, end]);
  });

  it.each([
    [{ period: 'day' as const, startDate: '2026-11-01', endDate: '2026-11-02' }, 'period'],
    [{ startDate: '2026-11-01' }, 'end_date'],
    [{ endDate: '2026-11-01' }, 'start_date'],
    [{ startDate: '2026-11-31', endDate: '2026-12-01' }, 'start_date'],
    [{ startDate: '2026-11-02', endDate: '2026-11-01' }, 'end_date'],
    [{ startDate: '2000-01-01', endDate: '2026-11-01' }, 'end_date'],
  ])('refuses %j naming the field %s', (query, field) => {
    expect(() => resolveRange(query, now, SEOUL)).toThrow(ReportRangeError);
    try {
      resolveRange(query, now, SEOUL);
    } catch (err) {
      expect((err as ReportRangeError).field).toBe(field);
    }
  });
});

describe('buckets', () => {
  it('covers the whole range, a month bucket clipped to a range that starts mid-month', () => {
    const r = resolveRange({ startDate: '2026-10-15', endDate: '2026-12-10' }, now, SEOUL);
    expect(bucketStarts(r, 'month', SEOUL).map(local)).toEqual(['2026-10-15T00:00:00+09:00', '2026-11-01T00:00:00+09:00', '2026-12-01T00:00:00+09:00']);
    expect(sourceGranularity(r, 'month', SEOUL)).toBe('day');
    expect(sourceGranularity(resolveRange({ period: 'month' }, now, SEOUL), 'month', SEOUL)).toBe('month');
    expect(bucketStarts(resolveRange({ period: 'day' }, now, SEOUL), 'hour', SEOUL)).toHaveLength(24);
  });

  it('refuses hour buckets over more than 31 days', () => {
    expect(() => bucketStarts(resolveRange({ startDate: '2026-10-01', endDate: '2026-11-30' }, now, SEOUL), 'hour', SEOUL)).toThrow('hour buckets');
  });

  it('are all present, with zeros where there was no traffic, and sums where there was', () => {
    const r = resolveRange({ startDate: '2026-10-30', endDate: '2026-11-02' }, now, SEOUL);
    const starts = bucketStarts(r, 'month', SEOUL);
    const traffic = { ...emptyTotals(), requests: 2, inputTokens: 7, inputCostUsd: '0.10' };
    const filled = fillBuckets(starts, [
      { bucketStart: new Date('2026-10-29T15:00:00Z'), totals: traffic }, // 30 October
      { bucketStart: new Date('2026-10-30T15:00:00Z'), totals: traffic }, // 31 October
    ]);
    expect(filled.map((b) => [local(b.start), b.totals.requests, b.totals.inputCostUsd])).toEqual([
      ['2026-10-30T00:00:00+09:00', 4, '0.20'],
      ['2026-11-01T00:00:00+09:00', 0, '0.00'],
    ]);
  });

  it('add exactly', () => {
    const a = { ...emptyTotals(), outputCostUsd: '0.1', cacheWrite1hCostUsd: '0.000000000001' };
    expect(totalCostUsd(addTotals(a, { ...emptyTotals(), outputCostUsd: '0.2' }))).toBe('0.300000000001');
  });
});
