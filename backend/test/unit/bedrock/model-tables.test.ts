import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../../src/accounting/default-prices.ts';
import { createPriceBook, pricingModel, type ModelPrice } from '../../../src/accounting/pricing.ts';
import { modelsWithoutMapping } from '../../../src/admin/fallback-readiness.ts';
import { DEFAULT_MODEL_MAPPINGS, resolveBedrockModel } from '../../../src/bedrock/models.ts';

// The shipped price table (accounting/default-prices.ts) and the shipped Bedrock mappings
// (bedrock/models.ts) must agree: a model priced for Anthropic but not mapped turns every fallback
// for it into Anthropic's error (README, "Bedrock fallback"), and a mapped model without a Bedrock
// price is refused for budgeted users (BUDGET_MODEL_UNPRICED) and costed at nothing for the rest.

/**
 * Models priced for `anthropic` that truly cannot be served by Bedrock, each with why. Empty: every
 * shipped model has a Bedrock row (some by the family's id pattern, see bedrock/models.ts).
 */
const NOT_ON_BEDROCK: readonly string[] = [];

const book = createPriceBook(DEFAULT_PRICES.map((p, i): ModelPrice => ({ ...p, id: String(i + 1) })));
const anthropicPriced = [...new Set(DEFAULT_PRICES.filter((p) => p.provider === 'anthropic').map((p) => p.model))];
const now = new Date();

// One region per profile preference of geographiesForRegion: us, eu, jp, au, apac, us-gov, and one
// outside every geography (global, or the base id for a model without a global profile).
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'ap-southeast-2', 'ap-south-1', 'us-gov-west-1', 'sa-east-1'];

describe('the shipped model tables', () => {
  it('map every model priced for Anthropic to Bedrock (or list it as an exception)', () => {
    expect(modelsWithoutMapping(DEFAULT_PRICES, [])).toEqual([...NOT_ON_BEDROCK].sort());
  });

  it('list as exceptions only models that are priced and really unmapped', () => {
    for (const model of NOT_ON_BEDROCK) {
      expect(anthropicPriced, model).toContain(model);
      expect(DEFAULT_MODEL_MAPPINGS.some((m) => pricingModel(m.model).model === model), model).toBe(false);
    }
  });

  it.each(DEFAULT_MODEL_MAPPINGS.map((m) => m.model))('%s: priced on Anthropic, and on Bedrock from every kind of region', (model) => {
    expect(book.find({ provider: 'anthropic', model, region: null, at: now }), 'anthropic').not.toBeNull();
    for (const region of REGIONS) {
      const { modelId } = resolveBedrockModel(model, region);
      // The id the call uses (profile prefix included) is what the event is priced by.
      expect(book.find({ provider: 'bedrock', model: modelId, region, at: now }), `${modelId} in ${region}`).not.toBeNull();
    }
  });
});

describe('modelsWithoutMapping', () => {
  const priced = (...models: string[]) => models.map((model) => ({ provider: 'anthropic' as const, model }));

  it('names a priced model nothing maps, once, whatever its price history', () => {
    const prices = [...priced('claude-imaginary-9', 'claude-imaginary-9', 'claude-opus-5-5'), { provider: 'bedrock' as const, model: 'claude-bedrock-only-1' }];
    expect(modelsWithoutMapping(prices, [])).toEqual(['claude-imaginary-9']);
  });

  it('counts an admin mapping, by the model its price row is keyed by', () => {
    expect(modelsWithoutMapping(priced('claude-imaginary-9'), [{ model: 'claude-imaginary-9' }])).toEqual([]);
    expect(modelsWithoutMapping(priced('claude-imaginary-9'), [{ model: 'claude-imaginary-9-20270101' }])).toEqual([]);
    expect(modelsWithoutMapping(priced('claude-imaginary-9'), [{ model: 'claude-imaginary-10' }])).toEqual(['claude-imaginary-9']);
  });

  it('counts a dated or -0 default as mapping its undated price row', () => {
    // claude-opus-4 is priced as such; clients send claude-opus-4-0 or claude-opus-4-20250514.
    expect(modelsWithoutMapping(priced('claude-opus-4', 'claude-sonnet-4'), [])).toEqual([]);
  });
});
