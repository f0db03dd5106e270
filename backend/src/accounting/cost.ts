/**
 * What a request cost: its own token counts × the price row in effect, each of the five parts
 * exact (money.ts), with a snapshot of the price so a later price change never alters it. Pure.
 */

import type { TokenUsage } from '../anthropic/usage.ts';
import type { UsageEvent } from './usage-event.ts';
import { formatUsd, toPico, PRICE_SCALE } from './money.ts';
import type { ModelPrice, PriceBook, PriceRates } from './pricing.ts';

/**
 * The price a cost was computed with, stored as JSON beside it (usage_events.price_snapshot).
 * `pricing: 'anthropic_api'` marks Plan traffic: paid by the subscription, priced at what the
 * same tokens would have cost on Anthropic's API, so a company sees what the plan saved.
 */
export interface PriceSnapshot {
  pricing: 'anthropic_api' | 'bedrock';
  price_id: string;
  provider: 'anthropic' | 'bedrock';
  region: string | null;
  model: string;
  effective_from: string;
  tier: 'standard' | 'long_context';
  usd_per_mtok: { input: string; output: string; cache_write_5m: string; cache_write_1h: string; cache_read: string };
}

/** USD decimal strings. */
export interface CostParts {
  input: string;
  output: string;
  cacheRead: string;
  cacheWrite5m: string;
  cacheWrite1h: string;
}

export interface EventCost {
  totalUsd: string;
  parts: CostParts;
  /** Null only for a request with no tokens and no known price: it cost nothing either way. */
  snapshot: PriceSnapshot | null;
}

/** Prompt tokens as the long-context tiers count them: everything the model read. */
export const promptTokens = (u: TokenUsage): number => u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens;

function tierOf(price: ModelPrice, prompt: number): { tier: PriceSnapshot['tier']; rates: PriceRates } {
  const long = price.longContext;
  return long && prompt > long.thresholdTokens ? { tier: 'long_context', rates: long.rates } : { tier: 'standard', rates: price.rates };
}

/** Pico-dollars per token of each rate (USD per million tokens / 1e6: exact, prices have at most 6 decimals). */
interface PerToken {
  input: bigint;
  output: bigint;
  cacheWrite5m: bigint;
  cacheWrite1h: bigint;
  cacheRead: bigint;
}

// Rates are parsed once per price row, not once per request (price books are rebuilt on refresh).
const perTokenCache = new WeakMap<PriceRates, PerToken>();
function perToken(rates: PriceRates): PerToken {
  let p = perTokenCache.get(rates);
  if (!p) {
    const per = (usdPerMtok: string) => toPico(usdPerMtok, PRICE_SCALE) / 1_000_000n;
    p = { input: per(rates.input), output: per(rates.output), cacheWrite5m: per(rates.cacheWrite5m), cacheWrite1h: per(rates.cacheWrite1h), cacheRead: per(rates.cacheRead) };
    perTokenCache.set(rates, p);
  }
  return p;
}

/** The cost of `usage` at `price`, with the snapshot to store beside it. */
export function costOf(usage: TokenUsage, price: ModelPrice, pricing: PriceSnapshot['pricing']): EventCost {
  const { tier, rates } = tierOf(price, promptTokens(usage));
  const per = perToken(rates);
  const pico = {
    input: BigInt(usage.inputTokens) * per.input,
    output: BigInt(usage.outputTokens) * per.output,
    cacheRead: BigInt(usage.cacheReadTokens) * per.cacheRead,
    cacheWrite5m: BigInt(usage.cacheWrite5mTokens) * per.cacheWrite5m,
    cacheWrite1h: BigInt(usage.cacheWrite1hTokens) * per.cacheWrite1h,
  };
  return {
    totalUsd: formatUsd(pico.input + pico.output + pico.cacheRead + pico.cacheWrite5m + pico.cacheWrite1h),
    parts: {
      input: formatUsd(pico.input),
      output: formatUsd(pico.output),
      cacheRead: formatUsd(pico.cacheRead),
      cacheWrite5m: formatUsd(pico.cacheWrite5m),
      cacheWrite1h: formatUsd(pico.cacheWrite1h),
    },
    snapshot: {
      pricing,
      price_id: price.id,
      provider: price.provider,
      region: price.region,
      model: price.model,
      effective_from: price.effectiveFrom.toISOString(),
      tier,
      usd_per_mtok: { input: rates.input, output: rates.output, cache_write_5m: rates.cacheWrite5m, cache_write_1h: rates.cacheWrite1h, cache_read: rates.cacheRead },
    },
  };
}

const ZERO = formatUsd(0n);
const FREE: EventCost = {
  totalUsd: ZERO,
  parts: { input: ZERO, output: ZERO, cacheRead: ZERO, cacheWrite5m: ZERO, cacheWrite1h: ZERO },
  snapshot: null,
};

export const hasTokens = (u: TokenUsage): boolean => u.outputTokens > 0 || promptTokens(u) > 0;

/**
 * The cost of one usage event: Plan at Anthropic's API prices, Bedrock at the price for the
 * served model and the region it ran in. Null when tokens were used but no price is known: the
 * cost is unknown, which is not the same as $0.
 */
export function costEvent(book: PriceBook, event: UsageEvent): EventCost | null {
  const model = event.servedModel ?? event.requestedModel;
  const price = model
    ? book.find({ provider: event.provider === 'plan' ? 'anthropic' : 'bedrock', model, region: event.region ?? null, at: event.occurredAt })
    : null;
  if (price) return costOf(event, price, event.provider === 'plan' ? 'anthropic_api' : 'bedrock');
  return hasTokens(event) ? null : FREE;
}

/**
 * The most a request can cost, for a budget reservation made before it is sent. `promptTokensBound`
 * is an upper bound on what the model will read (the request body's size in bytes: no token is
 * shorter than one byte), each token priced at the dearest input-side rate (a 1-hour cache write
 * usually), plus `maxTokens` of output; the long-context tier applies when the bound crosses it.
 */
export function worstCaseCost(price: ModelPrice, request: { promptTokensBound: number; maxTokens: number }): bigint {
  const per = perToken(tierOf(price, request.promptTokensBound).rates);
  const inputSide = [per.input, per.cacheWrite5m, per.cacheWrite1h, per.cacheRead].reduce((a, b) => (a > b ? a : b));
  return BigInt(request.promptTokensBound) * inputSide + BigInt(request.maxTokens) * per.output;
}

/**
 * A usage event with its cost, as the recorder queues, spills and stores it. Null: tokens were
 * used but no price was known; absent: never priced (both store a null cost).
 */
export type PricedUsageEvent = UsageEvent & { cost?: EventCost | null };
