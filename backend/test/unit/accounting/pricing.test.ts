import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../../src/accounting/default-prices.ts';
import { createPriceBook, pricingModel, type ModelPrice, type PriceRates } from '../../../src/accounting/pricing.ts';
import { DEFAULT_MODEL_MAPPINGS, resolveBedrockModel } from '../../../src/bedrock/models.ts';
import { shippedBook } from './fixtures.ts';

const rates = (input: string, output = '1', cacheWrite5m = '1', cacheWrite1h = '1', cacheRead = '1'): PriceRates => ({ input, output, cacheWrite5m, cacheWrite1h, cacheRead });
const row = (over: Partial<ModelPrice>): ModelPrice => ({
  id: 'x',
  provider: 'bedrock',
  region: null,
  model: 'claude-test-1',
  rates: rates('1'),
  longContext: null,
  effectiveFrom: new Date('2025-01-01T00:00:00Z'),
  ...over,
});

describe('the model a price is keyed by', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', false],
    ['claude-opus-5-5', 'claude-opus-5-5', false],
    ['us.anthropic.claude-opus-5-5', 'claude-opus-5-5', false],
    ['apac.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5', false],
    ['global.anthropic.claude-opus-4-6-v1', 'claude-opus-4-6', true],
    ['anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet', false],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku', false],
    ['claude-opus-4-0', 'claude-opus-4', false],
    ['anthropic.claude-opus-4-20250514-v1:0', 'claude-opus-4', false],
    ['claude-opus-4-6[1m]', 'claude-opus-4-6', false],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5', true],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5', 'a1b2c3d4e5', false],
  ])('%s → %s (global profile: %s)', (served, model, globalProfile) => {
    expect(pricingModel(served)).toEqual({ model, globalProfile });
  });
});

describe('price lookup', () => {
  it('picks the row in effect at the request time: the latest one not after it', () => {
    const book = createPriceBook([
      row({ id: 'old', rates: rates('1') }),
      row({ id: 'new', rates: rates('2'), effectiveFrom: new Date('2026-06-01T00:00:00Z') }),
    ]);
    const find = (at: string) => book.find({ provider: 'bedrock', model: 'claude-test-1', region: 'us-east-1', at: new Date(at) })?.id;
    expect(find('2024-12-31T23:59:59Z')).toBeUndefined();
    expect(find('2026-05-31T23:59:59.999Z')).toBe('old');
    expect(find('2026-06-01T00:00:00Z')).toBe('new');
  });

  it('prices Bedrock by region: the global profile, then an exact region, then any region', () => {
    const book = createPriceBook([
      row({ id: 'any' }),
      row({ id: 'global', region: 'global' }),
      row({ id: 'seoul', region: 'ap-northeast-2' }),
    ]);
    const at = new Date('2026-01-01T00:00:00Z');
    expect(book.find({ provider: 'bedrock', model: 'global.anthropic.claude-test-1', region: 'ap-northeast-2', at })?.id).toBe('global');
    expect(book.find({ provider: 'bedrock', model: 'apac.anthropic.claude-test-1', region: 'ap-northeast-2', at })?.id).toBe('seoul');
    expect(book.find({ provider: 'bedrock', model: 'us.anthropic.claude-test-1', region: 'us-east-1', at })?.id).toBe('any');
    expect(book.find({ provider: 'anthropic', model: 'claude-test-1', region: null, at })).toBeNull();
  });

  it('prefers a row for the exact id an admin priced over the model family', () => {
    const book = createPriceBook([row({ id: 'family', provider: 'anthropic' }), row({ id: 'dated', provider: 'anthropic', model: 'claude-test-1-20260101' })]);
    const at = new Date('2026-01-01T00:00:00Z');
    expect(book.find({ provider: 'anthropic', model: 'claude-test-1-20260101', region: null, at })?.id).toBe('dated');
    expect(book.find({ provider: 'anthropic', model: 'claude-test-1-20260202', region: null, at })?.id).toBe('family');
  });
});

describe('shipped prices', () => {
  const book = shippedBook();
  const at = new Date('2026-11-25T00:00:00Z');

  it('price every model the proxy maps to Bedrock, on both providers, in every geography', () => {
    for (const mapping of DEFAULT_MODEL_MAPPINGS) {
      expect(book.find({ provider: 'anthropic', model: mapping.model, region: null, at }), mapping.model).not.toBeNull();
      for (const region of ['us-east-1', 'eu-central-1', 'ap-northeast-2', 'ap-northeast-1', 'ap-southeast-2', 'sa-east-1']) {
        const served = resolveBedrockModel(mapping.model, region).modelId;
        expect(book.find({ provider: 'bedrock', model: served, region, at }), `${served} in ${region}`).not.toBeNull();
      }
    }
  });

  it('follow the list multipliers: 5m writes 1.25× input, 1h writes 2× input, reads at most 0.1× input', () => {
    // Claude 3 Haiku predates the multipliers: $0.30 / $0.50 / $0.03 on a $0.25 input, as published.
    for (const p of DEFAULT_PRICES.filter((d) => d.model !== 'claude-3-haiku')) {
      for (const r of [p.rates, ...(p.longContext ? [p.longContext.rates] : [])]) {
        const input = Number(r.input);
        expect(Number(r.cacheWrite5m), p.model).toBeCloseTo(input * 1.25, 9);
        expect(Number(r.cacheWrite1h), p.model).toBeCloseTo(input * 2, 9);
        expect(Number(r.cacheRead), p.model).toBeLessThanOrEqual(input * 0.1 + 1e-12);
      }
    }
  });

  it('charge regional Bedrock endpoints 10% over the global profile from Sonnet 4.5 on, and nothing extra before', () => {
    const price = (model: string, served: string, region: string) => book.find({ provider: 'bedrock', model: served, region, at })?.rates.input;
    expect(price('claude-sonnet-4-5', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1')).toBe('3.00');
    expect(price('claude-sonnet-4-5', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us-east-1')).toBe('3.30');
    expect(price('claude-opus-5-5', 'us.anthropic.claude-opus-5-5', 'us-east-1')).toBe('4.40');
    expect(price('claude-sonnet-4', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'us-east-1')).toBe('3.00');
    expect(price('claude-3-haiku', 'anthropic.claude-3-haiku-20240307-v1:0', 'ap-northeast-2')).toBe('0.25');
  });

  it("carry Sonnet 5.5's cache-read cut of 2026-10-07 as a dated row", () => {
    const read = (at: string) => book.find({ provider: 'anthropic', model: 'claude-sonnet-5-5', region: null, at: new Date(at) })?.rates.cacheRead;
    expect(read('2026-10-06T23:59:59Z')).toBe('0.20');
    expect(read('2026-10-07T00:00:00Z')).toBe('0.10');
  });
});
