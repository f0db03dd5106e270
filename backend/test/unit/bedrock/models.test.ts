import { describe, expect, it } from 'vitest';
import { BedrockTranslationError } from '../../../src/bedrock/errors.ts';
import { DEFAULT_MODEL_MAPPINGS, geographiesForRegion, resolveBedrockModel, type ModelMapping } from '../../../src/bedrock/models.ts';

describe('resolveBedrockModel', () => {
  it.each([
    // Claude Code's own Bedrock mode in us-east-1 (docs/upstream-apis.md §2.6)
    ['claude-opus-5-5', 'us-east-1', 'us.anthropic.claude-opus-5-5', 'us'],
    ['claude-sonnet-4-5-20250929', 'us-east-1', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us'],
    ['claude-haiku-4-5-20251001', 'us-west-2', 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'us'],
    ['claude-sonnet-5-5', 'eu-central-1', 'eu.anthropic.claude-sonnet-5-5', 'eu'],
    ['claude-haiku-5-5', 'ap-northeast-1', 'jp.anthropic.claude-haiku-5-5', 'jp'],
    // aliases resolve to the dated model
    ['claude-sonnet-4-5', 'eu-west-1', 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', 'eu'],
    ['claude-opus-4-1', 'us-east-2', 'us.anthropic.claude-opus-4-1-20250805-v1:0', 'us'],
    ['claude-opus-4-0', 'us-east-1', 'us.anthropic.claude-opus-4-20250514-v1:0', 'us'],
    ['claude-sonnet-4-0', 'ap-south-1', 'apac.anthropic.claude-sonnet-4-20250514-v1:0', 'apac'],
    ['claude-3-7-sonnet-latest', 'us-east-1', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'us'],
    ['claude-opus-4-6', 'us-east-1', 'us.anthropic.claude-opus-4-6-v1', 'us'],
    // the region's geography has no profile: the next preference (global), then the base id
    ['claude-opus-4-5', 'ap-northeast-1', 'global.anthropic.claude-opus-4-5-20251101-v1:0', 'global'],
    ['claude-sonnet-4-6', 'ap-southeast-2', 'global.anthropic.claude-sonnet-4-6', 'global'],
    ['claude-sonnet-4-5', 'ap-southeast-2', 'au.anthropic.claude-sonnet-4-5-20250929-v1:0', 'au'],
    ['claude-haiku-4-5', 'ap-southeast-1', 'apac.anthropic.claude-haiku-4-5-20251001-v1:0', 'apac'],
    ['claude-opus-4-1-20250805', 'eu-west-1', 'anthropic.claude-opus-4-1-20250805-v1:0', null],
    ['claude-3-haiku-20240307', 'us-east-1', 'anthropic.claude-3-haiku-20240307-v1:0', null],
    ['claude-opus-5-5', 'sa-east-1', 'global.anthropic.claude-opus-5-5', 'global'],
    // case and surrounding space do not matter
    ['  Claude-Opus-5-5 ', 'us-east-1', 'us.anthropic.claude-opus-5-5', 'us'],
  ] as const)('%s in %s → %s', (model, region, modelId, geography) => {
    const resolved = resolveBedrockModel(model, region);
    expect(resolved).toMatchObject({ modelId, geography, source: 'default' });
  });

  it.each([
    'anthropic.claude-sonnet-4-5-20250929-v1:0',
    'us.anthropic.claude-opus-5-5',
    'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-5-5',
    'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123',
  ])('passes the Bedrock id %s through', (model) => {
    expect(resolveBedrockModel(model, 'eu-west-1')).toEqual({ modelId: model, baseId: model, geography: null, source: 'passthrough' });
  });

  it('rejects an unknown model with a 400 naming it', () => {
    const error = (() => {
      try {
        resolveBedrockModel('claude-imaginary-9', 'us-east-1');
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(BedrockTranslationError);
    expect(error).toMatchObject({ code: 'BEDROCK_MODEL_UNKNOWN', status: 400, anthropicType: 'invalid_request_error', field: 'model' });
    expect((error as Error).message).toContain("'claude-imaginary-9'");
  });

  it('does not guess from a date it does not know', () => {
    expect(() => resolveBedrockModel('claude-sonnet-4-5-20991231', 'us-east-1')).toThrow(BedrockTranslationError);
  });

  const overrides: ModelMapping[] = [
    { model: 'claude-opus-5-5', baseId: 'anthropic.claude-opus-5-5-v2', geographies: ['eu'] },
    { model: 'claude-fable-5', baseId: 'anthropic.claude-fable-5', geographies: ['global', 'us'] },
    { model: 'claude-sonnet-4-5', baseId: 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a', geographies: [] },
    { model: 'claude-haiku-4-5', baseId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', geographies: [] },
  ];

  it.each([
    ['claude-opus-5-5', 'eu-west-3', 'eu.anthropic.claude-opus-5-5-v2'],
    ['claude-opus-5-5', 'us-east-1', 'anthropic.claude-opus-5-5-v2'],
    ['claude-fable-5', 'us-east-1', 'us.anthropic.claude-fable-5'],
    ['claude-sonnet-4-5', 'us-east-1', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/team-a'],
    ['claude-haiku-4-5', 'eu-west-1', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'],
  ])('an override row for %s in %s wins: %s', (model, region, modelId) => {
    expect(resolveBedrockModel(model, region, overrides)).toMatchObject({ modelId, source: 'override' });
  });

  it('ships a row for every model in docs/upstream-apis.md §2.6 plus the 2026 5.5 family', () => {
    const names = DEFAULT_MODEL_MAPPINGS.map((m) => m.model);
    expect(names).toEqual(
      expect.arrayContaining([
        'claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-4-6', 'claude-sonnet-4-6',
        'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'claude-opus-4-5-20251101', 'claude-opus-4-5',
        'claude-haiku-4-5-20251001', 'claude-haiku-4-5', 'claude-opus-4-1-20250805', 'claude-opus-4-1',
        'claude-opus-4-20250514', 'claude-opus-4-0', 'claude-sonnet-4-20250514', 'claude-sonnet-4-0',
        'claude-3-7-sonnet-20250219', 'claude-3-5-haiku-20241022', 'claude-3-haiku-20240307',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('geographiesForRegion', () => {
  it.each([
    ['us-east-1', ['us', 'global']],
    ['us-gov-west-1', ['us-gov']],
    ['eu-north-1', ['eu', 'global']],
    ['ap-northeast-1', ['jp', 'apac', 'global']],
    ['ap-northeast-3', ['jp', 'apac', 'global']],
    ['ap-southeast-2', ['au', 'apac', 'global']],
    ['ap-northeast-2', ['apac', 'global']],
    ['ca-central-1', ['global']],
    ['me-central-1', ['global']],
  ])('%s → %j', (region, expected) => {
    expect(geographiesForRegion(region)).toEqual(expected);
  });
});
