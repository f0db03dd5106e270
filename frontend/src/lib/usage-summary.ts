import type { CostBreakdown } from './types.ts';

export interface ProviderShare {
  planRequests: number;
  bedrockRequests: number;
  /** Share of requests Bedrock served (null without requests). */
  bedrockShare: number | null;
  bedrockCostUsd: number;
}

/** Plan vs Bedrock from the per-model breakdown (one row per provider and model). */
export function providerShare(breakdown: CostBreakdown): ProviderShare {
  let planRequests = 0;
  let bedrockRequests = 0;
  let bedrockCostUsd = 0;
  for (const item of breakdown.items) {
    if (item.provider === 'bedrock') {
      bedrockRequests += item.requests;
      bedrockCostUsd += Number(item.cost_usd);
    } else planRequests += item.requests;
  }
  const all = planRequests + bedrockRequests;
  return { planRequests, bedrockRequests, bedrockShare: all > 0 ? bedrockRequests / all : null, bedrockCostUsd };
}
