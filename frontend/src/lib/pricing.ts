import type { Price, PriceRates } from './types.ts';

export const RATE_FIELDS: { key: keyof PriceRates; label: string }[] = [
  { key: 'input_usd_per_mtok', label: 'Input' },
  { key: 'output_usd_per_mtok', label: 'Output' },
  { key: 'cache_write_5m_usd_per_mtok', label: 'Cache write 5 min' },
  { key: 'cache_write_1h_usd_per_mtok', label: 'Cache write 1 h' },
  { key: 'cache_read_usd_per_mtok', label: 'Cache read' },
];

export type PriceState = 'in effect' | 'scheduled' | 'superseded';

/** Whether a row applies now, will apply from its date, or was replaced by a later row. */
export function priceState(price: Pick<Price, 'in_effect' | 'effective_from'>, now: Date = new Date()): PriceState {
  if (price.in_effect) return 'in effect';
  return new Date(price.effective_from).getTime() > now.getTime() ? 'scheduled' : 'superseded';
}

/** A rate as shown: "$3" or "$0.30" per million tokens (the stored value, trailing zeros trimmed to cents). */
export function formatRate(value: string): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return value;
  const [whole, frac = ''] = value.split('.');
  const trimmed = frac.replace(/0+$/, '');
  return `$${whole}${trimmed ? `.${trimmed.length === 1 ? `${trimmed}0` : trimmed}` : ''}`;
}
