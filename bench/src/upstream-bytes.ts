/**
 * Every byte the fake upstream sends, computed once at start-up: the upstream must cost next to
 * nothing per request, so nothing here runs on the request path.
 *
 * A stream is `head` (written with the status line), then `deltas` paced one per tick, with
 * `tail` written together with the last delta.
 */
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export const MODEL = 'claude-sonnet-4-5-20250929';

export interface PacedStream {
  head: Buffer;
  deltas: Buffer[];
  tail: Buffer;
}

const INPUT_TOKENS = 25;

function sse(event: Record<string, unknown> & { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function deltaText(i: number): string {
  return `word${i} `;
}

function messageStart(): Record<string, unknown> & { type: string } {
  return {
    type: 'message_start',
    message: {
      id: 'msg_01BenchFakeUpstream00000000',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: INPUT_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
    },
  };
}

/** Anthropic events of a text answer in `count` deltas, as the Messages API streams them. */
function anthropicEvents(count: number): { head: Array<Record<string, unknown> & { type: string }>; deltas: Array<Record<string, unknown> & { type: string }>; tail: Array<Record<string, unknown> & { type: string }> } {
  return {
    head: [messageStart(), { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    deltas: Array.from({ length: count }, (_, i) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: deltaText(i) } })),
    tail: [
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: count } },
      { type: 'message_stop' },
    ],
  };
}

/** The Messages API's SSE stream. */
export function anthropicSse(count: number): PacedStream {
  const events = anthropicEvents(count);
  return {
    head: Buffer.from(events.head.map(sse).join('') + sse({ type: 'ping' })),
    deltas: events.deltas.map((e) => Buffer.from(sse(e))),
    tail: Buffer.from(events.tail.map(sse).join('')),
  };
}

/** The Messages API's non-streaming answer with the same content. */
export function anthropicJson(count: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'msg_01BenchFakeUpstream00000000',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: Array.from({ length: count }, (_, i) => deltaText(i)).join('') }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: INPUT_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: count },
    }),
  );
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const header = (value: string) => ({ type: 'string' as const, value });

function frame(headers: MessageHeaders, payload: unknown): Buffer {
  return Buffer.from(codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) }));
}

/** InvokeModelWithResponseStream: each Anthropic event base64-encoded in a `chunk` frame. */
export function bedrockInvokeStream(count: number): PacedStream {
  const events = anthropicEvents(count);
  const last = events.tail[events.tail.length - 1]!;
  last['amazon-bedrock-invocationMetrics'] = { inputTokenCount: INPUT_TOKENS, outputTokenCount: count, invocationLatency: 100, firstByteLatency: 5 };
  const chunk = (event: Record<string, unknown>) =>
    frame(
      { ':event-type': header('chunk'), ':content-type': header('application/json'), ':message-type': header('event') },
      { bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcdefghijkl' },
    );
  return {
    head: Buffer.concat(events.head.map(chunk)),
    deltas: events.deltas.map(chunk),
    tail: Buffer.concat(events.tail.map(chunk)),
  };
}

/** ConverseStream: Converse events, which carry no content_block_start for text. */
export function bedrockConverseStream(count: number): PacedStream {
  const event = (name: string, payload: Record<string, unknown>) =>
    frame({ ':event-type': header(name), ':content-type': header('application/json'), ':message-type': header('event') }, { ...payload, p: 'abcdefgh' });
  return {
    head: event('messageStart', { role: 'assistant' }),
    deltas: Array.from({ length: count }, (_, i) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: deltaText(i) } })),
    tail: Buffer.concat([
      event('contentBlockStop', { contentBlockIndex: 0 }),
      event('messageStop', { stopReason: 'end_turn' }),
      event('metadata', { usage: { inputTokens: INPUT_TOKENS, outputTokens: count, totalTokens: INPUT_TOKENS + count }, metrics: { latencyMs: 100 } }),
    ]),
  };
}
