/** Converse `stopReason` → Anthropic `stop_reason` (docs/upstream-apis.md §3.2). */

import type { AnthropicStopReason } from '../../anthropic/wire.ts';

const STOP_REASONS: Readonly<Record<string, AnthropicStopReason>> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  model_context_window_exceeded: 'model_context_window_exceeded',
  // The nearest Anthropic meaning: the answer was withheld.
  guardrail_intervened: 'refusal',
  content_filtered: 'refusal',
  // The model's output was cut short or unusable; the client still gets what arrived.
  malformed_model_output: 'end_turn',
  malformed_tool_use: 'end_turn',
};

export function converseStopReason(reason: string | undefined | null): AnthropicStopReason {
  return (reason && STOP_REASONS[reason]) || 'end_turn';
}

/**
 * The stop sequence that matched, which Converse reports only through
 * `additionalModelResponseFieldPaths: ["/stop_sequence"]` (the request asks for it).
 */
export function converseStopSequence(reason: string | undefined | null, additionalFields: unknown): string | null {
  if (reason !== 'stop_sequence' || !additionalFields || typeof additionalFields !== 'object') return null;
  const value = (additionalFields as { stop_sequence?: unknown }).stop_sequence;
  return typeof value === 'string' ? value : null;
}
