import type { TokenUsage } from '../../../src/anthropic/usage.ts';
import { DEFAULT_PRICES } from '../../../src/accounting/default-prices.ts';
import { createPriceBook, type ModelPrice, type PriceBook } from '../../../src/accounting/pricing.ts';

/** The shipped price table as the app loads it (ids as the database would give them). */
export const shippedBook = (): PriceBook => createPriceBook(DEFAULT_PRICES.map((p, i): ModelPrice => ({ ...p, id: String(i + 1) })));

export const usage = (u: Partial<TokenUsage> = {}): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  ...u,
});

/** A completed request's usage event (shared with the integration tests). */
export { usageEvent } from '../../support/usage-events.ts';
