import type { ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import type { TokenUsage } from '../../../../src/anthropic/usage.ts';
import { createConverseStreamTranslator } from '../../../../src/bedrock/converse/stream.ts';
import type { SseEvent } from '../../../../src/anthropic/sse.ts';
import { wireEventToSdk, type FakeFrame } from '../../../fakes/bedrock.ts';
import { fixtureNames, readFixture } from '../fixtures.ts';

export interface ConverseStreamFixture {
  description: string;
  model: string;
  messageId: string;
  frames: FakeFrame[];
  expected: Array<Record<string, unknown> & { type: string }>;
  usage: TokenUsage;
}

const MODEL = 'claude-opus-5-5';
const parse = (events: SseEvent[]) =>
  events.map((e) => {
    const data = JSON.parse(e.data) as { type: string };
    expect(e.event).toBe(data.type);
    return data;
  });

function run(events: unknown[], options = { model: MODEL, messageId: 'msg_bdrk_01test' }) {
  const translator = createConverseStreamTranslator(options);
  const out: SseEvent[] = [];
  for (const event of events) out.push(...translator.push(event as ConverseStreamOutput));
  out.push(...translator.finish());
  return { events: parse(out), usage: translator.usage() };
}

describe('createConverseStreamTranslator with recorded ConverseStream sequences', () => {
  it.each(fixtureNames('bedrock/converse-stream'))('%s', (name) => {
    const fixture = readFixture<ConverseStreamFixture>(`bedrock/converse-stream/${name}.json`);
    const { events, usage } = run(fixture.frames.map(wireEventToSdk), { model: fixture.model, messageId: fixture.messageId });
    expect(events).toEqual(fixture.expected);
    expect(usage).toEqual(fixture.usage);
  });
});

const start = { messageStart: { role: 'assistant' } };
const text = (i: number, t: string) => ({ contentBlockDelta: { contentBlockIndex: i, delta: { text: t } } });
const stopBlock = (i: number) => ({ contentBlockStop: { contentBlockIndex: i } });
const stop = (stopReason: string) => ({ messageStop: { stopReason } });
const metadata = { metadata: { usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 }, metrics: { latencyMs: 1 } } };
const types = (events: Array<{ type: string }>) => events.map((e) => e.type);

describe('createConverseStreamTranslator edge cases', () => {
  it.each([
    ['end_turn', 'end_turn'],
    ['tool_use', 'tool_use'],
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'stop_sequence'],
    ['model_context_window_exceeded', 'model_context_window_exceeded'],
    ['guardrail_intervened', 'refusal'],
    ['content_filtered', 'refusal'],
    ['malformed_model_output', 'end_turn'],
    ['malformed_tool_use', 'end_turn'],
    ['something_new', 'end_turn'],
  ])('maps stopReason %s to %s', (converse, anthropic) => {
    const { events } = run([start, text(0, 'x'), stopBlock(0), stop(converse), metadata]);
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: anthropic, stop_sequence: null } });
  });

  it('synthesises message_start when deltas come first', () => {
    const { events } = run([text(0, 'x'), stopBlock(0), stop('end_turn'), metadata]);
    expect(types(events)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  it('ends the message with the best known values when metadata never comes', () => {
    const { events, usage } = run([start, text(0, 'x'), stopBlock(0), stop('end_turn')]);
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
    });
    expect(events.at(-1)).toEqual({ type: 'message_stop' });
    expect(usage.outputTokens).toBe(0);
  });

  it('ends with an error event when the stream stops before messageStop', () => {
    const { events } = run([start, text(0, 'x')]);
    expect(types(events)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(events.at(-1)).toMatchObject({ error: { type: 'api_error' } });
  });

  it('closes a block left open before the next one starts', () => {
    const { events } = run([
      start,
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'think' } } } },
      text(1, 'answer'),
      stop('end_turn'),
      metadata,
    ]);
    expect(events.slice(1, -2)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'think' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'answer' } },
      { type: 'content_block_stop', index: 1 },
    ]);
  });

  it('numbers blocks densely even when Converse skips an empty block', () => {
    const { events } = run([start, text(0, ''), stopBlock(0), text(1, 'x'), stopBlock(1), stop('end_turn'), metadata]);
    expect(events.filter((e) => e.type === 'content_block_start')).toEqual([{ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }]);
  });

  it('fails the stream when tool input arrives for a block that never started', () => {
    const { events } = run([start, { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{}' } } } }, stop('tool_use'), metadata]);
    expect(types(events)).toEqual(['message_start', 'error']);
  });

  it('turns an in-stream exception member into an error event and ignores the rest', () => {
    const { events } = run([start, text(0, 'x'), { serviceUnavailableException: { message: 'Bedrock is unavailable' } }, stop('end_turn'), metadata]);
    expect(events.at(-1)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Bedrock is unavailable' } });
    expect(types(events)).not.toContain('message_stop');
  });

  it('turns an SDK exception thrown by the stream into an error event', () => {
    const translator = createConverseStreamTranslator({ model: MODEL });
    translator.push(start as ConverseStreamOutput);
    const thrown = Object.assign(new Error('Input is too long'), { name: 'ValidationException', $metadata: {} });
    expect(parse(translator.fail(thrown))).toEqual([{ type: 'error', error: { type: 'invalid_request_error', message: 'Input is too long' } }]);
    expect(translator.push(stop('end_turn') as ConverseStreamOutput)).toEqual([]);
  });

  it('maps a citation delta to citations_delta on the text block', () => {
    const { events } = run([
      start,
      text(0, 'The sky is blue.'),
      {
        contentBlockDelta: {
          contentBlockIndex: 0,
          delta: { citation: { title: 'facts', sourceContent: [{ text: 'The sky is blue' }], location: { documentChar: { documentIndex: 0, start: 10, end: 25 } } } },
        },
      },
      stopBlock(0),
      stop('end_turn'),
      metadata,
    ]);
    expect(events[3]).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: {
        type: 'citations_delta',
        citation: { type: 'char_location', cited_text: 'The sky is blue', document_index: 0, document_title: 'facts', start_char_index: 10, end_char_index: 25 },
      },
    });
  });

  it('gives every message a fresh msg_ id unless one is given', () => {
    const a = run([start], { model: MODEL } as never).events[0] as unknown as { message: { id: string } };
    const b = run([start], { model: MODEL } as never).events[0] as unknown as { message: { id: string } };
    expect(a.message.id).toMatch(/^msg_bdrk_01[0-9A-Za-z]{22}$/);
    expect(a.message.id).not.toBe(b.message.id);
  });
});
