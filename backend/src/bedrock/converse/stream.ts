/**
 * ConverseStream events → Anthropic SSE events (docs/upstream-apis.md §3.3), as a state machine: one
 * Converse event in, the exact Anthropic events out.
 *
 * - `message_start` carries a synthesised `msg_` id, the client's model and zero usage (Converse
 *   reports usage only at the end); `message_delta` carries the final, cumulative usage.
 * - Converse sends `contentBlockStart` for tool use only; text and reasoning blocks get a
 *   synthesised `content_block_start`. Anthropic has one block open at a time, so a block left
 *   open is closed before the next one starts.
 * - Redacted reasoning is buffered and sent as one complete `redacted_thinking` block.
 * - `metadata` may come before or after `messageStop`; `message_delta` + `message_stop` follow
 *   once both are in (or at `finish()` with the best known values).
 * - An in-stream exception, or a stream that ends before `messageStop`, becomes an `error` event.
 */

import type { ConverseStreamOutput, ContentBlockDelta } from '@aws-sdk/client-bedrock-runtime';
import { emptyUsage, mergeAnthropicUsage, type TokenUsage } from '../../anthropic/usage.ts';
import type { AnthropicStopReason, AnthropicStreamEvent, AnthropicWireUsage } from '../../anthropic/wire.ts';
import { mapBedrockError, toAnthropicError, type BedrockFailure } from '../errors.ts';
import { sseEventOf, type SseEvent } from '../../anthropic/sse.ts';
import { markBedrock } from '../thinking-provenance.ts';
import { converseCitationToAnthropic } from './citations.ts';
import { newMessageId } from './message-id.ts';
import { converseStopReason, converseStopSequence } from './stop-reason.ts';
import { converseUsageToAnthropic } from './usage.ts';

export interface ConverseStreamOptions {
  /** The model the client asked for. */
  model: string;
  /** Defaults to a fresh `msg_bdrk_01…` id. */
  messageId?: string;
}

export interface ConverseStreamTranslator {
  /** One event from `ConverseStreamCommand`'s `stream`; returns the SSE events to write now. */
  push(event: ConverseStreamOutput): SseEvent[];
  /** The Converse stream ended. */
  finish(): SseEvent[];
  /** The Converse stream threw (an SDK exception) after it began: an Anthropic `error` event. */
  fail(err: unknown): SseEvent[];
  /** Tokens reported so far (all zero until `metadata`). */
  usage(): TokenUsage;
  /** The Anthropic `stop_reason` sent in `message_delta`, once sent. */
  stopReason(): AnthropicStopReason | null;
  /** Why the stream ended with an `error` event, if it did. */
  failure(): BedrockFailure | undefined;
}

type BlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_use';

interface OpenBlock {
  converseIndex: number;
  index: number;
  kind: BlockKind;
  redacted: Uint8Array[];
}

const EXCEPTION_MEMBERS = [
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
] as const;

const ZERO_USAGE: AnthropicWireUsage = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
};

function bytesOf(blob: Uint8Array | string): Uint8Array {
  return typeof blob === 'string' ? Buffer.from(blob, 'base64') : blob;
}

export function createConverseStreamTranslator(options: ConverseStreamOptions): ConverseStreamTranslator {
  const messageId = options.messageId ?? newMessageId();
  const usage = emptyUsage();
  let started = false;
  let finished = false;
  let open: OpenBlock | null = null;
  let nextIndex = 0;
  let stop: { reason: AnthropicStopReason; sequence: string | null } | null = null;
  let finalUsage: AnthropicWireUsage | null = null;
  let sentStopReason: AnthropicStopReason | null = null;
  let failure: BedrockFailure | undefined;
  let out: SseEvent[] = [];

  const emit = (event: AnthropicStreamEvent) => out.push(sseEventOf(event));

  function ensureStarted(): void {
    if (started) return;
    started = true;
    emit({
      type: 'message_start',
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model: options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...ZERO_USAGE, cache_creation: { ...ZERO_USAGE.cache_creation } },
      },
    });
  }

  function close(): void {
    if (!open) return;
    if (open.kind === 'redacted_thinking') {
      const data = markBedrock(Buffer.concat(open.redacted).toString('base64'));
      emit({ type: 'content_block_start', index: open.index, content_block: { type: 'redacted_thinking', data } });
    }
    emit({ type: 'content_block_stop', index: open.index });
    open = null;
  }

  /** The open block for `converseIndex` of `kind`, starting one (and closing another) if needed. */
  function block(converseIndex: number, kind: BlockKind, start?: Record<string, unknown>): OpenBlock {
    if (open && open.converseIndex === converseIndex && open.kind === kind) return open;
    close();
    open = { converseIndex, index: nextIndex++, kind, redacted: [] };
    if (kind === 'text') emit({ type: 'content_block_start', index: open.index, content_block: { type: 'text', text: '' } });
    if (kind === 'thinking') {
      emit({ type: 'content_block_start', index: open.index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    }
    if (kind === 'tool_use') emit({ type: 'content_block_start', index: open.index, content_block: { ...start, input: {} } });
    return open;
  }

  function endMessage(): void {
    close();
    const wire = finalUsage ?? ZERO_USAGE;
    sentStopReason = stop?.reason ?? 'end_turn';
    emit({
      type: 'message_delta',
      delta: { stop_reason: stop?.reason ?? 'end_turn', stop_sequence: stop?.sequence ?? null },
      usage: wire,
    });
    emit({ type: 'message_stop' });
    finished = true;
  }

  function failWith(err: unknown): void {
    failure = mapBedrockError(err);
    emit(toAnthropicError(failure));
    open = null;
    finished = true;
  }

  function onDelta(converseIndex: number, delta: ContentBlockDelta): void {
    if (delta.text !== undefined) {
      if (delta.text === '' && !(open && open.converseIndex === converseIndex)) return;
      const b = block(converseIndex, 'text');
      if (delta.text !== '') emit({ type: 'content_block_delta', index: b.index, delta: { type: 'text_delta', text: delta.text } });
      return;
    }
    if (delta.reasoningContent) {
      const r = delta.reasoningContent;
      if (r.text !== undefined) {
        const b = block(converseIndex, 'thinking');
        emit({ type: 'content_block_delta', index: b.index, delta: { type: 'thinking_delta', thinking: r.text } });
      } else if (r.signature !== undefined) {
        const b = block(converseIndex, 'thinking');
        emit({ type: 'content_block_delta', index: b.index, delta: { type: 'signature_delta', signature: markBedrock(r.signature) } });
      } else if (r.redactedContent !== undefined) {
        block(converseIndex, 'redacted_thinking').redacted.push(bytesOf(r.redactedContent as Uint8Array | string));
      }
      return;
    }
    if (delta.toolUse) {
      if (!open || open.converseIndex !== converseIndex || open.kind !== 'tool_use') {
        failWith({ name: 'InternalServerException', message: 'Amazon Bedrock sent tool input for a block it never started' });
        return;
      }
      emit({ type: 'content_block_delta', index: open.index, delta: { type: 'input_json_delta', partial_json: delta.toolUse.input ?? '' } });
      return;
    }
    if (delta.citation) {
      const citation = converseCitationToAnthropic(delta.citation);
      const b = block(converseIndex, 'text');
      if (citation) emit({ type: 'content_block_delta', index: b.index, delta: { type: 'citations_delta', citation } });
    }
    // toolResult and image deltas belong to Bedrock-side tools, which requests never enable.
  }

  function handle(event: ConverseStreamOutput): void {
    for (const member of EXCEPTION_MEMBERS) {
      const exception = (event as unknown as Record<string, { message?: string } | undefined>)[member];
      if (exception) return failWith({ name: member, message: exception.message });
    }
    if (event.messageStart) return ensureStarted();
    if (event.contentBlockStart) {
      ensureStarted();
      const toolUse = event.contentBlockStart.start?.toolUse;
      if (toolUse) {
        block(event.contentBlockStart.contentBlockIndex ?? 0, 'tool_use', { type: 'tool_use', id: toolUse.toolUseId ?? '', name: toolUse.name ?? '' });
      }
      return;
    }
    if (event.contentBlockDelta) {
      ensureStarted();
      if (event.contentBlockDelta.delta) onDelta(event.contentBlockDelta.contentBlockIndex ?? 0, event.contentBlockDelta.delta);
      return;
    }
    if (event.contentBlockStop) {
      if (open && open.converseIndex === (event.contentBlockStop.contentBlockIndex ?? 0)) close();
      return;
    }
    if (event.messageStop) {
      ensureStarted();
      close();
      const { stopReason, additionalModelResponseFields } = event.messageStop;
      stop = { reason: converseStopReason(stopReason), sequence: converseStopSequence(stopReason, additionalModelResponseFields) };
      if (finalUsage) endMessage();
      return;
    }
    if (event.metadata) {
      finalUsage = converseUsageToAnthropic(event.metadata.usage);
      mergeAnthropicUsage(usage, finalUsage);
      if (stop) endMessage();
    }
  }

  function drain(): SseEvent[] {
    const events = out;
    out = [];
    return events;
  }

  return {
    push(event) {
      if (!finished) handle(event);
      return drain();
    },
    finish() {
      if (!finished) {
        if (stop) endMessage();
        else failWith({ name: 'InternalServerException', message: 'Amazon Bedrock ended the stream before the message was complete' });
      }
      return drain();
    },
    fail(err) {
      if (!finished) failWith(err);
      return drain();
    },
    usage: () => ({ ...usage }),
    stopReason: () => sentStopReason,
    failure: () => failure,
  };
}
