/**
 * Anthropic model name → Bedrock model id (docs/upstream-apis.md §2.6).
 *
 * A mapping row names one Anthropic model (a dated id or an alias) and its Bedrock base id, plus
 * the geographies that have a cross-region inference profile for it. The profile prefix is picked
 * from the Bedrock region: the region's own geography first, then `global.`; a model with no
 * profile in reach is called by its base id. Rows from the admin-edited `model_mappings` table
 * (same shape) win over the shipped defaults. Bedrock ids and ARNs pass through unchanged.
 */

import { BedrockTranslationError } from './errors.ts';

export const BEDROCK_GEOGRAPHIES = ['global', 'us', 'us-gov', 'eu', 'apac', 'jp', 'au'] as const;
export type BedrockGeography = (typeof BEDROCK_GEOGRAPHIES)[number];

export function isBedrockGeography(value: string): value is BedrockGeography {
  return (BEDROCK_GEOGRAPHIES as readonly string[]).includes(value);
}

export interface ModelMapping {
  /** Anthropic model name as clients send it (`claude-sonnet-4-5-20250929`, `claude-sonnet-4-5`). */
  model: string;
  /**
   * Bedrock base id (`anthropic.claude-sonnet-4-5-20250929-v1:0`). A value that already carries a
   * profile prefix, or an ARN, is used verbatim.
   */
  baseId: string;
  /** Geographies with a system-defined inference profile for this model; empty means base id only. */
  geographies: readonly BedrockGeography[];
}

export interface ResolvedBedrockModel {
  /** What goes into `/model/{modelId}/…` (or the Messages body's `model`). */
  modelId: string;
  baseId: string;
  /** The profile used, or null when the base id (or a verbatim id/ARN) is called. */
  geography: BedrockGeography | null;
  source: 'override' | 'default' | 'passthrough';
}

const ALL: readonly BedrockGeography[] = ['global', 'us', 'eu', 'jp', 'apac', 'au'];

/**
 * Shipped defaults: [Anthropic names (dated id first, then aliases), Bedrock base id, profiles].
 * Profiles follow docs/upstream-apis.md §2.6. The 5.5 family has no ARN-versioned id; Claude Code's own
 * Bedrock mode calls `us.anthropic.claude-opus-5-5` (verified), and the same shape and the
 * Opus 4.6 profile set are assumed for Sonnet/Haiku 5.5 until an admin says otherwise.
 *
 * Every model priced for `anthropic` in accounting/default-prices.ts has a row here
 * (test/unit/bedrock/model-tables.test.ts): without one, a fallback for it is impossible.
 */
const DEFAULTS: ReadonlyArray<readonly [readonly string[], string, readonly BedrockGeography[]]> = [
  // Fable 5 / 5.1, Opus 5, Sonnet 5, Opus 4.7 / 4.8: their Bedrock ids are not known here
  // (docs/upstream-apis.md §2.6 has none); they follow the newer families' pattern, an undated
  // `anthropic.<name>` with the 5.5 family's profile set, until an admin maps them otherwise.
  [['claude-fable-5-1'], 'anthropic.claude-fable-5-1', ALL],
  [['claude-fable-5'], 'anthropic.claude-fable-5', ALL],
  [['claude-opus-5'], 'anthropic.claude-opus-5', ALL],
  [['claude-sonnet-5'], 'anthropic.claude-sonnet-5', ALL],
  [['claude-opus-4-8'], 'anthropic.claude-opus-4-8', ALL],
  [['claude-opus-4-7'], 'anthropic.claude-opus-4-7', ALL],
  [['claude-opus-5-5'], 'anthropic.claude-opus-5-5', ALL],
  [['claude-sonnet-5-5'], 'anthropic.claude-sonnet-5-5', ALL],
  [['claude-haiku-5-5'], 'anthropic.claude-haiku-5-5', ALL],
  [['claude-opus-4-6'], 'anthropic.claude-opus-4-6-v1', ['global', 'us', 'eu', 'jp', 'apac']],
  [['claude-sonnet-4-6'], 'anthropic.claude-sonnet-4-6', ['global', 'us', 'eu', 'jp']],
  [['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'], 'anthropic.claude-sonnet-4-5-20250929-v1:0', ['global', 'us', 'eu', 'jp', 'au']],
  [['claude-opus-4-5-20251101', 'claude-opus-4-5'], 'anthropic.claude-opus-4-5-20251101-v1:0', ['global', 'us', 'eu']],
  [['claude-haiku-4-5-20251001', 'claude-haiku-4-5'], 'anthropic.claude-haiku-4-5-20251001-v1:0', ALL],
  [['claude-opus-4-1-20250805', 'claude-opus-4-1'], 'anthropic.claude-opus-4-1-20250805-v1:0', ['us']],
  [['claude-opus-4-20250514', 'claude-opus-4-0'], 'anthropic.claude-opus-4-20250514-v1:0', ['us']],
  [['claude-sonnet-4-20250514', 'claude-sonnet-4-0'], 'anthropic.claude-sonnet-4-20250514-v1:0', ['global', 'us', 'eu', 'apac']],
  [['claude-3-7-sonnet-20250219', 'claude-3-7-sonnet-latest'], 'anthropic.claude-3-7-sonnet-20250219-v1:0', ['us', 'eu', 'apac']],
  [['claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'], 'anthropic.claude-3-5-haiku-20241022-v1:0', ['us']],
  [['claude-3-haiku-20240307'], 'anthropic.claude-3-haiku-20240307-v1:0', []],
];

export const DEFAULT_MODEL_MAPPINGS: readonly ModelMapping[] = DEFAULTS.flatMap(([names, baseId, geographies]) =>
  names.map((model) => ({ model, baseId, geographies })),
);

/** A profile-prefixed Bedrock id or a bare `anthropic.` id. */
const BEDROCK_ID = /^(?:(?:global|us|us-gov|eu|apac|jp|au|ca)\.)?anthropic\.[a-z0-9.:-]+$/i;
const BEDROCK_ARN = /^arn:aws[a-z-]*:bedrock:/;

/** Where the model id already names a profile or resource, no prefix is added. */
function isVerbatimId(id: string): boolean {
  return BEDROCK_ARN.test(id) || /^(?:global|us|us-gov|eu|apac|jp|au|ca)\./.test(id);
}

/**
 * Geographies to try for a Bedrock region, best first. Profiles can only be called from one of
 * their source regions, so a region outside every geography gets `global.` alone.
 */
export function geographiesForRegion(region: string): readonly BedrockGeography[] {
  const r = region.trim().toLowerCase();
  if (r.startsWith('us-gov-')) return ['us-gov'];
  if (r.startsWith('us-')) return ['us', 'global'];
  if (r.startsWith('eu-')) return ['eu', 'global'];
  if (r === 'ap-northeast-1' || r === 'ap-northeast-3') return ['jp', 'apac', 'global'];
  if (r === 'ap-southeast-2' || r === 'ap-southeast-4') return ['au', 'apac', 'global'];
  if (r.startsWith('ap-')) return ['apac', 'global'];
  return ['global'];
}

function resolveRow(row: ModelMapping, region: string, source: 'override' | 'default'): ResolvedBedrockModel {
  if (isVerbatimId(row.baseId)) return { modelId: row.baseId, baseId: row.baseId, geography: null, source };
  const geography = geographiesForRegion(region).find((g) => row.geographies.includes(g)) ?? null;
  return { modelId: geography ? `${geography}.${row.baseId}` : row.baseId, baseId: row.baseId, geography, source };
}

/** The Bedrock model id for `region`, or null when neither an admin row nor a default maps the model. */
export function findBedrockModel(model: string, region: string, overrides: readonly ModelMapping[] = []): ResolvedBedrockModel | null {
  const name = typeof model === 'string' ? model.trim() : '';
  const key = name.toLowerCase();
  const override = overrides.find((row) => row.model.trim().toLowerCase() === key);
  if (override) return resolveRow(override, region, 'override');
  if (BEDROCK_ARN.test(name) || BEDROCK_ID.test(name)) {
    return { modelId: name, baseId: name, geography: null, source: 'passthrough' };
  }
  const row = DEFAULT_MODEL_MAPPINGS.find((r) => r.model === key);
  return row ? resolveRow(row, region, 'default') : null;
}

/** What a request for an unmapped model is told. */
export function noMappingMessage(model: string): string {
  return `model: '${typeof model === 'string' ? model.trim() : ''}' has no Amazon Bedrock mapping; ask an administrator to add one`;
}

/**
 * Maps the client's model to the Bedrock model id for `region`. Throws a 400
 * `BedrockTranslationError` (`BEDROCK_MODEL_UNKNOWN`) naming the model when nothing maps it.
 */
export function resolveBedrockModel(model: string, region: string, overrides: readonly ModelMapping[] = []): ResolvedBedrockModel {
  const resolved = findBedrockModel(model, region, overrides);
  if (resolved) return resolved;
  throw new BedrockTranslationError('BEDROCK_MODEL_UNKNOWN', 'model', noMappingMessage(model));
}
