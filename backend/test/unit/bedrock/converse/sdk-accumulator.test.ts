/**
 * The translated streams, as bytes, fed to the official Anthropic SDKs' stream accumulators
 * (through a `fetch` that answers in memory: no socket). Each SDK must rebuild the message the
 * events describe — content, ids, signatures, stop reason, usage — or throw the mapped error.
 */

import Anthropic from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { describe, expect, it } from 'vitest';
import { createConverseStreamTranslator } from '../../../../src/bedrock/converse/stream.ts';
import { createNativeStreamTranslator } from '../../../../src/bedrock/native-response.ts';
import { formatSseEvent, type SseEvent } from '../../../../src/anthropic/sse.ts';
import { anthropicTextEvents, wireEventToSdk } from '../../../fakes/bedrock.ts';
import { fixtureNames, readFixture } from '../fixtures.ts';
import type { ConverseStreamFixture } from './stream.test.ts';

const answer = (sse: string) => async () =>
  new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream', 'request-id': 'req_test' } });

const sdks = [
  {
    name: '@anthropic-ai/sdk 1.x',
    stream: (sse: string) =>
      new Anthropic({ apiKey: 'k', maxRetries: 0, fetch: answer(sse) }).messages
        .stream({ model: 'claude-opus-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage(),
    APIError: Anthropic.APIError,
  },
  {
    name: '@anthropic-ai/sdk 0.x (as bundled by Claude Code)',
    stream: (sse: string) =>
      new Anthropic0({ apiKey: 'k', maxRetries: 0, fetch: answer(sse) }).messages
        .stream({ model: 'claude-opus-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage(),
    APIError: Anthropic0.APIError,
  },
];

/** The message the expected events describe, folded by hand. */
function foldExpected(events: ConverseStreamFixture['expected']) {
  const start = events[0] as unknown as { message: Record<string, unknown> };
  const content: Array<Record<string, unknown>> = [];
  const partial: Record<number, string> = {};
  let final: Record<string, unknown> = {};
  for (const e of events as Array<Record<string, any>>) {
    if (e.type === 'content_block_start') content[e.index] = { ...e.content_block };
    if (e.type === 'content_block_delta') {
      const block = content[e.index]!;
      if (e.delta.type === 'text_delta') block.text = String(block.text) + e.delta.text;
      if (e.delta.type === 'thinking_delta') block.thinking = String(block.thinking) + e.delta.thinking;
      if (e.delta.type === 'signature_delta') block.signature = e.delta.signature;
      if (e.delta.type === 'input_json_delta') partial[e.index] = (partial[e.index] ?? '') + e.delta.partial_json;
    }
    if (e.type === 'content_block_stop' && partial[e.index] !== undefined) content[e.index]!.input = JSON.parse(partial[e.index]!);
    if (e.type === 'message_delta') final = { stop_reason: e.delta.stop_reason, stop_sequence: e.delta.stop_sequence, usage: e.usage };
  }
  const usage = final.usage as Record<string, number>;
  return {
    id: start.message.id,
    model: start.message.model,
    role: 'assistant',
    content,
    stop_reason: final.stop_reason,
    stop_sequence: final.stop_sequence,
    usage: {
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
    },
  };
}

function translateFixture(fixture: ConverseStreamFixture): string {
  const translator = createConverseStreamTranslator({ model: fixture.model, messageId: fixture.messageId });
  const out: SseEvent[] = fixture.frames.flatMap((frame) => translator.push(wireEventToSdk(frame) as never));
  out.push(...translator.finish());
  return out.map(formatSseEvent).join('');
}

const fixtures = fixtureNames('bedrock/converse-stream').map((name) => readFixture<ConverseStreamFixture>(`bedrock/converse-stream/${name}.json`));
const complete = fixtures.filter((f) => f.expected.at(-1)?.type === 'message_stop');
const failing = fixtures.filter((f) => f.expected.at(-1)?.type === 'error');

describe.each(sdks)('$name accumulates translated streams', (sdk) => {
  it.each(complete.map((f) => [f.description, f] as const))('%s', async (_d, fixture) => {
    const message = await sdk.stream(translateFixture(fixture));
    expect(message).toMatchObject(foldExpected(fixture.expected));
  });

  it.each(failing.map((f) => [f.description, f] as const))('%s', async (_d, fixture) => {
    const error = await sdk.stream(translateFixture(fixture)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(sdk.APIError);
    expect((error as { error?: unknown }).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('accumulates an InvokeModel stream re-emitted by the native translator', async () => {
    const translator = createNativeStreamTranslator({ model: 'claude-opus-4-1' });
    const out = anthropicTextEvents('hello there').flatMap((e) => translator.push(JSON.stringify(e)));
    out.push(...translator.finish());
    const message = await sdk.stream(out.map(formatSseEvent).join(''));
    expect(message).toMatchObject({ model: 'claude-opus-4-1', content: [{ type: 'text', text: 'hello there' }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 5 } });
  });
});
