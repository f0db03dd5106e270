import { describe, expect, it } from 'vitest';
import { costEvent, costOf, worstCaseCost } from '../../../src/accounting/cost.ts';
import { formatUsd, toPico } from '../../../src/accounting/money.ts';
import { createPriceBook, type ModelPrice } from '../../../src/accounting/pricing.ts';
import { shippedBook, usage, usageEvent } from './fixtures.ts';

// Golden costs, worked by hand from the list prices (USD per million tokens) in
// src/accounting/default-prices.ts: each part is tokens × price / 1,000,000, exact.

const book = shippedBook();
const parts = (cost: ReturnType<typeof costEvent>) => cost && { total: cost.totalUsd, ...cost.parts };

describe('golden costs (to the micro-dollar and below)', () => {
  it('Plan, Opus 5.5, cache reads and both cache writes: priced at Anthropic API rates and marked so', () => {
    // input 9 × $4 = $0.000036; output 40 × $20 = $0.0008; read 5,400 × $0.20 = $0.00108;
    // 5m write 1,200 × $5 = $0.006; 1h write 300 × $8 = $0.0024; total $0.010316
    const cost = costEvent(book, usageEvent({ provider: 'plan', servedModel: 'claude-opus-5-5', ...usage({ inputTokens: 9, outputTokens: 40, cacheReadTokens: 5400, cacheWrite5mTokens: 1200, cacheWrite1hTokens: 300 }) }));
    expect(parts(cost)).toEqual({ total: '0.010316', input: '0.000036', output: '0.0008', cacheRead: '0.00108', cacheWrite5m: '0.006', cacheWrite1h: '0.0024' });
    expect(cost?.snapshot).toMatchObject({
      pricing: 'anthropic_api',
      provider: 'anthropic',
      region: null,
      model: 'claude-opus-5-5',
      tier: 'standard',
      usd_per_mtok: { input: '4.00', output: '20.00', cache_write_5m: '5.00', cache_write_1h: '8.00', cache_read: '0.20' },
    });
  });

  it('Plan, Haiku 4.5, no cache at all', () => {
    // 1,000 × $1 = $0.001; 500 × $5 = $0.0025
    const cost = costEvent(book, usageEvent({ servedModel: 'claude-haiku-4-5-20251001', ...usage({ inputTokens: 1000, outputTokens: 500 }) }));
    expect(parts(cost)).toEqual({ total: '0.0035', input: '0.001', output: '0.0025', cacheRead: '0.00', cacheWrite5m: '0.00', cacheWrite1h: '0.00' });
  });

  const sonnetUsage = usage({ inputTokens: 1234, outputTokens: 567, cacheReadTokens: 89_012, cacheWrite5mTokens: 3456 });

  it('Bedrock regional profile (us. from us-east-1): Sonnet 4.5 at the 10% regional premium', () => {
    // $3.30 / $16.50 / read $0.33 / 5m $4.125: 1,234 × 3.3 = $0.0040722; 567 × 16.5 = $0.0093555;
    // 89,012 × 0.33 = $0.02937396; 3,456 × 4.125 = $0.014256; total $0.05705766
    const cost = costEvent(book, usageEvent({ provider: 'bedrock', region: 'us-east-1', servedModel: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', ...sonnetUsage }));
    expect(parts(cost)).toEqual({ total: '0.05705766', input: '0.0040722', output: '0.0093555', cacheRead: '0.02937396', cacheWrite5m: '0.014256', cacheWrite1h: '0.00' });
    expect(cost?.snapshot).toMatchObject({ pricing: 'bedrock', provider: 'bedrock', region: null, model: 'claude-sonnet-4-5' });
  });

  it('Bedrock global profile: the same usage at list price', () => {
    // 1,234 × 3 = $0.003702; 567 × 15 = $0.008505; 89,012 × 0.3 = $0.0267036; 3,456 × 3.75 = $0.01296
    const cost = costEvent(book, usageEvent({ provider: 'bedrock', region: 'ap-northeast-2', servedModel: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', ...sonnetUsage }));
    expect(parts(cost)).toEqual({ total: '0.0518706', input: '0.003702', output: '0.008505', cacheRead: '0.0267036', cacheWrite5m: '0.01296', cacheWrite1h: '0.00' });
    expect(cost?.snapshot?.region).toBe('global');
  });

  it('Bedrock, Opus 5.5 with 1-hour cache writes: the 1h rate, not the 5m one', () => {
    // regional $4.40 input, $8.80 1h write, $0.22 read, $22 output:
    // 10 × 4.4 = $0.000044; 20,000 × 8.8 = $0.176; 100 × 0.22 = $0.000022; 800 × 22 = $0.0176
    const cost = costEvent(book, usageEvent({ provider: 'bedrock', region: 'us-west-2', servedModel: 'us.anthropic.claude-opus-5-5', ...usage({ inputTokens: 10, outputTokens: 800, cacheReadTokens: 100, cacheWrite1hTokens: 20_000 }) }));
    expect(parts(cost)).toEqual({ total: '0.193666', input: '0.000044', output: '0.0176', cacheRead: '0.000022', cacheWrite5m: '0.00', cacheWrite1h: '0.176' });
  });

  it('long context: a Sonnet 4.5 prompt over 200k tokens pays the long rates on every token', () => {
    // prompt 150,000 + 60,000 + 10,000 = 220,000 > 200,000: $6 / $22.50 / read $0.60 / 1h $12
    // 150,000 × 6 = $0.9; 2,000 × 22.5 = $0.045; 60,000 × 0.6 = $0.036; 10,000 × 12 = $0.12
    const cost = costEvent(book, usageEvent({ servedModel: 'claude-sonnet-4-5', ...usage({ inputTokens: 150_000, outputTokens: 2000, cacheReadTokens: 60_000, cacheWrite1hTokens: 10_000 }) }));
    expect(parts(cost)).toEqual({ total: '1.101', input: '0.90', output: '0.045', cacheRead: '0.036', cacheWrite5m: '0.00', cacheWrite1h: '0.12' });
    expect(cost?.snapshot?.tier).toBe('long_context');
  });

  it('Haiku 5.5 prompt tiers: exactly 100,000 prompt tokens is the low tier, one more is the high one', () => {
    const at100k = costEvent(book, usageEvent({ servedModel: 'claude-haiku-5-5', ...usage({ inputTokens: 40_000, cacheReadTokens: 60_000, outputTokens: 1000 }) }));
    // 40,000 × 0.10 = $0.004; 60,000 × 0.01 = $0.0006; 1,000 × 0.50 = $0.0005
    expect(parts(at100k)).toEqual({ total: '0.0051', input: '0.004', output: '0.0005', cacheRead: '0.0006', cacheWrite5m: '0.00', cacheWrite1h: '0.00' });
    const over = costEvent(book, usageEvent({ servedModel: 'claude-haiku-5-5', ...usage({ inputTokens: 40_001, cacheReadTokens: 60_000, outputTokens: 1000 }) }));
    // 40,001 × 0.50 = $0.0200005; 60,000 × 0.05 = $0.003; 1,000 × 2.50 = $0.0025
    expect(parts(over)).toEqual({ total: '0.0255005', input: '0.0200005', output: '0.0025', cacheRead: '0.003', cacheWrite5m: '0.00', cacheWrite1h: '0.00' });
  });

  it('prices by when the request happened: Sonnet 5.5 cache reads before and after the 2026-10-07 cut', () => {
    const read = (at: string) => costEvent(book, usageEvent({ servedModel: 'claude-sonnet-5-5', occurredAt: new Date(at), ...usage({ cacheReadTokens: 1_000_000 }) }))?.totalUsd;
    expect(read('2026-10-06T23:59:59Z')).toBe('0.20');
    expect(read('2026-10-07T00:00:00Z')).toBe('0.10');
  });

  it('a price added after the fact does not change a cost already computed (the snapshot is the record)', () => {
    const event = usageEvent({ servedModel: 'claude-opus-5-5', ...usage({ inputTokens: 1_000_000 }) });
    const before = costEvent(book, event);
    const repriced = createPriceBook([
      ...book.rows,
      { ...book.rows.find((r) => r.model === 'claude-opus-5-5' && r.provider === 'anthropic')!, id: 'new', rates: { input: '1', output: '1', cacheWrite5m: '1', cacheWrite1h: '1', cacheRead: '1' }, effectiveFrom: new Date('2026-11-26T00:00:00Z') },
    ]);
    expect(before?.totalUsd).toBe('4.00');
    expect(costEvent(repriced, event)?.totalUsd).toBe('4.00'); // the new row starts after the request
    expect(costEvent(repriced, { ...event, occurredAt: new Date('2026-11-26T00:00:00Z') })?.totalUsd).toBe('1.00');
  });

  it('a model with no price: null (unknown), never $0 — unless it used no tokens at all', () => {
    expect(costEvent(book, usageEvent({ servedModel: 'claude-unknown-9', ...usage({ inputTokens: 5, outputTokens: 1 }) }))).toBeNull();
    expect(costEvent(book, usageEvent({ provider: 'bedrock', servedModel: 'arn:aws:bedrock:us-east-1:1:application-inference-profile/zz', ...usage({ outputTokens: 1 }) }))).toBeNull();
    const free = costEvent(book, usageEvent({ servedModel: null, requestedModel: 'claude-unknown-9', statusCode: 400, outcome: 'upstream_error' }));
    expect(free).toEqual({ totalUsd: '0.00', parts: { input: '0.00', output: '0.00', cacheRead: '0.00', cacheWrite5m: '0.00', cacheWrite1h: '0.00' }, snapshot: null });
  });

  it('costOf is exact for any token count: a billion output tokens of Fable 5.1', () => {
    const fable = book.find({ provider: 'anthropic', model: 'claude-fable-5-1', region: null, at: new Date() }) as ModelPrice;
    expect(costOf(usage({ outputTokens: 1_000_000_000 }), fable, 'anthropic_api').totalUsd).toBe('50000.00');
  });
});

describe('worst-case cost of a request (budget reservations)', () => {
  const opusRegional = book.find({ provider: 'bedrock', model: 'us.anthropic.claude-opus-5-5', region: 'us-east-1', at: new Date() }) as ModelPrice;

  it('bounds the prompt by the body size at the dearest input-side rate, plus max_tokens of output', () => {
    // 10,000 bytes × $8.80 (1h write, regional) = $0.088; 4,096 × $22 = $0.090112
    expect(formatUsd(worstCaseCost(opusRegional, { promptTokensBound: 10_000, maxTokens: 4096 }))).toBe('0.178112');
  });

  it('uses the long-context tier when the bound crosses its threshold', () => {
    const sonnet = book.find({ provider: 'anthropic', model: 'claude-sonnet-4-5', region: null, at: new Date() }) as ModelPrice;
    // 300,000 × $12 (long 1h write) = $3.60; 1,000 × $22.50 = $0.0225
    expect(formatUsd(worstCaseCost(sonnet, { promptTokensBound: 300_000, maxTokens: 1000 }))).toBe('3.6225');
  });

  it('is never below the real cost of a request that fits the bound', () => {
    const bound = worstCaseCost(opusRegional, { promptTokensBound: 50_000, maxTokens: 2000 });
    for (const u of [
      usage({ inputTokens: 50_000, outputTokens: 2000 }),
      usage({ cacheWrite1hTokens: 50_000, outputTokens: 2000 }),
      usage({ cacheReadTokens: 30_000, cacheWrite5mTokens: 20_000, outputTokens: 2000 }),
    ]) {
      const real = costOf(u, opusRegional, 'bedrock').totalUsd;
      expect(toPico(real)).toBeLessThanOrEqual(bound);
    }
  });
});
