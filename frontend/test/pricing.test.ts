import { describe, expect, it } from 'vitest';
import { formatRate, priceState } from '../src/lib/pricing.ts';

describe('priceState', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  it('tells in effect, scheduled and superseded rows apart', () => {
    expect(priceState({ in_effect: true, effective_from: '2026-01-01T00:00:00Z' }, now)).toBe('in effect');
    expect(priceState({ in_effect: false, effective_from: '2026-12-01T00:00:00Z' }, now)).toBe('scheduled');
    expect(priceState({ in_effect: false, effective_from: '2026-01-01T00:00:00Z' }, now)).toBe('superseded');
  });
});

describe('formatRate', () => {
  it('shows stored rates without padding, cents at least', () => {
    expect(formatRate('3.000000')).toBe('$3');
    expect(formatRate('0.300000')).toBe('$0.30');
    expect(formatRate('3.750000')).toBe('$3.75');
    expect(formatRate('0.080000')).toBe('$0.08');
    expect(formatRate('1.234567')).toBe('$1.234567');
  });
});
