/**
 * Shipped prices, seeded into `model_prices` at start-up (rows already there are left alone, so an
 * admin's rows and history survive upgrades). USD per million tokens.
 *
 * Source: Anthropic's public list prices, platform.claude.com/docs/en/about-claude/pricing and the
 * per-model overview pages, as read on 2026-11-25:
 * - cache writes cost 1.25× input (5-minute TTL) and 2× input (1 hour); cache reads 0.1× input,
 *   except Opus 5.5, Sonnet 5.5 (since 2026-10-07) and Fable 5.1, whose reads are cheaper, and
 *   Claude 3 Haiku, which has its own published cache prices;
 * - Haiku 5.5 is priced by prompt length: a prompt (input + cache reads + cache writes) over
 *   100,000 tokens pays 5× on every token of that request, output included;
 * - Sonnet 4.5 and Sonnet 4 charge long-context rates (2× input, 1.5× output) when the prompt
 *   exceeds 200,000 tokens (1M-context beta); later models have no such premium.
 *
 * Amazon Bedrock charges Anthropic's list price on the `global.` cross-region profile. From Sonnet
 * 4.5 on, regional endpoints (the `us.`/`eu.`/`apac.`/`jp.`/`au.` profiles and in-region calls)
 * carry a 10% premium; earlier models cost the same everywhere. Rows with region `global` price
 * the global profile; rows with no region price every other Bedrock call. An admin can add rows for
 * one AWS region where AWS's price there differs.
 *
 * Not modelled (documented in the README): fast mode, US-only inference (`inference_geo`), batch,
 * and server-tool fees (web search), which Claude Code through this proxy does not use by default.
 */

import type { PriceRates } from './pricing.ts';
import { formatUsd, normalizeUsd, scaleExact, toPico } from './money.ts';

export interface DefaultPrice {
  provider: 'anthropic' | 'bedrock';
  region: string | null;
  model: string;
  rates: PriceRates;
  longContext: { thresholdTokens: number; rates: PriceRates } | null;
  effectiveFrom: Date;
}

/** Before every model in the table: the shipped prices apply to all recorded history. */
const BASELINE = new Date('2025-01-01T00:00:00Z');

type Row = [input: string, write5m: string, write1h: string, read: string, output: string];

interface ListPrice {
  model: string;
  rates: Row;
  /** Long-context / long-prompt tier: above `threshold` prompt tokens every token costs these. */
  long?: { threshold: number; rates: Row };
  /** Regional Bedrock endpoints cost 10% more than the global profile (Sonnet 4.5 and later). */
  regionalPremium: boolean;
  effectiveFrom?: Date;
}

//                 input    5m write  1h write  cache read  output
const LIST: ListPrice[] = [
  { model: 'claude-fable-5-1', rates: ['10', '12.50', '20', '0.25', '50'], regionalPremium: true },
  { model: 'claude-fable-5', rates: ['10', '12.50', '20', '1', '50'], regionalPremium: true },
  { model: 'claude-opus-5-5', rates: ['4', '5', '8', '0.20', '20'], regionalPremium: true },
  { model: 'claude-opus-5', rates: ['5', '6.25', '10', '0.50', '25'], regionalPremium: true },
  { model: 'claude-opus-4-8', rates: ['5', '6.25', '10', '0.50', '25'], regionalPremium: true },
  { model: 'claude-opus-4-7', rates: ['5', '6.25', '10', '0.50', '25'], regionalPremium: true },
  { model: 'claude-opus-4-6', rates: ['5', '6.25', '10', '0.50', '25'], regionalPremium: true },
  { model: 'claude-opus-4-5', rates: ['5', '6.25', '10', '0.50', '25'], regionalPremium: true },
  { model: 'claude-opus-4-1', rates: ['15', '18.75', '30', '1.50', '75'], regionalPremium: false },
  { model: 'claude-opus-4', rates: ['15', '18.75', '30', '1.50', '75'], regionalPremium: false },
  { model: 'claude-sonnet-5-5', rates: ['2', '2.50', '4', '0.20', '10'], regionalPremium: true },
  // Anthropic halved Sonnet 5.5's cache-read price on 2026-10-07.
  { model: 'claude-sonnet-5-5', rates: ['2', '2.50', '4', '0.10', '10'], regionalPremium: true, effectiveFrom: new Date('2026-10-07T00:00:00Z') },
  { model: 'claude-sonnet-5', rates: ['2', '2.50', '4', '0.20', '10'], regionalPremium: true },
  { model: 'claude-sonnet-4-6', rates: ['3', '3.75', '6', '0.30', '15'], regionalPremium: true },
  {
    model: 'claude-sonnet-4-5',
    rates: ['3', '3.75', '6', '0.30', '15'],
    long: { threshold: 200_000, rates: ['6', '7.50', '12', '0.60', '22.50'] },
    regionalPremium: true,
  },
  {
    model: 'claude-sonnet-4',
    rates: ['3', '3.75', '6', '0.30', '15'],
    long: { threshold: 200_000, rates: ['6', '7.50', '12', '0.60', '22.50'] },
    regionalPremium: false,
  },
  { model: 'claude-3-7-sonnet', rates: ['3', '3.75', '6', '0.30', '15'], regionalPremium: false },
  {
    model: 'claude-haiku-5-5',
    rates: ['0.10', '0.125', '0.20', '0.01', '0.50'],
    long: { threshold: 100_000, rates: ['0.50', '0.625', '1', '0.05', '2.50'] },
    regionalPremium: true,
  },
  { model: 'claude-haiku-4-5', rates: ['1', '1.25', '2', '0.10', '5'], regionalPremium: true },
  { model: 'claude-3-5-haiku', rates: ['0.80', '1', '1.60', '0.08', '4'], regionalPremium: false },
  { model: 'claude-3-haiku', rates: ['0.25', '0.30', '0.50', '0.03', '1.25'], regionalPremium: false },
];

// Canonical decimal strings ("4.00"), as prices read back from the database look.
const rates = ([input, cacheWrite5m, cacheWrite1h, cacheRead, output]: Row): PriceRates => ({
  input: normalizeUsd(input),
  output: normalizeUsd(output),
  cacheWrite5m: normalizeUsd(cacheWrite5m),
  cacheWrite1h: normalizeUsd(cacheWrite1h),
  cacheRead: normalizeUsd(cacheRead),
});

/** +10%, exactly (every list price has few enough decimals for that). */
const regional = (r: PriceRates): PriceRates => {
  const up = (usd: string) => formatUsd(scaleExact(toPico(usd), 11n, 10n));
  return { input: up(r.input), output: up(r.output), cacheWrite5m: up(r.cacheWrite5m), cacheWrite1h: up(r.cacheWrite1h), cacheRead: up(r.cacheRead) };
};

function build(): DefaultPrice[] {
  const out: DefaultPrice[] = [];
  for (const p of LIST) {
    const base = {
      model: p.model,
      effectiveFrom: p.effectiveFrom ?? BASELINE,
    };
    const list = { rates: rates(p.rates), longContext: p.long ? { thresholdTokens: p.long.threshold, rates: rates(p.long.rates) } : null };
    out.push({ provider: 'anthropic', region: null, ...base, ...list });
    if (p.regionalPremium) {
      out.push({ provider: 'bedrock', region: 'global', ...base, ...list });
      out.push({
        provider: 'bedrock',
        region: null,
        ...base,
        rates: regional(list.rates),
        longContext: list.longContext ? { thresholdTokens: list.longContext.thresholdTokens, rates: regional(list.longContext.rates) } : null,
      });
    } else {
      out.push({ provider: 'bedrock', region: null, ...base, ...list });
    }
  }
  return out;
}

export const DEFAULT_PRICES: readonly DefaultPrice[] = build();
