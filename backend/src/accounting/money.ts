/**
 * Exact USD arithmetic. Money is PostgreSQL `numeric` carried as a decimal string; in between it is
 * a bigint count of pico-dollars (1e-12 USD), so sums and products never meet a float.
 *
 * Why 12 decimals: prices have at most 6 (USD per million tokens, e.g. "0.1375"), and a cost is
 * tokens × price / 1e6, which needs at most 6 + 6. Every cost the proxy computes is therefore exact
 * at this scale, and so is any sum of them.
 */

export const USD_SCALE = 12;
/** Prices per million tokens carry at most this many decimals. */
export const PRICE_SCALE = 6;

const UNIT = 10n ** BigInt(USD_SCALE);
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export class MoneyError extends Error {
  override name = 'MoneyError';
}

/**
 * "12.5" → 12_500_000_000_000n pico-dollars. Throws on anything that is not a plain decimal, or
 * that has more than `maxDecimals` decimals (rounding money silently is how totals drift).
 */
export function toPico(value: string, maxDecimals = USD_SCALE): bigint {
  const match = DECIMAL.exec(value.trim());
  if (!match) throw new MoneyError(`not a decimal amount: "${value}"`);
  const [, minus, whole, rawFraction = ''] = match;
  // PostgreSQL pads numeric output with zeros to the column's scale; those are not precision.
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > maxDecimals) throw new MoneyError(`"${value}" has more than ${maxDecimals} decimals`);
  const pico = BigInt(whole!) * UNIT + BigInt(fraction.padEnd(USD_SCALE, '0') || '0');
  return minus ? -pico : pico;
}

/** Pico-dollars → "12.50", "0.0000125", "-3.00": exact, trailing zeros trimmed down to cents. */
export function formatUsd(pico: bigint): string {
  const negative = pico < 0n;
  const abs = negative ? -pico : pico;
  const whole = abs / UNIT;
  let fraction = (abs % UNIT).toString().padStart(USD_SCALE, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** A decimal string as it comes from PostgreSQL (or null) → the canonical form above. */
export function normalizeUsd(value: string | null | undefined): string {
  return formatUsd(value == null ? 0n : toPico(value));
}

export function sumUsd(values: Iterable<string>): string {
  let total = 0n;
  for (const v of values) total += toPico(v);
  return formatUsd(total);
}

/**
 * A USD amount an admin typed (budget, price): a non-negative decimal string or a JSON number, at
 * most `maxDecimals` decimals. Returns the canonical string, or throws MoneyError saying what is wrong.
 */
export function parseUsdInput(value: string | number, maxDecimals: number): string {
  // A JSON number prints exactly as typed (99.5); exponent forms like 1e-7 fail the pattern.
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^\d{1,12}(\.\d+)?$/.test(text)) throw new MoneyError('must be a non-negative amount in USD, e.g. "12.50"');
  return formatUsd(toPico(text, maxDecimals));
}

/** `pico × numerator / denominator`, exact or throwing (used for fixed multipliers like 1.1). */
export function scaleExact(pico: bigint, numerator: bigint, denominator: bigint): bigint {
  const product = pico * numerator;
  if (product % denominator !== 0n) throw new MoneyError(`${formatUsd(pico)} × ${numerator}/${denominator} is not exact`);
  return product / denominator;
}

/** For messages people read: "1234.57", rounded half up to cents. */
export function formatUsdCents(pico: bigint): string {
  const cent = UNIT / 100n;
  const negative = pico < 0n;
  const abs = negative ? -pico : pico;
  const cents = (abs + cent / 2n) / cent;
  return `${negative ? '-' : ''}${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}
