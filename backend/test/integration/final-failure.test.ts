import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';

// Anthropic sends nothing before its first-byte timeout, so the client already has a 200 stream of
// pings, and then Bedrock fails too. The stream ends with an SSE error; Claude Code's re-send of the
// same conversation without streaming gets the same failure at once, as JSON with
// `x-should-retry: false`, without another round of both upstreams.

let stack: FallbackStack;
let base: string;

beforeAll(async () => {
  stack = await startFallbackStack({ BEDROCK_API: 'invoke', PLAN_FIRST_BYTE_TIMEOUT: '0.5', STREAM_PING_INTERVAL: '0.1' });
  base = `${stack.baseUrl}/v1/messages`;
});
afterAll(() => stack?.close());

const conversation = { model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'hi' }] };
const post = (body: object) => request(base, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-api-key': 'sk-dev' } });

describe('both upstreams fail after keep-alive pings', () => {
  it.each([
    ['ThrottlingException', 429, 'rate_limit_error', 'rate_limit_error'],
    // An overloaded_error on a stream makes Claude Code stream again before it re-sends: told as api_error.
    ['ServiceUnavailableException', 529, 'overloaded_error', 'api_error'],
  ])('%s: an SSE error, then the re-send is answered at once with x-should-retry: false', async (exception, status, type, streamedType) => {
    const { anthropic, bedrock } = stack;
    anthropic.reply({ kind: 'hang' });
    bedrock.reply('invoke-with-response-stream', { error: { name: exception, message: `Bedrock says ${exception}` } });
    const upstreamCalls = () => anthropic.requests.length + bedrock.requests.length;
    const before = upstreamCalls();

    const streamed = await post({ ...conversation, max_tokens: 128000, stream: true });
    expect(streamed.statusCode).toBe(200);
    const text = await streamed.body.text();
    expect(text.startsWith('event: ping\n')).toBe(true);
    const error = JSON.parse(/event: error\ndata: (.*)\n/.exec(text)![1]!) as { error: { type: string; message: string } };
    expect(error.error).toEqual({ type: streamedType, message: `Bedrock says ${exception}` });
    expect(upstreamCalls()).toBe(before + 2);

    const resent = await post({ ...conversation, max_tokens: 64000, stream: false });
    expect(resent.statusCode).toBe(status);
    expect(resent.headers['x-should-retry']).toBe('false');
    expect(((await resent.body.json()) as { error: { type: string } }).error.type).toBe(type);
    expect(upstreamCalls()).toBe(before + 2);

    // Remembered once: a later request of the same conversation tries the upstreams again.
    anthropic.reply({ kind: 'json', body: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-opus-5-5', content: [{ type: 'text', text: 'back' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } });
    const again = await post({ ...conversation, max_tokens: 64000, stream: false });
    expect(again.statusCode).toBe(200);
    await again.body.dump();
    expect(upstreamCalls()).toBe(before + 3);
  });
});
