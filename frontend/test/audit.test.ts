import { describe, expect, it } from 'vitest';
import { changedFields, dayBoundary } from '../src/lib/audit.ts';

describe('changedFields', () => {
  it('names the fields a change touched', () => {
    expect(changedFields({ name: 'a', status: 'active', n: 1 }, { name: 'b', status: 'active', n: 1 })).toEqual(['name']);
    expect(changedFields(null, { name: 'a' })).toEqual(['name']);
    expect(changedFields({ routing_strategy: 'plan_first', budget: null }, null)).toEqual(['budget', 'routing_strategy']);
    expect(changedFields({ geographies: ['us'] }, { geographies: ['us', 'eu'] })).toEqual(['geographies']);
  });
});

describe('dayBoundary', () => {
  it('is where a day starts and ends in the server\'s zone, not the viewer\'s', () => {
    expect(dayBoundary('2026-11-25', 'Asia/Seoul')).toBe('2026-11-24T15:00:00.000Z');
    expect(dayBoundary('2026-11-25', 'Asia/Seoul', true)).toBe('2026-11-25T15:00:00.000Z');
    expect(dayBoundary('2026-12-31', 'UTC', true)).toBe('2027-01-01T00:00:00.000Z');
    expect(dayBoundary('25/11/2026', 'UTC')).toBeUndefined();
  });
});
