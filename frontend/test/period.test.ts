import { describe, expect, it } from 'vitest';
import {
  addDays,
  bucketFor,
  bucketLabel,
  chooseBucket,
  customRangeError,
  daysInclusive,
  defaultCustomRange,
  describePeriod,
  inclusiveEndDate,
  periodQuery,
  todayIn,
} from '../src/lib/period.ts';

describe('todayIn', () => {
  // 2026-11-25 20:30 UTC is already the 26th in Seoul (UTC+9) and still the 25th in Los Angeles.
  const instant = new Date('2026-11-25T20:30:00Z');
  it('reads the calendar day in the server time zone, not the viewer\'s', () => {
    expect(todayIn('Asia/Seoul', instant)).toBe('2026-11-26');
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-11-25');
    expect(todayIn('UTC', instant)).toBe('2026-11-25');
  });
  it('turns the day at local midnight', () => {
    expect(todayIn('Asia/Seoul', new Date('2026-11-25T14:59:59Z'))).toBe('2026-11-25');
    expect(todayIn('Asia/Seoul', new Date('2026-11-25T15:00:00Z'))).toBe('2026-11-26');
  });
});

describe('calendar arithmetic', () => {
  it('adds days across month, year and leap-day boundaries', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
  it('is not shifted by a daylight-saving change', () => {
    // Days are calendar days: 2026-03-08 (US spring forward) is one day like any other.
    expect(addDays('2026-03-07', 2)).toBe('2026-03-09');
    expect(daysInclusive('2026-03-01', '2026-03-31')).toBe(31);
  });
  it('counts days inclusively', () => {
    expect(daysInclusive('2026-11-25', '2026-11-25')).toBe(1);
    expect(daysInclusive('2026-11-01', '2026-11-30')).toBe(30);
  });
  it('rejects impossible dates', () => {
    expect(() => addDays('2026-02-30', 1)).toThrow();
    expect(customRangeError('2026-02-30', '2026-03-01')).toBe('Choose a start date.');
  });
});

describe('custom ranges', () => {
  it('default to the last 30 days up to today in TIMEZONE', () => {
    expect(defaultCustomRange('Asia/Seoul', new Date('2026-11-25T20:30:00Z'))).toEqual({ start: '2026-10-28', end: '2026-11-26' });
  });
  it('say what is wrong', () => {
    expect(customRangeError(undefined, '2026-11-01')).toBe('Choose a start date.');
    expect(customRangeError('2026-11-01', '')).toBe('Choose an end date.');
    expect(customRangeError('2026-11-02', '2026-11-01')).toBe('The end date must not be before the start date.');
    expect(customRangeError('2016-01-01', '2026-11-01')).toMatch(/3700 days/);
    expect(customRangeError('2026-11-01', '2026-11-01')).toBeNull();
  });
  it('become the query the server expects', () => {
    expect(periodQuery({ kind: 'week' })).toEqual({ period: 'week' });
    expect(periodQuery({ kind: 'custom', start: '2026-11-01', end: '2026-11-30' })).toEqual({ start_date: '2026-11-01', end_date: '2026-11-30' });
    expect(periodQuery({ kind: 'custom', start: '2026-11-30', end: '2026-11-01' })).toBeNull();
  });
  it('pick hours for up to two days, days up to a quarter, months beyond', () => {
    expect(chooseBucket('2026-11-25', '2026-11-25')).toBe('hour');
    expect(chooseBucket('2026-11-24', '2026-11-25')).toBe('hour');
    expect(chooseBucket('2026-11-23', '2026-11-25')).toBe('day');
    expect(chooseBucket('2026-09-01', '2026-11-30')).toBe('day');
    expect(chooseBucket('2026-01-01', '2026-11-30')).toBe('month');
    expect(bucketFor({ kind: 'day' })).toBeUndefined();
  });
});

describe('period labels', () => {
  it('show the inclusive last day of an exclusive end', () => {
    expect(inclusiveEndDate('2026-12-01T00:00:00+09:00')).toBe('2026-11-30');
    expect(inclusiveEndDate('2026-11-26T00:00:00-08:00')).toBe('2026-11-25');
    expect(inclusiveEndDate('2026-11-25T15:00:00+09:00')).toBe('2026-11-25');
  });
  it('name the range and the time zone', () => {
    expect(describePeriod({ start: '2026-11-23T00:00:00+09:00', end: '2026-11-30T00:00:00+09:00', timezone: 'Asia/Seoul' })).toBe(
      '2026-11-23 – 2026-11-29 (Asia/Seoul)',
    );
    expect(describePeriod({ start: '2026-11-25T00:00:00+09:00', end: '2026-11-26T00:00:00+09:00', timezone: 'Asia/Seoul' })).toBe('2026-11-25 (Asia/Seoul)');
  });
  it('read bucket wall times as the server wrote them (no conversion to the viewer\'s zone)', () => {
    expect(bucketLabel('2026-11-25T13:00:00+09:00', 'hour', false)).toBe('13:00');
    expect(bucketLabel('2026-11-25T00:00:00+09:00', 'hour', true)).toBe('11-25 00:00');
    expect(bucketLabel('2026-11-25T00:00:00-05:00', 'day', true)).toBe('11-25');
    expect(bucketLabel('2026-11-01T00:00:00+09:00', 'month', true)).toBe('2026-11');
  });
});
