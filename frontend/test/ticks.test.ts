import { describe, expect, it } from 'vitest';
import { maxOf, niceStep, niceTicks } from '../src/lib/ticks.ts';

describe('niceTicks', () => {
  it('steps money in round amounts (issue #17: not $0.04 / $0.07 / $0.11)', () => {
    expect(niceTicks(0.11)).toEqual([0, 0.05, 0.1, 0.15]);
    expect(niceTicks(0.009)).toEqual([0, 0.0025, 0.005, 0.0075, 0.01]);
    expect(niceTicks(1234.5)).toEqual([0, 500, 1000, 1500]);
  });
  it('ends at or just above the largest value', () => {
    expect(niceTicks(100)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(101)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(0.2).at(-1)).toBe(0.2);
  });
  it('keeps counts whole', () => {
    expect(niceTicks(3, { integers: true })).toEqual([0, 1, 2, 3]);
    expect(niceTicks(11, { integers: true })).toEqual([0, 5, 10, 15]);
    expect(niceTicks(2_000, { integers: true })).toEqual([0, 500, 1000, 1500, 2000]);
  });
  it('draws an empty axis from 0 to 1 when there is nothing to show', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });
  it('has no floating-point noise in the ticks', () => {
    for (const tick of niceTicks(0.7, { count: 7 })) expect(String(tick)).not.toMatch(/0000|9999/);
  });
});

describe('niceStep', () => {
  it('picks 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceStep(0.11)).toBe(0.05);
    expect(niceStep(8)).toBe(2);
    expect(niceStep(9)).toBe(2.5);
    expect(niceStep(40)).toBe(10);
  });
});

describe('maxOf', () => {
  it('is the largest value, or 0 for no rows', () => {
    expect(maxOf([{ a: 1, b: 2 }, { a: 4, b: 1 }], (r) => r.a + r.b)).toBe(5);
    expect(maxOf([], () => 1)).toBe(0);
  });
});
