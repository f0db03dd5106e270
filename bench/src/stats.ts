/** Percentiles and the per-target summary of one scenario: pure, so it is unit-tested. */

/**
 * The q-quantile (0 ≤ q ≤ 1) of `sorted` (ascending) by the nearest-rank method: the smallest
 * value with at least q of the samples at or below it. NaN for no samples.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.ceil(q * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!;
}

/** A sorted copy as a Float64Array (numeric sort, unlike Array.prototype.sort's default). */
export function sortedSamples(samples: ArrayLike<number>): Float64Array {
  return Float64Array.from(samples).sort();
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarise(samples: ArrayLike<number>): LatencySummary {
  const sorted = sortedSamples(samples);
  return { count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}
