/** Token counts of one request, as Anthropic reports them (input excludes cache reads and writes). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
}

export const emptyUsage = (): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
});

/** Anthropic's wire `usage` object (message_start, message_delta, non-streaming body). */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  [field: string]: unknown;
}

/**
 * Overwrites `into` with every count present in `wire`. Streams report usage cumulatively, so a
 * later message_delta replaces what message_start said, field by field.
 */
export function mergeAnthropicUsage(into: TokenUsage, wire: AnthropicUsage | null | undefined): void {
  if (!wire || typeof wire !== 'object') return;
  if (typeof wire.input_tokens === 'number') into.inputTokens = wire.input_tokens;
  if (typeof wire.output_tokens === 'number') into.outputTokens = wire.output_tokens;
  if (typeof wire.cache_read_input_tokens === 'number') into.cacheReadTokens = wire.cache_read_input_tokens;
  const split = wire.cache_creation;
  if (split && typeof split === 'object' && (typeof split.ephemeral_5m_input_tokens === 'number' || typeof split.ephemeral_1h_input_tokens === 'number')) {
    into.cacheWrite5mTokens = split.ephemeral_5m_input_tokens ?? 0;
    into.cacheWrite1hTokens = split.ephemeral_1h_input_tokens ?? 0;
  } else if (typeof wire.cache_creation_input_tokens === 'number') {
    // A total without the 5m/1h breakdown: keep the 1h part already known (from message_start)
    // when it still fits, and count the rest at the default 5-minute TTL.
    const total = wire.cache_creation_input_tokens;
    if (into.cacheWrite1hTokens > total) into.cacheWrite1hTokens = 0;
    into.cacheWrite5mTokens = total - into.cacheWrite1hTokens;
  }
}
