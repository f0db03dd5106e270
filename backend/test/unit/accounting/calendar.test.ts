import { describe, expect, it } from 'vitest';
import { addUnits, formatZoned, parseLocalDate, startOf, unitStarts, zonedInstant } from '../../../src/accounting/calendar.ts';

const SEOUL = 'Asia/Seoul';
const NEW_YORK = 'America/New_York';
const iso = (d: Date) => d.toISOString();

describe('calendar in Asia/Seoul (UTC+9, no DST)', () => {
  it('starts the day at local midnight: 23:59:59 and 00:00:00 local fall on different days', () => {
    const lastSecond = new Date('2026-11-30T14:59:59Z'); // 23:59:59 on 30 November in Seoul
    const midnight = new Date('2026-11-30T15:00:00Z'); // 00:00:00 on 1 December in Seoul
    expect(iso(startOf(lastSecond, 'day', SEOUL))).toBe('2026-11-29T15:00:00.000Z');
    expect(iso(startOf(midnight, 'day', SEOUL))).toBe('2026-11-30T15:00:00.000Z');
    expect(iso(startOf(lastSecond, 'month', SEOUL))).toBe('2026-10-31T15:00:00.000Z');
    expect(iso(startOf(midnight, 'month', SEOUL))).toBe('2026-11-30T15:00:00.000Z');
    expect(iso(startOf(lastSecond, 'hour', SEOUL))).toBe('2026-11-30T14:00:00.000Z');
  });

  it('starts weeks on Monday', () => {
    // Wednesday 25 November 2026, 12:00 in Seoul → Monday 23 November, 00:00
    expect(formatZoned(startOf(new Date('2026-11-25T03:00:00Z'), 'week', SEOUL), SEOUL)).toBe('2026-11-23T00:00:00+09:00');
    // Sunday 29 November 23:00 in Seoul is still that week
    expect(formatZoned(startOf(new Date('2026-11-29T14:00:00Z'), 'week', SEOUL), SEOUL)).toBe('2026-11-23T00:00:00+09:00');
  });

  it('steps months across the year end and formats with the offset', () => {
    const december = zonedInstant(SEOUL, 2026, 12);
    expect(formatZoned(december, SEOUL)).toBe('2026-12-01T00:00:00+09:00');
    expect(formatZoned(addUnits(december, 'month', 1, SEOUL), SEOUL)).toBe('2027-01-01T00:00:00+09:00');
    expect(unitStarts(december, addUnits(december, 'day', 3, SEOUL), 'day', SEOUL).map((d) => formatZoned(d, SEOUL))).toEqual([
      '2026-12-01T00:00:00+09:00',
      '2026-12-02T00:00:00+09:00',
      '2026-12-03T00:00:00+09:00',
    ]);
  });

  it('reads YYYY-MM-DD as a local day and refuses dates that do not exist', () => {
    expect(iso(parseLocalDate('2026-12-01', SEOUL)!)).toBe('2026-11-30T15:00:00.000Z');
    expect(parseLocalDate('2026-02-30', SEOUL)).toBeNull();
    expect(parseLocalDate('2026-1-01', SEOUL)).toBeNull();
  });
});

describe('calendar across daylight saving time (America/New_York)', () => {
  it('has a 23-hour day in March and a 25-hour day in November', () => {
    const march8 = zonedInstant(NEW_YORK, 2026, 3, 8);
    expect(addUnits(march8, 'day', 1, NEW_YORK).getTime() - march8.getTime()).toBe(23 * 3_600_000);
    const nov1 = zonedInstant(NEW_YORK, 2026, 11, 1);
    expect(addUnits(nov1, 'day', 1, NEW_YORK).getTime() - nov1.getTime()).toBe(25 * 3_600_000);
    expect(unitStarts(nov1, addUnits(nov1, 'day', 1, NEW_YORK), 'hour', NEW_YORK)).toHaveLength(25);
  });

  it('keeps the two 01:00 hours of the fall-back night apart', () => {
    const first = new Date('2026-11-01T05:30:00Z'); // 01:30 EDT
    const second = new Date('2026-11-01T06:30:00Z'); // 01:30 EST
    expect(iso(startOf(first, 'hour', NEW_YORK))).toBe('2026-11-01T05:00:00.000Z');
    expect(iso(startOf(second, 'hour', NEW_YORK))).toBe('2026-11-01T06:00:00.000Z');
    expect(formatZoned(startOf(second, 'day', NEW_YORK), NEW_YORK)).toBe('2026-11-01T00:00:00-04:00');
  });
});

describe('calendar in zones with half-hour offsets', () => {
  it('starts hours at the local hour (Asia/Kolkata, UTC+5:30)', () => {
    expect(iso(startOf(new Date('2026-11-25T10:10:00Z'), 'hour', 'Asia/Kolkata'))).toBe('2026-11-25T09:30:00.000Z');
    expect(formatZoned(new Date('2026-11-25T09:30:00Z'), 'Asia/Kolkata')).toBe('2026-11-25T15:00:00+05:30');
  });
});
