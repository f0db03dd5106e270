import { describe, expect, it } from 'vitest';
import { isNearLimit } from '../src/lib/budget.ts';
import type { CostBreakdown, UsageTotals } from '../src/lib/types.ts';
import { providerShare } from '../src/lib/usage-summary.ts';

describe('isNearLimit', () => {
  const b = (budget: string | null, spent: string, reserved = '0') => ({ monthly_budget_usd: budget, spent_usd: spent, reserved_usd: reserved });
  it('calls out a budget from 80 % used, counting what running requests hold', () => {
    expect(isNearLimit(b('100', '79.99'))).toBe(false);
    expect(isNearLimit(b('100', '80'))).toBe(true);
    expect(isNearLimit(b('100', '70', '10'))).toBe(true);
    expect(isNearLimit(b('100', '120'))).toBe(true);
  });
  it('ignores users without a budget; a zero budget is reached by any spend', () => {
    expect(isNearLimit(b(null, '1000'))).toBe(false);
    expect(isNearLimit(b('0', '0'))).toBe(false);
    expect(isNearLimit(b('0', '0.01'))).toBe(true);
  });
});

describe('providerShare', () => {
  const totals = (requests: number, cost: string): UsageTotals => ({
    requests,
    unpriced_requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    cost_usd: cost,
    input_cost_usd: '0',
    output_cost_usd: '0',
    cache_read_cost_usd: '0',
    cache_write_cost_usd: '0',
    cache_write_5m_cost_usd: '0',
    cache_write_1h_cost_usd: '0',
  });
  const breakdown = (items: CostBreakdown['items']): CostBreakdown => ({ period: { start: '', end: '', timezone: 'UTC' }, totals: totals(0, '0'), items });
  it('adds the models of each provider', () => {
    const share = providerShare(
      breakdown([
        { provider: 'plan', model: 'a', ...totals(6, '1.5') },
        { provider: 'bedrock', model: 'a', ...totals(3, '0.25') },
        { provider: 'bedrock', model: 'b', ...totals(1, '0.5') },
      ]),
    );
    expect(share).toEqual({ planRequests: 6, bedrockRequests: 4, bedrockShare: 0.4, bedrockCostUsd: 0.75 });
  });
  it('has no share without requests', () => {
    expect(providerShare(breakdown([])).bedrockShare).toBeNull();
  });
});
