import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BudgetDecision, BudgetRequest } from '../../../src/accounting/budgets.ts';
import { ProxyError } from '../../../src/anthropic/errors.ts';
import type { AnthropicRequest } from '../../../src/anthropic/wire.ts';
import { reserveBedrockBudget } from '../../../src/proxy/budget-check.ts';
import { keyContext } from '../../support/key-context.ts';

const key = keyContext({ userId: 'user-1', routingStrategy: 'bedrock_only', monthlyBudgetUsd: '100' });

async function check(
  decision: BudgetDecision,
  parsed: Record<string, unknown> = { model: 'claude-opus-5-5', max_tokens: 1000, messages: [] },
  bedrockModelId: string | null = 'us.anthropic.claude-opus-5-5',
) {
  const asked: BudgetRequest[] = [];
  const gate = { reserve: async (r: BudgetRequest) => (asked.push(r), decision), stop: () => undefined };
  const result = await reserveBedrockBudget(
    { gate, timeZone: 'UTC', logger: pino({ level: 'silent' }) },
    { key, requestId: 'req_1', occurredAt: new Date('2026-12-04T00:00:00Z'), parsed: parsed as unknown as AnthropicRequest, bodyBytes: 2048, region: 'us-east-1', bedrockModelId },
  );
  return { result, asked };
}

describe('reserveBedrockBudget', () => {
  it('asks the gate for the worst case of this request: body size, max_tokens and the Bedrock model it will call', async () => {
    const resetsAt = new Date('2027-01-01T00:00:00Z');
    const { result, asked } = await check({ kind: 'reserved', reservationId: 42, amountUsd: '0.5', used: 0.8, resetsAt });
    expect(result).toEqual({ reservationId: 42, use: { used: 0.8, resetsAt } });
    expect(asked).toEqual([
      expect.objectContaining({ userId: 'user-1', monthlyBudgetUsd: '100', bodyBytes: 2048, maxTokens: 1000, region: 'us-east-1', bedrockModelId: 'us.anthropic.claude-opus-5-5' }),
    ]);
  });

  it('reserves nothing for a user without a budget, and passes an unmappable model and a fractional max_tokens on as null', async () => {
    expect((await check({ kind: 'unlimited' })).result).toEqual({ reservationId: null });
    const { asked } = await check({ kind: 'unlimited' }, { model: 'not-a-claude', max_tokens: 1.5, messages: [] }, null);
    expect(asked[0]).toMatchObject({ bedrockModelId: null, maxTokens: null });
  });

  it.each<[string, BudgetDecision, number, string, string | undefined]>([
    [
      'over budget',
      { kind: 'exceeded', limitUsd: '100', spentUsd: '99.9', reservedUsd: '0', requiredUsd: '0.5', periodStart: new Date('2026-12-01T00:00:00Z'), resetsAt: new Date('2027-01-01T00:00:00Z') },
      429,
      'BUDGET_EXCEEDED',
      'false',
    ],
    ['a model with no price', { kind: 'unpriced', model: 'us.anthropic.claude-opus-5-5' }, 403, 'BUDGET_MODEL_UNPRICED', 'false'],
    ['the database not answering', { kind: 'unavailable', err: new Error('down') }, 503, 'BUDGET_UNAVAILABLE', undefined],
  ])('refuses a request %s', async (_name, decision, status, code, shouldRetry) => {
    const { result } = await check(decision);
    expect(result).toBeInstanceOf(ProxyError);
    expect(result).toMatchObject({ status, code });
    expect((result as ProxyError).headers['x-should-retry']).toBe(shouldRetry);
  });
});
