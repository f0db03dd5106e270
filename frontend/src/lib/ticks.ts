// Axis ticks people can read: steps of 1, 2, 2.5 or 5 times a power of ten from zero (0, 0.05,
// 0.10, 0.15 rather than the chart library's $0.04, $0.07, $0.11).

const STEPS = [1, 2, 2.5, 5, 10];

/** The smallest round step that covers `max` in at most `count` intervals. */
export function niceStep(max: number, count = 4): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = STEPS.find((s) => s * power >= raw * (1 - 1e-9)) ?? 10;
  return step * power;
}

/**
 * Ticks from 0 up to the first multiple of a round step at or above `max` (the axis' domain is
 * [0, last tick]). `integers` keeps steps whole (token and request counts).
 */
export function niceTicks(max: number, options: { count?: number; integers?: boolean } = {}): number[] {
  const { count = 4, integers = false } = options;
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  let step = niceStep(max, count);
  if (integers) step = Math.max(1, Math.ceil(step));
  // Decimals of the step, so 3 × 0.05 is 0.15 and not 0.15000000000000002.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const ticks: number[] = [];
  for (let i = 0; ticks.length === 0 || ticks.at(-1)! < max * (1 - 1e-9); i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** The largest value a chart shows (stacked series summed per row), for its ticks. */
export function maxOf<T>(rows: T[], value: (row: T) => number): number {
  return rows.reduce((m, r) => Math.max(m, value(r)), 0);
}
