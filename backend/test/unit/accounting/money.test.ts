import { describe, expect, it } from 'vitest';
import { formatUsd, formatUsdCents, MoneyError, normalizeUsd, parseUsdInput, scaleExact, sumUsd, toPico } from '../../../src/accounting/money.ts';

describe('exact USD arithmetic', () => {
  it.each([
    ['0', 0n, '0.00'],
    ['12.5', 12_500_000_000_000n, '12.50'],
    ['0.0000125', 12_500_000n, '0.0000125'],
    ['0.000000000001', 1n, '0.000000000001'],
    ['3.000000', 3_000_000_000_000n, '3.00'],
    ['-2.25', -2_250_000_000_000n, '-2.25'],
  ])('reads "%s" as %s pico-dollars and writes it back as "%s"', (text, pico, formatted) => {
    expect(toPico(text)).toBe(pico);
    expect(formatUsd(pico)).toBe(formatted);
    expect(normalizeUsd(text)).toBe(formatted);
  });

  it('refuses what is not a plain decimal, or has more decimals than allowed, instead of rounding', () => {
    for (const bad of ['', 'abc', '1e-7', '1.2.3', '$5']) expect(() => toPico(bad)).toThrow(MoneyError);
    expect(() => toPico('0.0000001', 6)).toThrow('more than 6 decimals');
    expect(toPico('0.1000000', 6)).toBe(100_000_000_000n); // padding zeros are not precision
  });

  it('sums decimal strings without a float in sight (0.1 + 0.2 is 0.3)', () => {
    expect(sumUsd(['0.1', '0.2'])).toBe('0.30');
    expect(sumUsd(Array.from({ length: 1000 }, () => '0.000001'))).toBe('0.001');
  });

  it('parses admin input: strings or JSON numbers, never negative, within the allowed decimals', () => {
    expect(parseUsdInput('250', 4)).toBe('250.00');
    expect(parseUsdInput(99.5, 4)).toBe('99.50');
    expect(parseUsdInput(' 0.125 ', 6)).toBe('0.125');
    expect(() => parseUsdInput('-1', 4)).toThrow(MoneyError);
    expect(() => parseUsdInput(1e-7, 6)).toThrow(MoneyError);
    expect(() => parseUsdInput('0.12345', 4)).toThrow('more than 4 decimals');
  });

  it('scales by a fixed ratio only when the result is exact', () => {
    expect(formatUsd(scaleExact(toPico('0.125'), 11n, 10n))).toBe('0.1375');
    expect(() => scaleExact(1n, 11n, 10n)).toThrow(MoneyError);
  });

  it('rounds to cents (half up) only for messages people read', () => {
    expect(formatUsdCents(toPico('9.995'))).toBe('10.00');
    expect(formatUsdCents(toPico('9.99499'))).toBe('9.99');
    expect(formatUsdCents(0n)).toBe('0.00');
  });
});
