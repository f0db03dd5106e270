import { budgetExceededMessage, type BudgetGate } from '../accounting/budgets.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyContext } from './access-keys.ts';
import type { ProxyError } from '../anthropic/errors.ts';
import { proxyError } from './errors.ts';

export interface BudgetCheck {
  gate: BudgetGate;
  timeZone: string;
  logger: Logger;
}

export interface BedrockBudgetInput {
  key: KeyContext;
  requestId: string;
  occurredAt: Date;
  parsed: AnthropicRequest;
  bodyBytes: number;
  region: string;
  /** The Bedrock model the call will use; null when the model cannot be mapped (the call is refused with a 400 before anything is spent). */
  bedrockModelId: string | null;
}

/**
 * Reserves the budget a Bedrock call may use, right before it is made. Returns the reservation
 * (null: the user has no budget) or the error to answer with instead of calling Bedrock.
 */
export async function reserveBedrockBudget(
  check: BudgetCheck,
  input: BedrockBudgetInput,
): Promise<{ reservationId: number | null; use?: { used: number; resetsAt: Date } } | ProxyError> {
  const maxTokens = input.parsed.max_tokens;
  const decision = await check.gate.reserve({
    userId: input.key.userId,
    monthlyBudgetUsd: input.key.monthlyBudgetUsd,
    requestId: input.requestId,
    occurredAt: input.occurredAt,
    bedrockModelId: input.bedrockModelId,
    region: input.region,
    bodyBytes: input.bodyBytes,
    maxTokens: typeof maxTokens === 'number' && Number.isInteger(maxTokens) ? maxTokens : null,
  });
  switch (decision.kind) {
    case 'unlimited':
      return { reservationId: null };
    case 'reserved':
      return { reservationId: decision.reservationId, use: { used: decision.used, resetsAt: decision.resetsAt } };
    case 'exceeded':
      return proxyError('BUDGET_EXCEEDED', budgetExceededMessage(decision, check.timeZone));
    case 'unpriced':
      return proxyError('BUDGET_MODEL_UNPRICED', decision.model);
    case 'unavailable':
      check.logger.error({ err: decision.err, reqId: input.requestId, code: 'BUDGET_UNAVAILABLE' }, 'budget check failed; Bedrock request refused');
      return proxyError('BUDGET_UNAVAILABLE');
  }
}
