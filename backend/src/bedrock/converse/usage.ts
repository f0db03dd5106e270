/**
 * Converse `usage` → Anthropic `usage` (docs/upstream-apis.md §3.2). Converse's `inputTokens`, like
 * Anthropic's `input_tokens`, excludes cache reads and writes; `cacheWriteInputTokens` is the
 * cache-creation count, and `cacheDetails` splits it by TTL.
 */

import type { TokenUsage as ConverseTokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { AnthropicWireUsage } from '../../anthropic/wire.ts';

export function converseUsageToAnthropic(usage: ConverseTokenUsage | undefined | null): AnthropicWireUsage {
  const cacheWrite = usage?.cacheWriteInputTokens ?? 0;
  let fiveMinutes = cacheWrite;
  let oneHour = 0;
  if (usage?.cacheDetails && usage.cacheDetails.length > 0) {
    fiveMinutes = 0;
    for (const detail of usage.cacheDetails) {
      if (detail.ttl === '1h') oneHour += detail.inputTokens ?? 0;
      else fiveMinutes += detail.inputTokens ?? 0;
    }
  }
  return {
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: usage?.cacheReadInputTokens ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: fiveMinutes, ephemeral_1h_input_tokens: oneHour },
  };
}
