// How numbers look on the dashboard. Money arrives as exact decimal strings ("12.3400000000");
// it is shown rounded, with sub-cent amounts kept visible rather than shown as $0.00.

import { wallTime } from './time-zone.ts';

const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatUsd(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return '—';
  if (n === 0) return '$0.00';
  const abs = Math.abs(n);
  if (abs < 0.0001) return n < 0 ? '> -$0.0001' : '< $0.0001';
  if (abs < 0.01) return `${n < 0 ? '-' : ''}$${abs.toFixed(4).replace(/0+$/, '')}`;
  return usd2.format(n);
}

/** 1234 → "1.2K", 3_400_000 → "3.4M"; below a thousand, the number itself. */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return Math.abs(n) < 1000 ? integer.format(n) : compact.format(n);
}

/** 1234567 → "1,234,567". */
export function formatInteger(n: number): string {
  return integer.format(n);
}

/** A ratio (0.123) as "12.3%"; "—" when there is nothing to divide. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  if (pct > 0 && pct < 0.1) return '< 0.1%';
  return `${pct.toFixed(pct >= 10 || Number.isInteger(pct) ? 0 : 1)}%`;
}

/** Safe division for shares and rates: null when the whole is zero. */
export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

let shownTimeZone: string | undefined;
/**
 * The zone instants are shown in when a call names none: the server's TIMEZONE, which the app
 * learns before it shows a page (App.tsx), so every page shows one zone, as the reports do.
 */
export function setShownTimeZone(timeZone: string | undefined): void {
  shownTimeZone = timeZone;
}
export function getShownTimeZone(): string | undefined {
  return shownTimeZone;
}

/** An instant as "2026-11-25 13:04" in the given time zone (else the shown zone, else the viewer's). */
export function formatDateTime(iso: string | null | undefined, timeZone: string | undefined = shownTimeZone): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : wallTime(ms, timeZone, ' ');
}

/** Every token kind counted together (what "tokens" means on the cards' total). */
export function totalTokens(t: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number }): number {
  return t.input_tokens + t.output_tokens + t.cache_read_tokens + t.cache_write_tokens;
}

/** A stored decimal without its padding, for an input field: "250.0000" → "250", "0.5000" → "0.5". */
export function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}
