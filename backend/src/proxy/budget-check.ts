import { budgetExceededMessage, type BudgetGate } from '../accounting/budgets.ts';
import type { AnthropicRequest } from '../anthropic/wire.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyContext } from './access-keys.ts';
import { ProxyError } from '../anthropic/errors.ts';

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

// The proxy has done all it may: more attempts would only be refused again.
const NO_RETRY = { 'x-should-retry': 'false' };

/**
 * Reserves the budget a Bedrock call may use, right before it is made. Returns the reservation
 * (null: the user has no budget) or the error to answer with instead of calling Bedrock.
 */
export async function reserveBedrockBudget(check: BudgetCheck, input: BedrockBudgetInput): Promise<{ reservationId: number | null } | ProxyError> {
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
      return { reservationId: decision.reservationId };
    case 'exceeded':
      return new ProxyError('BUDGET_EXCEEDED', 429, 'rate_limit_error', budgetExceededMessage(decision, check.timeZone), NO_RETRY);
    case 'unpriced':
      return new ProxyError(
        'BUDGET_MODEL_UNPRICED',
        403,
        'permission_error',
        `Bedrock model ${decision.model} has no price, so this user's monthly budget cannot be enforced for it; ask an admin to add its price`,
        NO_RETRY,
      );
    case 'unavailable':
      check.logger.error({ err: decision.err, reqId: input.requestId, code: 'BUDGET_UNAVAILABLE' }, 'budget check failed; Bedrock request refused');
      return new ProxyError(
        'BUDGET_UNAVAILABLE',
        503,
        'api_error',
        'The proxy cannot check your monthly budget right now (its database is not answering), so Bedrock requests are refused until it can',
      );
  }
}
