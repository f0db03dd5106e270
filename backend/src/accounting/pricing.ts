/**
 * Which price applies to a request: the `model_prices` rows held in memory, looked up by provider,
 * model, Bedrock region and the request's time (the row with the latest effective date not after
 * it). Pure: the rows come from db/price-repository.ts through a refreshing cache.
 */

/** USD per million tokens, as decimal strings (at most 6 decimals). */
export interface PriceRates {
  input: string;
  output: string;
  cacheWrite5m: string;
  cacheWrite1h: string;
  cacheRead: string;
}

export type PriceProvider = 'anthropic' | 'bedrock';

export interface ModelPrice {
  id: string;
  provider: PriceProvider;
  /**
   * Bedrock only: an AWS region (prices calls made there), `global` (the `global.` cross-region
   * profile), or null (any other Bedrock call). Always null for Anthropic.
   */
  region: string | null;
  /** Anthropic model name without date or version (`claude-opus-5-5`), or an exact id an admin priced. */
  model: string;
  rates: PriceRates;
  /** Above `thresholdTokens` prompt tokens (input + cache reads + cache writes) every token of the request costs `rates`. */
  longContext: { thresholdTokens: number; rates: PriceRates } | null;
  effectiveFrom: Date;
}

export interface PriceQuery {
  provider: PriceProvider;
  /** The model as served: an Anthropic name, a Bedrock model id (any profile prefix) or an ARN. */
  model: string;
  /** Bedrock: the AWS region the call went to. */
  region: string | null;
  at: Date;
}

export interface PriceBook {
  /** The price in effect for this request, or null when none is known. */
  find(query: PriceQuery): ModelPrice | null;
  readonly rows: readonly ModelPrice[];
}

// Inference-profile prefixes (bedrock/models.ts): geography first, then the model id.
const PROFILE_PREFIX = /^(?:global|us|us-gov|eu|apac|jp|au|ca)\./;

/**
 * The model a price row is keyed by, from whatever names the served model:
 *   `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`,
 *   `apac.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5` (not global),
 *   `global.anthropic.claude-opus-4-6-v1` → `claude-opus-4-6` (global),
 *   `arn:aws:bedrock:…:inference-profile/us.anthropic.claude-opus-5-5` → `claude-opus-5-5`.
 * Anything else comes back lower-cased as it was (an admin may have priced that exact id).
 */
export function pricingModel(served: string): { model: string; globalProfile: boolean } {
  let id = served.trim().toLowerCase();
  if (id.startsWith('arn:')) id = id.slice(id.lastIndexOf('/') + 1);
  const globalProfile = id.startsWith('global.');
  id = id.replace(PROFILE_PREFIX, '').replace(/^anthropic\./, '');
  id = id
    .replace(/-v\d+(?::\d+)?$/, '') // Bedrock version suffix
    .replace(/\[1m\]$/, '') // Claude Code's 1M-context notation
    .replace(/-latest$/, '')
    .replace(/-\d{8}$/, '') // snapshot date
    .replace(/^(claude-(?:opus|sonnet|haiku)-\d+)-0$/, '$1'); // claude-opus-4-0 is claude-opus-4
  return { model: id, globalProfile };
}

const key = (provider: PriceProvider, region: string | null, model: string) => `${provider}|${region ?? ''}|${model}`;

export function createPriceBook(rows: readonly ModelPrice[]): PriceBook {
  // Newest first, so the first row not after the request's time is the one in effect.
  const index = new Map<string, ModelPrice[]>();
  for (const row of rows) {
    const k = key(row.provider, row.region, row.model.toLowerCase());
    const list = index.get(k) ?? [];
    list.push(row);
    index.set(k, list);
  }
  for (const list of index.values()) list.sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime());

  // Served model names repeat endlessly: normalise each one once (bounded, in case clients invent names).
  const normalised = new Map<string, { raw: string; model: string; globalProfile: boolean }>();
  const normalise = (served: string) => {
    let n = normalised.get(served);
    if (!n) {
      const raw = served.trim().toLowerCase();
      n = { raw, ...pricingModel(raw) };
      if (normalised.size >= 10_000) normalised.clear();
      normalised.set(served, n);
    }
    return n;
  };

  return {
    rows,
    find(query) {
      const { raw, model, globalProfile } = normalise(query.model);
      const models = raw === model ? [model] : [raw, model];
      // A global-profile call costs the same from any source region; others may differ per region.
      const regions: (string | null)[] =
        query.provider === 'anthropic' ? [null] : globalProfile ? ['global', null] : query.region ? [query.region.toLowerCase(), null] : [null];
      const at = query.at.getTime();
      for (const m of models) {
        for (const region of regions) {
          const match = index.get(key(query.provider, region, m))?.find((row) => row.effectiveFrom.getTime() <= at);
          if (match) return match;
        }
      }
      return null;
    },
  };
}
