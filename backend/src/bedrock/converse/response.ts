/**
 * Converse response → Anthropic non-streaming message (docs/upstream-apis.md §3.2): text, thinking with its
 * signature, redacted thinking, tool use with the id kept, citations (approximate), stop reason
 * and usage with cache reads and writes. The `id` is synthesised (Converse has none) and the
 * `model` is the one the client asked for.
 */

import type { ContentBlock, ConverseResponse } from '@aws-sdk/client-bedrock-runtime';
import { emptyUsage, mergeAnthropicUsage, type TokenUsage } from '../../anthropic/usage.ts';
import type { AnthropicCitation, AnthropicResponseBlock, AnthropicResponseMessage } from '../../anthropic/wire.ts';
import { BedrockTranslationError } from '../errors.ts';
import { markBedrock } from '../thinking-provenance.ts';
import { converseCitationToAnthropic } from './citations.ts';
import { newMessageId } from './message-id.ts';
import { converseStopReason, converseStopSequence } from './stop-reason.ts';
import { converseUsageToAnthropic } from './usage.ts';

export interface ConverseResponseOptions {
  /** The model the client asked for. */
  model: string;
  /** Defaults to a fresh `msg_bdrk_01…` id. */
  messageId?: string;
}

export interface TranslatedConverseResponse {
  message: AnthropicResponseMessage;
  usage: TokenUsage;
}

/** Blob fields arrive as `Uint8Array` from the SDK, or as base64 text from raw JSON. */
export function blobToBase64(blob: Uint8Array | string): string {
  return typeof blob === 'string' ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64');
}

function block(content: ContentBlock, index: number): AnthropicResponseBlock {
  if (content.text !== undefined) return { type: 'text', text: content.text };
  if (content.toolUse) {
    return { type: 'tool_use', id: content.toolUse.toolUseId ?? '', name: content.toolUse.name ?? '', input: content.toolUse.input ?? {} };
  }
  if (content.reasoningContent?.reasoningText) {
    const { text, signature } = content.reasoningContent.reasoningText;
    return { type: 'thinking', thinking: text ?? '', signature: markBedrock(signature ?? '') };
  }
  if (content.reasoningContent?.redactedContent) {
    return { type: 'redacted_thinking', data: markBedrock(blobToBase64(content.reasoningContent.redactedContent)) };
  }
  if (content.citationsContent) {
    const text = (content.citationsContent.content ?? []).map((c) => c.text ?? '').join('');
    const citations = (content.citationsContent.citations ?? [])
      .map(converseCitationToAnthropic)
      .filter((c): c is AnthropicCitation => c !== null);
    return { type: 'text', text, ...(citations.length > 0 ? { citations } : {}) };
  }
  const kind = Object.keys(content).find((k) => (content as unknown as Record<string, unknown>)[k] !== undefined) ?? 'unknown';
  throw new BedrockTranslationError(
    'BEDROCK_BAD_RESPONSE',
    `output.message.content[${index}].${kind}`,
    `Amazon Bedrock answered with a '${kind}' block, which has no Anthropic equivalent`,
  );
}

export function translateConverseResponse(response: ConverseResponse, options: ConverseResponseOptions): TranslatedConverseResponse {
  const content = response.output?.message?.content ?? [];
  const wireUsage = converseUsageToAnthropic(response.usage);
  const usage = emptyUsage();
  mergeAnthropicUsage(usage, wireUsage);
  return {
    message: {
      id: options.messageId ?? newMessageId(),
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: content.map(block),
      stop_reason: converseStopReason(response.stopReason),
      stop_sequence: converseStopSequence(response.stopReason, response.additionalModelResponseFields),
      usage: wireUsage,
    },
    usage,
  };
}
