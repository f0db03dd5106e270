import { describe, expect, it } from 'vitest';
import { nextDay, zonedInstant, zonedLocalInput } from '../src/lib/time-zone.ts';

describe('zonedInstant', () => {
  it('reads a wall time in the server zone, not the viewer\'s', () => {
    expect(zonedInstant('2026-11-25T13:00', 'Asia/Seoul')).toBe('2026-11-25T04:00:00.000Z');
    expect(zonedInstant('2026-11-25T13:00', 'UTC')).toBe('2026-11-25T13:00:00.000Z');
    expect(zonedInstant('2026-11-25', 'America/New_York')).toBe('2026-11-25T05:00:00.000Z');
  });
  it('follows daylight saving time', () => {
    expect(zonedInstant('2026-07-01T00:00', 'America/New_York')).toBe('2026-07-01T04:00:00.000Z');
    expect(zonedInstant('2026-12-01T00:00', 'America/New_York')).toBe('2026-12-01T05:00:00.000Z');
  });
  it('is undefined for text that is not a wall time', () => {
    expect(zonedInstant('', 'UTC')).toBeUndefined();
    expect(zonedInstant('yesterday', 'UTC')).toBeUndefined();
  });
});

describe('zonedLocalInput', () => {
  it('is the inverse of zonedInstant', () => {
    expect(zonedLocalInput('2026-11-25T04:00:00.000Z', 'Asia/Seoul')).toBe('2026-11-25T13:00');
    const iso = zonedInstant('2026-10-31T23:59', 'Europe/Berlin')!;
    expect(zonedLocalInput(iso, 'Europe/Berlin')).toBe('2026-10-31T23:59');
    expect(zonedLocalInput('nonsense', 'UTC')).toBe('');
  });
});

describe('nextDay', () => {
  it('crosses month and year ends', () => {
    expect(nextDay('2026-02-28')).toBe('2026-03-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
});
