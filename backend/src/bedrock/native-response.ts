/**
 * Bedrock answers in Anthropic's own format on InvokeModel (and on its Messages endpoint); this
 * puts those answers back in front of the client (docs/upstream-apis.md §2.4):
 * - the `model` becomes the name the client asked for;
 * - `amazon-bedrock-invocationMetrics` (on the last event) is removed, after its token counts
 *   have filled any the events left out — some Bedrock deployments report cache usage only
 *   there, so `message_delta` is held until `message_stop` to carry them;
 * - thinking signatures and redacted thinking are marked as Bedrock's (thinking-provenance.ts);
 * - every other event passes as the JSON text Bedrock sent, without re-serialising.
 */

import { emptyUsage, mergeAnthropicUsage, type AnthropicUsage, type TokenUsage } from '../anthropic/usage.ts';
import { BedrockTranslationError, failureFromAnthropicError, mapBedrockError, toAnthropicError, type BedrockFailure } from './errors.ts';
import { sseEventOf, type SseEvent } from '../anthropic/sse.ts';
import { markBedrockBlock, markBedrockEvent } from './thinking-provenance.ts';

const METRICS_KEY = 'amazon-bedrock-invocationMetrics';

interface InvocationMetrics {
  inputTokenCount?: number;
  outputTokenCount?: number;
  cacheReadInputTokenCount?: number;
  cacheWriteInputTokenCount?: number;
}

export interface NativeTranslationOptions {
  /** The model the client asked for; it replaces the Bedrock model in the answer. */
  model: string;
}

export interface TranslatedNativeResponse {
  /** The Anthropic message body, ready to send. */
  json: string;
  message: Record<string, unknown>;
  usage: TokenUsage;
}

const decoder = new TextDecoder();

function parseObject(payload: Uint8Array | string, what: string): Record<string, unknown> {
  const text = typeof payload === 'string' ? payload : decoder.decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BedrockTranslationError('BEDROCK_BAD_RESPONSE', what, `Amazon Bedrock sent ${what} that is not JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || typeof (value as { type?: unknown }).type !== 'string') {
    throw new BedrockTranslationError('BEDROCK_BAD_RESPONSE', what, `Amazon Bedrock sent ${what} without a type`);
  }
  return value as Record<string, unknown>;
}

/** A non-streaming InvokeModel (or Messages endpoint) body → the client's response body. */
export function translateNativeResponse(body: Uint8Array | string, options: NativeTranslationOptions): TranslatedNativeResponse {
  const parsed = parseObject(body, 'a response body');
  const { [METRICS_KEY]: _metrics, ...message } = parsed;
  message.model = options.model;
  if (Array.isArray(message.content)) message.content = (message.content as { type: string }[]).map((b) => (b && typeof b === 'object' ? markBedrockBlock(b) : b));
  const usage = emptyUsage();
  mergeAnthropicUsage(usage, message.usage as AnthropicUsage | undefined);
  return { json: JSON.stringify(message), message, usage };
}

export interface NativeStreamTranslator {
  /**
   * One Anthropic event as JSON: an InvokeModelWithResponseStream `chunk.bytes`, or the `data` of
   * one SSE event from the Messages endpoint. Returns the events to write now.
   */
  push(payload: Uint8Array | string): SseEvent[];
  /**
   * The upstream stream ended. Flushes a held `message_delta`; a stream cut before `message_stop`
   * ends with an `error` event, so the client retries instead of keeping a truncated answer.
   */
  finish(): SseEvent[];
  /** The upstream failed after the stream began (an SDK exception): an Anthropic `error` event. */
  fail(err: unknown): SseEvent[];
  /** Tokens so far, cache reads and writes included. */
  usage(): TokenUsage;
  /** The `stop_reason` of the `message_delta`, once it came. */
  stopReason(): string | null;
  /** Why the stream ended with an `error` event (`finish` on a cut stream, `fail`, an upstream `error`). */
  failure(): BedrockFailure | undefined;
}

export function createNativeStreamTranslator(options: NativeTranslationOptions): NativeStreamTranslator {
  const usage = emptyUsage();
  /** Usage fields as the events reported them, to know which the metrics may fill. */
  const reported: AnthropicUsage = {};
  let heldDelta: { event: Record<string, unknown>; raw: string } | null = null;
  let done = false;
  let stopReason: string | null = null;
  let failure: BedrockFailure | undefined;

  function failWith(out: SseEvent[], next: BedrockFailure): void {
    failure = next;
    out.push(sseEventOf(toAnthropicError(next)));
    done = true;
  }

  function record(wire: unknown): void {
    if (!wire || typeof wire !== 'object') return;
    mergeAnthropicUsage(usage, wire as AnthropicUsage);
    for (const [key, value] of Object.entries(wire)) if (value !== null && value !== undefined) reported[key] = value;
  }

  /** Counts the metrics have and the events did not report (cache counts reported as 0 included). */
  function missingFromMetrics(metrics: InvocationMetrics): AnthropicUsage {
    const patch: AnthropicUsage = {};
    if (reported.input_tokens == null && typeof metrics.inputTokenCount === 'number') patch.input_tokens = metrics.inputTokenCount;
    if (reported.output_tokens == null && typeof metrics.outputTokenCount === 'number') patch.output_tokens = metrics.outputTokenCount;
    if (!reported.cache_read_input_tokens && typeof metrics.cacheReadInputTokenCount === 'number' && metrics.cacheReadInputTokenCount > 0) {
      patch.cache_read_input_tokens = metrics.cacheReadInputTokenCount;
    }
    if (!reported.cache_creation_input_tokens && typeof metrics.cacheWriteInputTokenCount === 'number' && metrics.cacheWriteInputTokenCount > 0) {
      patch.cache_creation_input_tokens = metrics.cacheWriteInputTokenCount;
    }
    return patch;
  }

  function flushDelta(out: SseEvent[], patch: AnthropicUsage = {}): void {
    if (!heldDelta) return;
    if (Object.keys(patch).length === 0) {
      out.push({ event: 'message_delta', data: heldDelta.raw });
    } else {
      const event = heldDelta.event;
      out.push(sseEventOf({ ...event, type: 'message_delta', usage: { ...(event.usage as object), ...patch } }));
    }
    heldDelta = null;
  }

  return {
    push(payload) {
      if (done) return [];
      const raw = typeof payload === 'string' ? payload : decoder.decode(payload);
      const event = parseObject(raw, 'a stream event');
      const type = event.type as string;
      const out: SseEvent[] = [];
      switch (type) {
        case 'message_start': {
          const message = (event.message ?? {}) as Record<string, unknown>;
          record(message.usage);
          out.push(sseEventOf({ ...event, type, message: { ...message, model: options.model } }));
          break;
        }
        case 'message_delta': {
          record(event.usage);
          const reason = (event.delta as { stop_reason?: unknown } | undefined)?.stop_reason;
          if (typeof reason === 'string') stopReason = reason;
          flushDelta(out);
          heldDelta = { event, raw };
          break;
        }
        case 'error': {
          // The Messages endpoint reports a failure after the stream began as Anthropic does.
          const error = (event.error ?? {}) as { type?: unknown; message?: unknown };
          heldDelta = null;
          failure = failureFromAnthropicError(error.type, error.message);
          out.push({ event: type, data: raw });
          done = true;
          break;
        }
        case 'message_stop': {
          const metrics = event[METRICS_KEY] as InvocationMetrics | undefined;
          const patch = metrics && typeof metrics === 'object' ? missingFromMetrics(metrics) : {};
          mergeAnthropicUsage(usage, patch);
          flushDelta(out, patch);
          if (metrics === undefined) {
            out.push({ event: type, data: raw });
          } else {
            const { [METRICS_KEY]: _m, ...rest } = event;
            out.push(sseEventOf({ ...rest, type }));
          }
          done = true;
          break;
        }
        default: {
          flushDelta(out);
          const marked = markBedrockEvent(event);
          if (marked) out.push(sseEventOf(withoutMetrics(marked)));
          else out.push(event[METRICS_KEY] === undefined ? { event: type, data: raw } : sseEventOf(withoutMetrics(event)));
        }
      }
      return out;
    },
    finish() {
      const out: SseEvent[] = [];
      if (done) return out;
      flushDelta(out);
      const cut = { name: 'InternalServerException', message: 'Amazon Bedrock ended the stream before the message was complete' };
      failWith(out, mapBedrockError(cut));
      return out;
    },
    fail(err) {
      const out: SseEvent[] = [];
      heldDelta = null;
      if (!done) failWith(out, mapBedrockError(err));
      done = true;
      return out;
    },
    usage: () => ({ ...usage }),
    stopReason: () => stopReason,
    failure: () => failure,
  };
}

function withoutMetrics(event: Record<string, unknown>): { type: string; [field: string]: unknown } {
  const { [METRICS_KEY]: _m, ...rest } = event;
  return rest as { type: string };
}
