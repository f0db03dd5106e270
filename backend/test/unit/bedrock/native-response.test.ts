import { describe, expect, it } from 'vitest';
import { createNativeStreamTranslator, translateNativeResponse } from '../../../src/bedrock/native-response.ts';
import { createSseParser, formatSseEvent, type SseEvent } from '../../../src/anthropic/sse.ts';
import { anthropicTextEvents } from '../../fakes/bedrock.ts';

const MODEL = 'claude-opus-5-5';
const json = (events: SseEvent[]) => events.map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));

function feed(events: unknown[]) {
  const translator = createNativeStreamTranslator({ model: MODEL });
  const out: SseEvent[] = [];
  // InvokeModelWithResponseStream hands over `chunk.bytes` (UTF-8 JSON bytes).
  for (const event of events) out.push(...translator.push(new TextEncoder().encode(JSON.stringify(event))));
  out.push(...translator.finish());
  return { out, usage: translator.usage() };
}

const start = (usage: Record<string, number>) => ({
  type: 'message_start',
  message: { id: 'msg_bdrk_01abc', type: 'message', role: 'assistant', model: 'claude-opus-5-5-bedrock', content: [], stop_reason: null, stop_sequence: null, usage },
});
const text = [
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } },
  { type: 'content_block_stop', index: 0 },
];

describe('createNativeStreamTranslator', () => {
  it("re-emits Bedrock's events as Anthropic SSE, the client's model in message_start and no metrics", () => {
    const { out, usage } = feed(anthropicTextEvents('hello', 'anthropic.claude-opus-5-5'));
    expect(out.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    for (const e of json(out)) expect(e.data.type).toBe(e.event);
    expect(json(out)[0]!.data).toMatchObject({ message: { model: MODEL, id: 'msg_bdrk_01FakeBedrockText000000' } });
    expect(json(out).at(-1)!.data).toEqual({ type: 'message_stop' });
    expect(usage).toEqual({ inputTokens: 12, outputTokens: 5, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0 });
  });

  it('passes events it does not change as the exact JSON text Bedrock sent', () => {
    const translator = createNativeStreamTranslator({ model: MODEL });
    const raw = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a  b"}}';
    expect(translator.push(raw)).toEqual([{ event: 'content_block_delta', data: raw }]);
    expect(translator.push('{"type":"ping"}')).toEqual([{ event: 'ping', data: '{"type":"ping"}' }]);
  });

  it('fills cache counts reported only in the invocation metrics into message_delta', () => {
    const { out, usage } = feed([
      start({ input_tokens: 9, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }),
      ...text,
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } },
      {
        type: 'message_stop',
        'amazon-bedrock-invocationMetrics': { inputTokenCount: 9, outputTokenCount: 4, invocationLatency: 900, firstByteLatency: 300, cacheReadInputTokenCount: 2048, cacheWriteInputTokenCount: 512 },
      },
    ]);
    expect(json(out).slice(-2).map((e) => e.data)).toEqual([
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4, cache_read_input_tokens: 2048, cache_creation_input_tokens: 512 } },
      { type: 'message_stop' },
    ]);
    expect(usage).toEqual({ inputTokens: 9, outputTokens: 4, cacheReadTokens: 2048, cacheWrite5mTokens: 512, cacheWrite1hTokens: 0 });
  });

  it('keeps the counts the events reported over the metrics', () => {
    const { out, usage } = feed([
      start({ input_tokens: 9, output_tokens: 1, cache_read_input_tokens: 100, cache_creation_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } } as never),
      ...text,
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } },
      { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 99, outputTokenCount: 99, cacheReadInputTokenCount: 7 } },
    ]);
    expect(json(out).at(-2)!.data).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } });
    expect(usage).toMatchObject({ inputTokens: 9, outputTokens: 4, cacheReadTokens: 100 });
  });

  it('counts the 5m/1h split that message_start reports', () => {
    const { usage } = feed([
      start({ input_tokens: 3, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 1500, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 500 } } as never),
      ...text,
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } },
      { type: 'message_stop' },
    ]);
    expect(usage).toEqual({ inputTokens: 3, outputTokens: 2, cacheReadTokens: 0, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 500 });
  });

  it('ends a stream cut before message_stop with an error event, after what did arrive', () => {
    const { out, usage } = feed([start({ input_tokens: 1, output_tokens: 1 }), ...text, { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }]);
    expect(out.slice(-2).map((e) => e.event)).toEqual(['message_delta', 'error']);
    expect(JSON.parse(out.at(-1)!.data)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(usage.outputTokens).toBe(2);
  });

  it('adds nothing at finish after message_stop', () => {
    const translator = createNativeStreamTranslator({ model: MODEL });
    translator.push('{"type":"message_stop"}');
    expect(translator.finish()).toEqual([]);
  });

  it('turns a mid-stream exception into one Anthropic error event and ignores what follows', () => {
    const translator = createNativeStreamTranslator({ model: MODEL });
    translator.push(JSON.stringify(start({ input_tokens: 1, output_tokens: 1 })));
    const failure = Object.assign(new Error('Model has timed out'), { name: 'ModelTimeoutException', $metadata: {} });
    expect(json(translator.fail(failure))).toEqual([{ event: 'error', data: { type: 'error', error: { type: 'timeout_error', message: 'Model has timed out' } } }]);
    expect(translator.push('{"type":"ping"}')).toEqual([]);
    expect(translator.finish()).toEqual([]);
  });

  it('rejects a chunk that is not an Anthropic event', () => {
    const translator = createNativeStreamTranslator({ model: MODEL });
    expect(() => translator.push('not json')).toThrow(expect.objectContaining({ code: 'BEDROCK_BAD_RESPONSE', status: 502 }));
    expect(() => translator.push('{"no":"type"}')).toThrow(expect.objectContaining({ code: 'BEDROCK_BAD_RESPONSE' }));
  });

  it("reads the Messages endpoint's SSE through the same translator", () => {
    const sse = anthropicTextEvents('hi').map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    const parser = createSseParser();
    const translator = createNativeStreamTranslator({ model: 'claude-sonnet-5-5' });
    const out = [...parser.push(sse), ...parser.end()].flatMap((e) => translator.push(e.data));
    out.push(...translator.finish());
    const written = out.map(formatSseEvent).join('');
    expect(written).toContain('"model":"claude-sonnet-5-5"');
    expect(written).not.toContain('invocationMetrics');
    expect(out).toHaveLength(6);
  });
});

describe('translateNativeResponse', () => {
  it("puts the client's model back and reads the usage", () => {
    const body = {
      id: 'msg_bdrk_01x',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-5-5',
      content: [{ type: 'thinking', thinking: 'hm', signature: 'sig' }, { type: 'text', text: 'hi' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 4, output_tokens: 6, cache_read_input_tokens: 30, cache_creation_input_tokens: 0, future: 'kept' },
      future_field: true,
    };
    const { message, json: text, usage } = translateNativeResponse(new TextEncoder().encode(JSON.stringify(body)), { model: 'claude-opus-4-1' });
    // The signature comes back marked as Bedrock's (thinking-provenance.ts).
    expect(message).toEqual({ ...body, model: 'claude-opus-4-1', content: [{ ...body.content[0], signature: 'ccproxy-bedrock:sig' }, body.content[1]] });
    expect(JSON.parse(text)).toEqual(message);
    expect(usage).toEqual({ inputTokens: 4, outputTokens: 6, cacheReadTokens: 30, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0 });
  });

  it('rejects a body that is not JSON', () => {
    expect(() => translateNativeResponse('<html>', { model: MODEL })).toThrow(expect.objectContaining({ code: 'BEDROCK_BAD_RESPONSE' }));
  });
});
