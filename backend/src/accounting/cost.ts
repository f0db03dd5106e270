/**
 * What a request cost: its own token counts × the price row in effect, each of the five parts
 * exact (money.ts), with a snapshot of the price so a later price change never alters it. Pure.
 */

import type { TokenUsage } from './usage.ts';
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

/** tokens × USD per million tokens, in pico-dollars: exact, since prices have at most 6 decimals. */
const partCost = (tokens: number, usdPerMtok: string): bigint => BigInt(tokens) * (toPico(usdPerMtok, PRICE_SCALE) / 1_000_000n);

/** The cost of `usage` at `price`, with the snapshot to store beside it. */
export function costOf(usage: TokenUsage, price: ModelPrice, pricing: PriceSnapshot['pricing']): EventCost {
  const { tier, rates } = tierOf(price, promptTokens(usage));
  const pico = {
    input: partCost(usage.inputTokens, rates.input),
    output: partCost(usage.outputTokens, rates.output),
    cacheRead: partCost(usage.cacheReadTokens, rates.cacheRead),
    cacheWrite5m: partCost(usage.cacheWrite5mTokens, rates.cacheWrite5m),
    cacheWrite1h: partCost(usage.cacheWrite1hTokens, rates.cacheWrite1h),
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
  const { rates } = tierOf(price, request.promptTokensBound);
  const inputSide = [rates.input, rates.cacheWrite5m, rates.cacheWrite1h, rates.cacheRead]
    .map((r) => toPico(r, PRICE_SCALE))
    .reduce((a, b) => (a > b ? a : b));
  return BigInt(request.promptTokensBound) * (inputSide / 1_000_000n) + partCost(request.maxTokens, rates.output);
}

/**
 * A usage event with its cost, as the recorder queues, spills and stores it. Null: tokens were
 * used but no price was known; absent: never priced (both store a null cost).
 */
export type PricedUsageEvent = UsageEvent & { cost?: EventCost | null };
