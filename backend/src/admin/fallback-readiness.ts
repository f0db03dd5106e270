import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { pricingModel, type ModelPrice } from '../accounting/pricing.ts';
import { DEFAULT_MODEL_MAPPINGS } from '../bedrock/models.ts';
import type { AccessKeyRepository, KeyWithoutBedrockKey } from '../db/access-key-repository.ts';
import type { Logger } from '../observability/logger.ts';
import type { AdminDeps } from './plugin.ts';
import { FallbackReadiness } from './schemas.ts';

// What keeps a request from reaching Bedrock when it should (README, "Bedrock fallback"): a model
// priced for Anthropic that nothing maps, and keys whose routing wants Bedrock but that have no
// Bedrock key. One computation for GET /admin/fallback-readiness and the start-up warning.

export interface ReadinessSources {
  /** BEDROCK_AUTH: with `sigv4` the task role signs, and no key needs a Bedrock key of its own. */
  bedrockAuth: 'bearer' | 'sigv4';
  /** The price rows in effect (accounting/price-cache.ts). */
  prices: { current(): { rows: readonly Pick<ModelPrice, 'provider' | 'model'>[] } };
  /** The admin's mapping rows (db/model-mapping-repository.ts). */
  modelMappings: { list(): Promise<readonly { model: string }[]> };
  accessKeys: Pick<AccessKeyRepository, 'withoutBedrockKey'>;
}

export interface Readiness {
  modelsWithoutMapping: string[];
  keysWithoutBedrockKey: KeyWithoutBedrockKey[];
}

/**
 * Models priced for `anthropic` (as price rows name them: `claude-opus-4-7`, no date) that neither
 * an admin row nor a shipped default maps to Bedrock. A mapping covers the price row its model
 * is priced by, so `claude-opus-4-0` and `claude-opus-4-20250514` cover `claude-opus-4`. Pure.
 */
export function modelsWithoutMapping(prices: readonly Pick<ModelPrice, 'provider' | 'model'>[], overrides: readonly { model: string }[]): string[] {
  const mapped = new Set([...DEFAULT_MODEL_MAPPINGS, ...overrides].map((m) => pricingModel(m.model).model));
  const priced = new Set(prices.filter((p) => p.provider === 'anthropic').map((p) => p.model.trim().toLowerCase()));
  return [...priced].filter((model) => !mapped.has(model) && !mapped.has(pricingModel(model).model)).sort();
}

export async function fallbackReadiness(sources: ReadinessSources): Promise<Readiness> {
  const [overrides, keys] = await Promise.all([
    sources.modelMappings.list(),
    sources.bedrockAuth === 'sigv4' ? Promise.resolve([]) : sources.accessKeys.withoutBedrockKey(),
  ]);
  return { modelsWithoutMapping: modelsWithoutMapping(sources.prices.current().rows, overrides), keysWithoutBedrockKey: keys };
}

const STRATEGY_EFFECT = {
  plan_first: 'cannot fall back to Bedrock: no Bedrock key (plan_first)',
  bedrock_only: 'cannot reach Bedrock: no Bedrock key (bedrock_only: their requests are refused)',
} as const;

/**
 * At start-up: one warning line per kind of problem, counts and model names only (never a key,
 * not even its prefix: the admin endpoint lists them). Never throws: a failed check is itself a warning.
 */
export async function warnFallbackReadiness(sources: ReadinessSources, logger: Logger): Promise<void> {
  let readiness: Readiness;
  try {
    readiness = await fallbackReadiness(sources);
  } catch (err) {
    logger.warn({ err }, 'fallback readiness could not be checked');
    return;
  }
  for (const strategy of ['plan_first', 'bedrock_only'] as const) {
    const keys = readiness.keysWithoutBedrockKey.filter((k) => k.routingStrategy === strategy).length;
    if (keys > 0) {
      logger.warn({ keys, routingStrategy: strategy }, `${keys} access key${keys === 1 ? '' : 's'} ${STRATEGY_EFFECT[strategy]}; GET /admin/fallback-readiness lists them`);
    }
  }
  const models = readiness.modelsWithoutMapping;
  if (models.length > 0) logger.warn({ models }, `models without a Bedrock mapping (no fallback for them): ${models.join(', ')}`);
}

function readinessJson(r: Readiness): Static<typeof FallbackReadiness> {
  return {
    models_without_mapping: r.modelsWithoutMapping,
    keys_without_bedrock_key: r.keysWithoutBedrockKey.map((k) => ({
      access_key_id: k.accessKeyId,
      key_prefix: k.keyPrefix,
      user_id: k.userId,
      user_name: k.userName,
      routing_strategy: k.routingStrategy,
    })),
  };
}

export async function fallbackReadinessRoutes(parent: FastifyInstance, deps: AdminDeps): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/fallback-readiness',
    {
      schema: {
        summary: 'What keeps requests from reaching Bedrock: priced models without a mapping, and keys whose routing wants Bedrock without a Bedrock key',
        response: { 200: FallbackReadiness },
      },
    },
    async () =>
      readinessJson(await fallbackReadiness({ bedrockAuth: deps.bedrockAuth, prices: deps.accounting.prices, modelMappings: deps.modelMappings, accessKeys: deps.accessKeys })),
  );
}
