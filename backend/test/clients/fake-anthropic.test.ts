/**
 * Conformance of the fake Anthropic server (test/fakes/anthropic.ts) against the official SDKs,
 * driven directly (no proxy). If the SDKs reassemble the fake's SSE into exactly the message it
 * was built from, and map its errors as they map Anthropic's, the proxy's integration tests can
 * trust the fake.
 */
import Anthropic from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import {
  buildMessage,
  cachedUsage,
  encodeSse,
  errorBody,
  errorEvent,
  messageToEvents,
  textMessage,
  thinkingToolUseMessage,
  type AnthropicMessage,
  type SseEvent,
} from '../fakes/anthropic-messages.ts';

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
});

const params = { model: 'claude-opus-5-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'say hi' }] };

/** What both SDK majors share, wrapped so one table of tests drives each. */
interface Sdk {
  create(opts?: { maxRetries?: number; signal?: AbortSignal }): Promise<unknown>;
  /** `messages.stream(...).finalMessage()`, plus every stream event the SDK parsed, in order. */
  stream(): Promise<{ final: unknown; seen: unknown[] }>;
  countTokens(): Promise<{ input_tokens: number }>;
  errors: { APIError: abstract new (...args: never[]) => Error; RateLimitError: abstract new (...args: never[]) => Error; Overloaded: abstract new (...args: never[]) => Error; APIUserAbortError: abstract new (...args: never[]) => Error };
  auth: { header: string; value: string; version: string };
}

const sdks: { name: string; make: (url: string) => Sdk }[] = [
  {
    name: '@anthropic-ai/sdk 1.x',
    make: (url) => {
      const client = (maxRetries = 0) => new Anthropic({ baseURL: url, apiKey: 'dummy', maxRetries });
      return {
        create: (o = {}) => client(o.maxRetries).messages.create(params, { signal: o.signal }),
        stream: async () => {
          const seen: unknown[] = [];
          const s = client().messages.stream(params).on('streamEvent', (e) => void seen.push(structuredClone(e)));
          return { final: await s.finalMessage(), seen };
        },
        countTokens: () => client().messages.countTokens({ model: params.model, messages: params.messages }),
        errors: { APIError: Anthropic.APIError, RateLimitError: Anthropic.RateLimitError, Overloaded: Anthropic.OverloadedError, APIUserAbortError: Anthropic.APIUserAbortError },
        auth: { header: 'authorization', value: 'Bearer dummy', version: '2026-10-21' },
      };
    },
  },
  {
    name: 'anthropic-sdk 0.137',
    make: (url) => {
      const client = (maxRetries = 0) => new Anthropic0({ baseURL: url, apiKey: 'dummy', maxRetries });
      return {
        create: (o = {}) => client(o.maxRetries).messages.create(params, { signal: o.signal }),
        stream: async () => {
          const seen: unknown[] = [];
          const s = client().messages.stream(params).on('streamEvent', (e) => void seen.push(structuredClone(e)));
          return { final: await s.finalMessage(), seen };
        },
        countTokens: () => client().messages.countTokens({ model: params.model, messages: params.messages }),
        // 0.x has no OverloadedError: a 529 is an InternalServerError with type overloaded_error.
        errors: { APIError: Anthropic0.APIError, RateLimitError: Anthropic0.RateLimitError, Overloaded: Anthropic0.InternalServerError, APIUserAbortError: Anthropic0.APIUserAbortError },
        auth: { header: 'x-api-key', value: 'dummy', version: '2023-06-01' },
      };
    },
  },
];

/** The SDK's final message as plain JSON, minus the `parsed_output: null` its helper adds. */
function plain(final: unknown): unknown {
  const { parsed_output, ...rest } = JSON.parse(JSON.stringify(final)) as Record<string, unknown>;
  expect(parsed_output).toBeNull();
  return rest;
}

async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe.each(sdks)('$name against the fake', ({ make }) => {
  let sdk: Sdk;
  beforeEach(() => {
    sdk = make(fake.url);
  });

  it('messages.create returns the scripted message and the fake records the request', async () => {
    const message = textMessage({ text: 'hi there' });
    fake.reply({ kind: 'json', body: message });
    expect(await sdk.create()).toEqual(message);

    const req = await fake.nextRequest();
    expect(req).toMatchObject({ index: 0, requestId: 'req_fake_0', method: 'POST', url: '/v1/messages', clientClosedEarly: false });
    expect(req.json).toEqual(params);
    expect(req.body.toString()).toBe(JSON.stringify(params));
    expect(req.headers[sdk.auth.header]).toBe(sdk.auth.value);
    expect(req.headers['anthropic-version']).toBe(sdk.auth.version);
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('streams a text message that finalMessage() reassembles exactly, pings ignored', async () => {
    const message = textMessage({ text: 'Streaming works, one delta at a time. ✓ 🚀' });
    const events = messageToEvents(message, { textChunks: 5, pingEvery: 1 });
    fake.reply({ kind: 'stream', events });
    const { final, seen } = await sdk.stream();
    expect(plain(final)).toStrictEqual(message);
    expect(seen).toEqual(events.filter((e) => e.event !== 'ping').map((e) => e.data));
    expect(fake.requests[0]?.json).toMatchObject({ stream: true });
  });

  it('streams thinking + signature + redacted_thinking + tool_use into a deep-equal message', async () => {
    const message = thinkingToolUseMessage({
      redacted: true,
      tool: { name: 'Read', input: { file_path: '/home/user/project/src/main.ts', offset: 10, nested: { ok: [1, 'two', null] } } },
    });
    const events = messageToEvents(message, { textChunks: 4, jsonChunks: 5 });
    fake.reply({ kind: 'stream', events, delayMs: 1 });
    const { final, seen } = await sdk.stream();
    expect(plain(final)).toStrictEqual(message);
    expect(seen).toHaveLength(events.length);
    expect(final).toMatchObject({ stop_reason: 'tool_use' });
  });

  it('carries cache usage fields, streamed and not', async () => {
    const usage = cachedUsage({ inputTokens: 7, outputTokens: 33, cacheReadTokens: 4096, cacheWrite5mTokens: 512, cacheWrite1hTokens: 2048 });
    const message = textMessage({ usage });
    fake.reply({ kind: 'stream', events: messageToEvents(message) }, { kind: 'json', body: message });
    const { final } = await sdk.stream();
    const expected = {
      input_tokens: 7,
      output_tokens: 33,
      cache_read_input_tokens: 4096,
      cache_creation_input_tokens: 2560,
      cache_creation: { ephemeral_5m_input_tokens: 512, ephemeral_1h_input_tokens: 2048 },
    };
    expect((final as AnthropicMessage).usage).toMatchObject(expected);
    expect(((await sdk.create()) as AnthropicMessage).usage).toMatchObject(expected);
  });

  it('answers count_tokens by default', async () => {
    const count = await sdk.countTokens();
    const req = fake.requests[0];
    expect(req?.url).toBe('/v1/messages/count_tokens');
    expect(count).toEqual({ input_tokens: Math.ceil((req?.body.length ?? 0) / 4) });
  });

  it('turns a 529 with x-should-retry: false into the overloaded error, not retried', async () => {
    fake.reply(errorReply(529, 'overloaded_error', 'Overloaded', { 'x-should-retry': 'false' }));
    const err = await rejection(sdk.create({ maxRetries: 3 }));
    expect(err).toBeInstanceOf(sdk.errors.Overloaded);
    expect(err).toMatchObject({ status: 529, requestID: 'req_fake_0', type: 'overloaded_error' });
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(fake.requests).toHaveLength(1);
  });

  it('turns a 429 into a RateLimitError carrying retry-after, and honours it when retrying', async () => {
    fake.reply(errorReply(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '7' }));
    const err = await rejection(sdk.create());
    expect(err).toBeInstanceOf(sdk.errors.RateLimitError);
    expect(err).toMatchObject({ status: 429, requestID: 'req_fake_0' });
    expect((err.headers as Headers).get('retry-after')).toBe('7');
    expect((err.headers as Headers).get('anthropic-ratelimit-requests-limit')).toBeNull(); // only on success

    fake.reply(errorReply(429, 'rate_limit_error', 'slow down', { 'retry-after': '0.2' }));
    const started = Date.now();
    await expect(sdk.create({ maxRetries: 1 })).resolves.toMatchObject({ type: 'message' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[2]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('throws an APIError for an `event: error` mid-stream', async () => {
    const events = messageToEvents(textMessage({ text: 'partial answer' }));
    fake.reply({ kind: 'stream', events: [...events.slice(0, 3), errorEvent('overloaded_error', 'Overloaded')] });
    const err = await rejection(sdk.stream());
    expect(err).toBeInstanceOf(sdk.errors.APIError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('makes the SDK throw when dropAfter cuts the stream', async () => {
    fake.reply({ kind: 'stream', events: messageToEvents(thinkingToolUseMessage()), dropAfter: 5 });
    // undici's fetch reports the cut body as `TypeError: terminated`; the SDK rethrows it.
    await expect(sdk.stream()).rejects.toThrow(/terminated/);
    expect(fake.requests[0]?.clientClosedEarly).toBe(false); // the server hung up, not the client
  });

  it('resolves requestClosed when the client aborts a hanging request', async () => {
    fake.reply({ kind: 'hang' });
    const ac = new AbortController();
    const pending = sdk.create({ signal: ac.signal });
    await fake.nextRequest();
    ac.abort();
    await expect(pending).rejects.toBeInstanceOf(sdk.errors.APIUserAbortError);
    await fake.requestClosed(0);
    expect(fake.requests[0]?.clientClosedEarly).toBe(true);
  });
});

describe('the fake server itself', () => {
  it('serves the default stream with Anthropic headers, one write per event', async () => {
    const res = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...params, model: 'claude-haiku-5-5', stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('request-id')).toBe('req_fake_0');
    expect(res.headers.get('anthropic-ratelimit-requests-remaining')).toBe('3999');
    expect(res.headers.get('anthropic-ratelimit-tokens-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const text = await res.text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names[0]).toBe('message_start');
    expect(names.at(-1)).toBe('message_stop');
    expect(text).toContain('"model":"claude-haiku-5-5"');
    expect(fake.requests[0]?.url).toBe('/v1/messages?beta=true');
  });

  it('paces events with firstByteDelayMs and delayMs', async () => {
    const events = messageToEvents(textMessage({ text: 'abc' }), { textChunks: 3 });
    fake.reply({ kind: 'stream', events, firstByteDelayMs: 150, delayMs: 30 });
    const started = Date.now();
    const res = await fetch(`${fake.url}/v1/messages`, { method: 'POST', body: '{}' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const arrivals: number[] = [];
    const chunks: Buffer[] = [];
    for await (const chunk of res.body ?? []) {
      arrivals.push(Date.now());
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    expect(Buffer.concat(chunks).equals(encodeSse(events))).toBe(true);
    // Each event is its own paced write; a busy reader may still see two merged in the socket buffer.
    expect(arrivals.length).toBeGreaterThanOrEqual(Math.ceil(events.length / 2));
    expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(30 * (events.length - 1) - 10);
  });

  it('answers 404 not_found_error for other paths and 400 for a body that is not JSON', async () => {
    const notFound = await fetch(`${fake.url}/v1/complete`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual(errorBody('not_found_error', 'Not Found', 'req_fake_0'));
    const bad = await fetch(`${fake.url}/v1/messages`, { method: 'POST', body: 'nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: 'req_fake_1' });
    expect(fake.requests[1]?.json).toBeUndefined();
  });

  it('takes scripted replies in order, functions included, then falls back to the default', async () => {
    fake.reply(
      { kind: 'raw', status: 502, headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>bad gateway</html>') },
      (req) => ({ kind: 'json', body: { echoed: req.json } }),
    );
    expect(fake.pendingReplies()).toBe(2);
    const post = (body: string) => fetch(`${fake.url}/v1/messages`, { method: 'POST', body });
    const raw = await post('{"a":1}');
    expect([raw.status, raw.headers.get('content-type'), await raw.text()]).toEqual([502, 'text/html', '<html>bad gateway</html>']);
    expect(await (await post('{"b":2}')).json()).toEqual({ echoed: { b: 2 } });
    expect(await (await post(JSON.stringify(params))).json()).toMatchObject({ type: 'message', model: 'claude-opus-5-5' });
    expect(fake.pendingReplies()).toBe(0);
    expect((await fake.nextRequest()).index).toBe(0);
    expect((await fake.nextRequest()).index).toBe(1);
  });

  it('notices a client that goes away mid-stream and stops writing', async () => {
    fake.reply({ kind: 'stream', events: messageToEvents(textMessage({ text: 'a slow answer' }), { textChunks: 10 }), delayMs: 50 });
    const ac = new AbortController();
    const res = await fetch(`${fake.url}/v1/messages`, { method: 'POST', body: '{}', signal: ac.signal });
    const reader = res.body?.getReader();
    await reader?.read(); // message_start
    ac.abort();
    await fake.requestClosed(0);
    expect(fake.requests[0]?.clientClosedEarly).toBe(true);
  });

  it('close() ends hanging requests so nothing leaks', async () => {
    fake.reply({ kind: 'hang' });
    const pending = fetch(`${fake.url}/v1/messages`, { method: 'POST', body: '{}' });
    await fake.nextRequest();
    await fake.close();
    await expect(pending).rejects.toThrow();
    expect(fake.requests[0]?.clientClosedEarly).toBe(false);
  });
});

describe('messageToEvents and encodeSse', () => {
  const events = (m: AnthropicMessage, o?: Parameters<typeof messageToEvents>[1]): SseEvent[] => messageToEvents(m, o);
  const deltas = (list: SseEvent[], index: number): unknown[] =>
    list
      .map((e) => e.data as { type: string; index?: number; delta?: unknown })
      .filter((d) => d.type === 'content_block_delta' && d.index === index)
      .map((d) => d.delta);

  it('follows the Anthropic event order', () => {
    const message = thinkingToolUseMessage({ redacted: true, usage: cachedUsage() });
    const list = events(message);
    const names = list.map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
    for (const e of list) expect((e.data as { type: string }).type).toBe(e.event);

    const start = list[0]?.data as { message: AnthropicMessage };
    expect(start.message).toMatchObject({ content: [], stop_reason: null, stop_sequence: null });
    expect(start.message.usage).toEqual({ ...message.usage, output_tokens: 1 });

    const thinking = deltas(list, 0);
    expect(thinking.at(-1)).toEqual({ type: 'signature_delta', signature: message.content[0]?.signature });
    expect(thinking.slice(0, -1).every((d) => (d as { type: string }).type === 'thinking_delta')).toBe(true);
    expect(deltas(list, 1)).toEqual([]); // redacted_thinking comes whole in its start
    expect(list.find((e) => (e.data as { index?: number }).index === 1)?.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: message.content[1],
    });
    const json = deltas(list, 3) as { partial_json: string }[];
    expect(json[0]).toEqual({ type: 'input_json_delta', partial_json: '' });
    expect(JSON.parse(json.map((d) => d.partial_json).join(''))).toEqual(message.content[3]?.input);

    const delta = list.at(-2)?.data as { delta: unknown; usage: Record<string, unknown> };
    expect(delta.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    expect(delta.usage).toEqual({
      output_tokens: message.usage.output_tokens,
      input_tokens: message.usage.input_tokens,
      cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
      cache_read_input_tokens: message.usage.cache_read_input_tokens,
    });
  });

  it('sends an empty tool input as one empty fragment, and pings where asked', () => {
    const message = buildMessage({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'Noop', input: {} }], stop_reason: 'tool_use' });
    const list = events(message, { pingEvery: 2 });
    expect(deltas(list, 0)).toEqual([{ type: 'input_json_delta', partial_json: '' }]);
    expect(list.filter((e) => e.event === 'ping')).toHaveLength(2); // after events 2 and 4 of 6
    expect(list.at(-1)?.event).toBe('message_stop');
  });

  it('frames each event as `event: <name>\\ndata: <json>\\n\\n`', () => {
    expect(encodeSse([{ event: 'ping', data: { type: 'ping' } }, { event: 'message_stop', data: { type: 'message_stop' } }]).toString()).toBe(
      'event: ping\ndata: {"type":"ping"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });
});
