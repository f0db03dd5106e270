import { describe, expect, it } from 'vitest';
import { quantile, sortedSamples, summarise } from '../src/stats.ts';

describe('quantile (nearest rank)', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it('p50 and p99 of 1..100 are 50 and 99', () => {
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.99)).toBe(99);
  });

  it('the extremes are the smallest and the largest sample', () => {
    expect(quantile(hundred, 0)).toBe(1);
    expect(quantile(hundred, 1)).toBe(100);
  });

  it('one sample is every quantile; no sample is NaN', () => {
    expect(quantile([7], 0.5)).toBe(7);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('summarise', () => {
  it('sorts numerically, not as text', () => {
    expect(Array.from(sortedSamples([10, 9, 100, 1.5]))).toEqual([1.5, 9, 10, 100]);
    expect(summarise([10, 9, 100, 1.5])).toEqual({ count: 4, p50: 9, p99: 100, max: 100 });
  });
});
