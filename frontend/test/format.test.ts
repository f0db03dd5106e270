import { describe, expect, it } from 'vitest';
import { formatDateTime, formatInteger, setShownTimeZone, formatPercent, formatTokens, formatUsd, ratio, totalTokens, trimDecimal } from '../src/lib/format.ts';

describe('formatUsd', () => {
  it('rounds exact decimal strings to cents with grouping', () => {
    expect(formatUsd('1234.5678')).toBe('$1,234.57');
    expect(formatUsd('12.3400000000')).toBe('$12.34');
    expect(formatUsd(0.5)).toBe('$0.50');
  });
  it('keeps sub-cent amounts visible instead of $0.00', () => {
    expect(formatUsd('0.0042')).toBe('$0.0042');
    expect(formatUsd('0.005000000000')).toBe('$0.005');
    expect(formatUsd('0.000000001')).toBe('< $0.0001');
  });
  it('shows zero and missing values plainly', () => {
    expect(formatUsd('0')).toBe('$0.00');
    expect(formatUsd('0.000000000000')).toBe('$0.00');
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd('abc')).toBe('—');
  });
});

describe('formatTokens', () => {
  it('is compact above a thousand', () => {
    expect(formatTokens(999)).toBe('999');
    expect(formatTokens(1234)).toBe('1.2K');
    expect(formatTokens(3_400_000)).toBe('3.4M');
    expect(formatTokens(2_500_000_000)).toBe('2.5B');
    expect(formatTokens(0)).toBe('0');
  });
  it('groups full integers', () => {
    expect(formatInteger(1234567)).toBe('1,234,567');
  });
  it('adds every token kind for a total', () => {
    expect(totalTokens({ input_tokens: 1, output_tokens: 2, cache_read_tokens: 3, cache_write_tokens: 4 })).toBe(10);
  });
});

describe('formatPercent and ratio', () => {
  it('shows shares with sensible precision', () => {
    expect(formatPercent(0.1234)).toBe('12%');
    expect(formatPercent(0.05)).toBe('5%');
    expect(formatPercent(0.0525)).toBe('5.3%');
    expect(formatPercent(0.0004)).toBe('< 0.1%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(1)).toBe('100%');
  });
  it('does not divide by zero', () => {
    expect(ratio(3, 0)).toBeNull();
    expect(formatPercent(ratio(3, 0))).toBe('—');
    expect(ratio(1, 4)).toBe(0.25);
  });
});

describe('formatDateTime', () => {
  it('shows an instant in the given time zone', () => {
    expect(formatDateTime('2026-11-25T20:30:00Z', 'Asia/Seoul')).toBe('2026-11-26 05:30');
    expect(formatDateTime('2026-11-25T20:30:00Z', 'UTC')).toBe('2026-11-25 20:30');
    expect(formatDateTime(null)).toBe('—');
  });
  it('uses the server\'s zone, once known, when a call names none', () => {
    setShownTimeZone('Asia/Seoul');
    try {
      expect(formatDateTime('2026-11-25T20:30:00Z')).toBe('2026-11-26 05:30');
      expect(formatDateTime('2026-11-25T20:30:00Z', 'UTC')).toBe('2026-11-25 20:30');
    } finally {
      setShownTimeZone(undefined);
    }
  });
});

describe('trimDecimal', () => {
  it('drops the padding of a stored amount', () => {
    expect(trimDecimal('250.0000')).toBe('250');
    expect(trimDecimal('0.5000')).toBe('0.5');
    expect(trimDecimal('1200')).toBe('1200');
    expect(trimDecimal('0.0000')).toBe('0');
  });
});
