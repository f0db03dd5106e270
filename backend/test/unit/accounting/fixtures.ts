import type { TokenUsage } from '../../../src/accounting/usage.ts';
import type { UsageEvent } from '../../../src/accounting/usage-event.ts';
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

let n = 0;
/** A completed request's usage event; override what the test is about. */
export function usageEvent(over: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: `req_unit_${++n}`,
    occurredAt: new Date('2026-11-25T03:00:00Z'),
    userId: '00000000-0000-4000-8000-000000000001',
    accessKeyId: '00000000-0000-4000-8000-0000000000a1',
    endpoint: 'messages',
    provider: 'plan',
    isFallback: false,
    fallbackReason: null,
    requestedModel: 'claude-opus-5-5',
    servedModel: 'claude-opus-5-5',
    stream: true,
    statusCode: 200,
    outcome: 'completed',
    errorType: null,
    stopReason: 'end_turn',
    ...usage(),
    latencyMs: 100,
    ttfbMs: 10,
    upstreamRequestId: null,
    region: null,
    budgetReservationId: null,
    ...over,
  };
}
