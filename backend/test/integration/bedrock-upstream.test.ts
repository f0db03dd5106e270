/**
 * The Bedrock edge (src/bedrock/upstream.ts + client.ts) against the fake Bedrock over real
 * sockets, in each mode, streaming and not: what the router gets must look exactly like
 * Anthropic (the requested model, a `msg_` id, SSE with `event:` lines, cache usage), the fake must
 * have seen the Bearer key on the right URL, failures before the first byte must reject with the
 * mapped status, later ones must end the stream with one `event: error`, and an abort must close
 * Bedrock's socket. No database.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { stdSerializers } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AnthropicRequest } from '../../src/anthropic/wire.ts';
import { BedrockConfigError, createBedrockClients } from '../../src/bedrock/client.ts';
import { createSseParser } from '../../src/anthropic/sse.ts';
import {
  BedrockCallError,
  createBedrockUpstream,
  type BedrockCall,
  type BedrockMode,
  type BedrockResponse,
  type BedrockUpstream,
} from '../../src/bedrock/upstream.ts';
import { cachedUsage, messageToEvents, thinkingToolUseMessage } from '../fakes/anthropic-messages.ts';
import { anthropicTextEvents, startFakeBedrock, type FakeBedrock, type FakeBedrockReply, type FakeFrame } from '../fakes/bedrock.ts';

const MODES: BedrockMode[] = ['invoke', 'converse', 'messages'];
const KEY = 'bedrock-api-key-ABSKQmVkcm9ja1Rlc3RLZXk=';
const REQUESTED = 'claude-sonnet-4-5';
const MODEL_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const SIGNATURE = 'EqMBCkYIBxgCKkBTaWduYXR1cmVPZlRoZUJlZHJvY2tUaGlua2luZ0Jsb2NrMDAwMDAwMDA=';

let fake: FakeBedrock;
const upstreams = {} as Record<BedrockMode, BedrockUpstream>;

beforeAll(async () => {
  fake = await startFakeBedrock();
  for (const mode of MODES) upstreams[mode] = createBedrockUpstream({ mode, endpoint: fake.url, auth: 'bearer' });
});
afterEach(() => fake.reset());
afterAll(async () => {
  await Promise.all(MODES.map((mode) => upstreams[mode].close()));
  await fake.close();
});

function call(overrides: Partial<BedrockCall> = {}): BedrockCall {
  const request: AnthropicRequest = {
    model: REQUESTED,
    max_tokens: 1024,
    thinking: { type: 'enabled', budget_tokens: 512 },
    messages: [{ role: 'user', content: 'Read the README' }],
  };
  return {
    request,
    betaHeader: 'claude-code-20250219,interleaved-thinking-2025-05-14',
    stream: false,
    apiKey: KEY,
    region: 'us-east-1',
    mappings: [],
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<BedrockCallError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BedrockCallError);
    return err as BedrockCallError;
  }
  throw new Error('expected a BedrockCallError');
}

async function readAll(response: BedrockResponse): Promise<string> {
  if (response.kind !== 'stream') throw new Error(`expected a stream, got ${response.kind}`);
  let text = '';
  for await (const chunk of response.events) text += chunk;
  return text;
}

/** Every event has an `event:` line equal to its data's `type`. */
function parseSse(text: string): Array<{ type: string; [field: string]: any }> {
  const parser = createSseParser();
  const events = [...parser.push(text), ...parser.end()];
  return events.map((e) => {
    const data = JSON.parse(e.data) as { type: string };
    expect(e.event).toBe(data.type);
    return data;
  });
}

/** The SSE text as the official SDK assembles it (through an in-memory fetch). */
function assemble(sse: string) {
  const fetch = async () => new Response(sse, { status: 200, headers: { 'content-type': 'text/event-stream', 'request-id': 'req_1' } });
  return new Anthropic({ apiKey: 'k', maxRetries: 0, fetch }).messages
    .stream({ model: REQUESTED, max_tokens: 1024, messages: [{ role: 'user', content: 'Read the README' }] })
    .finalMessage();
}

// ---------------------------------------------------------------------------------------------
// One answer — signed thinking, text, a tool call with its input in chunks, cache reads and
// 5m/1h writes — in each mode's own wire form.

const usage = cachedUsage({ inputTokens: 9, outputTokens: 40, cacheReadTokens: 5400, cacheWrite5mTokens: 1200, cacheWrite1hTokens: 300 });
const tool = { id: 'toolu_bdrk_01Xw3dWqg7tXqGSg1d9ViC7H', name: 'Read', input: { file_path: '/repo/README.md', limit: 200 } };
const nativeMessage = {
  ...thinkingToolUseMessage({ model: MODEL_ID, thinking: 'The user wants the README.', signature: SIGNATURE, text: "I'll read it first.", tool }),
  id: 'msg_bdrk_01HtXq8YkTq2Vw9Ld3Pz5Rb7',
  usage,
};
const expectedContent = [
  // Marked as Bedrock's on the way out (thinking-provenance.ts).
  { type: 'thinking', thinking: 'The user wants the README.', signature: `ccproxy-bedrock:${SIGNATURE}` },
  { type: 'text', text: "I'll read it first." },
  { type: 'tool_use', id: tool.id, name: 'Read', input: tool.input },
];
const expectedUsage = { inputTokens: 9, outputTokens: 40, cacheReadTokens: 5400, cacheWrite5mTokens: 1200, cacheWrite1hTokens: 300 };

const converseUsage = {
  inputTokens: 9,
  outputTokens: 40,
  totalTokens: 6949,
  cacheReadInputTokens: 5400,
  cacheWriteInputTokens: 1500,
  cacheDetails: [
    { ttl: '5m', inputTokens: 1200 },
    { ttl: '1h', inputTokens: 300 },
  ],
};

const converseFrames: FakeFrame[] = [
  { event: 'messageStart', payload: { role: 'assistant' } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'The user wants ' } } } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'the README.' } } } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { reasoningContent: { signature: SIGNATURE } } } },
  { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { text: "I'll read " } } },
  { event: 'contentBlockDelta', payload: { contentBlockIndex: 1, delta: { text: 'it first.' } } },
  { event: 'contentBlockStop', payload: { contentBlockIndex: 1 } },
  { event: 'contentBlockStart', payload: { contentBlockIndex: 2, start: { toolUse: { toolUseId: tool.id, name: 'Read' } } } },
  ...['{"file_path":', '"/repo/README', '.md","limit":200}'].map(
    (input): FakeFrame => ({ event: 'contentBlockDelta', payload: { contentBlockIndex: 2, delta: { toolUse: { input } } } }),
  ),
  { event: 'contentBlockStop', payload: { contentBlockIndex: 2 } },
  { event: 'messageStop', payload: { stopReason: 'tool_use' } },
  { event: 'metadata', payload: { usage: converseUsage, metrics: { latencyMs: 420 } } },
];

/** Anthropic events as Bedrock's native paths send them: tool input in 4 chunks, metrics on message_stop. */
function nativeEvents(): Array<Record<string, unknown> & { type: string }> {
  const events = messageToEvents(nativeMessage, { jsonChunks: 4, textChunks: 2 }).map((e) => e.data as Record<string, unknown> & { type: string });
  const last = events[events.length - 1]!;
  last['amazon-bedrock-invocationMetrics'] = { inputTokenCount: 9, outputTokenCount: 40, invocationLatency: 420, firstByteLatency: 90 };
  return events;
}

function richReply(mode: BedrockMode, stream: boolean): FakeBedrockReply {
  if (mode === 'converse') {
    if (stream) return { frames: converseFrames };
    return {
      body: {
        output: {
          message: {
            role: 'assistant',
            content: [
              { reasoningContent: { reasoningText: { text: 'The user wants the README.', signature: SIGNATURE } } },
              { text: "I'll read it first." },
              { toolUse: { toolUseId: tool.id, name: 'Read', input: tool.input } },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: converseUsage,
        metrics: { latencyMs: 420 },
      },
    };
  }
  if (!stream) return { body: nativeMessage };
  return mode === 'invoke' ? { frames: nativeEvents().map((chunk) => ({ chunk })) } : { sse: nativeEvents() };
}

const operationOf = (mode: BedrockMode, stream: boolean) =>
  mode === 'messages' ? 'messages' : mode === 'invoke' ? (stream ? 'invoke-with-response-stream' : 'invoke') : stream ? 'converse-stream' : 'converse';

const pathOf = (mode: BedrockMode, stream: boolean) =>
  mode === 'messages' ? '/anthropic/v1/messages' : `/model/${encodeURIComponent(MODEL_ID)}/${operationOf(mode, stream)}`;

describe.each(MODES)('Bedrock %s mode', (mode) => {
  it.each([false, true])('serves thinking with its signature, text, a chunked tool call and cache usage (stream: %s)', async (stream) => {
    fake.reply(operationOf(mode, stream), richReply(mode, stream));
    const response = await upstreams[mode].send(call({ stream }));

    expect(response.servedModel).toBe(MODEL_ID);
    let message: Record<string, any>;
    if (stream) {
      const sse = await readAll(response);
      const events = parseSse(sse);
      expect(events[0]!.type).toBe('message_start');
      expect(events.at(-1)!.type).toBe('message_stop');
      expect(events.at(-1)).not.toHaveProperty(['amazon-bedrock-invocationMetrics']);
      expect(events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta').length).toBeGreaterThan(1);
      message = (await assemble(sse)) as unknown as Record<string, any>;
    } else {
      expect(response.kind).toBe('json');
      message = JSON.parse((response as { body: string }).body);
      expect(message).not.toHaveProperty(['amazon-bedrock-invocationMetrics']);
    }

    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: REQUESTED, stop_reason: 'tool_use', stop_sequence: null });
    expect(message.id).toMatch(mode === 'converse' ? /^msg_bdrk_01[0-9A-Za-z]{22}$/ : /^msg_bdrk_01HtXq8YkTq2Vw9Ld3Pz5Rb7$/);
    expect(message.content).toEqual(expectedContent);
    expect(message.usage).toMatchObject({
      input_tokens: 9,
      output_tokens: 40,
      cache_read_input_tokens: 5400,
      cache_creation_input_tokens: 1500,
    });
    expect(response.usage()).toEqual(expectedUsage);
    expect(response.stopReason()).toBe('tool_use');
    expect(response.failure()).toBeUndefined();

    const [seen] = fake.requests;
    expect(fake.requests).toHaveLength(1);
    expect(seen!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen!.url).toBe(pathOf(mode, stream));
    expect(seen!.modelId).toBe(MODEL_ID);
    const body = seen!.json as Record<string, any>;
    if (mode === 'invoke') {
      expect(body).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['interleaved-thinking-2025-05-14'] });
      expect(body).not.toHaveProperty('model');
      expect(body).not.toHaveProperty('stream');
    } else if (mode === 'converse') {
      expect(body.additionalModelRequestFields).toMatchObject({ anthropic_beta: ['interleaved-thinking-2025-05-14'], thinking: { type: 'enabled' } });
    } else {
      expect(body).toMatchObject({ model: MODEL_ID, anthropic_version: 'bedrock-2023-05-31' });
      expect(body.stream).toBe(stream ? true : undefined);
      expect(seen!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    }
    expect(await seen!.ended).toBe('finished');
  });

  it('streams a plain text answer as Anthropic SSE', async () => {
    const response = await upstreams[mode].send(call({ stream: true }));
    const message = await assemble(await readAll(response));
    expect(message.content).toEqual([{ type: 'text', text: 'hello from bedrock' }]);
    expect(message.model).toBe(REQUESTED);
    expect(response.usage()).toMatchObject({ inputTokens: 12, outputTokens: 5 });
    expect(response.stopReason()).toBe('end_turn');
  });

  it.each([
    ['ThrottlingException', 429, 'rate_limit_error', 'BEDROCK_THROTTLED'],
    ['ValidationException', 400, 'invalid_request_error', 'BEDROCK_VALIDATION'],
    ['AccessDeniedException', 403, 'permission_error', 'BEDROCK_ACCESS_DENIED'],
    ['ServiceUnavailableException', 529, 'overloaded_error', 'BEDROCK_UNAVAILABLE'],
  ])('an HTTP %s rejects before the first byte as %i %s', async (name, status, type, code) => {
    for (const stream of [false, true]) {
      fake.reply('*', { error: { name, message: `${name} from Bedrock` } });
      const err = await rejection(upstreams[mode].send(call({ stream })));
      expect(err.beforeFirstByte).toBe(true);
      expect(err.failure).toEqual({ status, type, code, message: `${name} from Bedrock`, exception: name });
      expect(err.status).toBe(status);
      expect(JSON.stringify(stdSerializers.err(err))).not.toContain(KEY); // safe to log
    }
    expect(fake.requests).toHaveLength(2); // no SDK retries
  });

  it('rejects a stream whose first event is an exception as a clean HTTP error', async () => {
    const reply: FakeBedrockReply =
      mode === 'messages'
        ? { sse: [{ type: 'error', error: { type: 'overloaded_error', message: 'Bedrock is overloaded' } }] }
        : { frames: [{ exception: 'throttlingException', message: 'Too many tokens, please wait' }] };
    fake.reply('*', reply);
    const err = await rejection(upstreams[mode].send(call({ stream: true })));
    if (mode === 'messages') expect(err.failure).toMatchObject({ status: 529, type: 'overloaded_error', message: 'Bedrock is overloaded' });
    else expect(err.failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'BEDROCK_THROTTLED', message: 'Too many tokens, please wait' });
  });

  it('ends a stream that fails midway with one error event, recorded in failure()', async () => {
    const reply: FakeBedrockReply =
      mode === 'converse'
        ? { frames: [...converseFrames.slice(0, 6), { exception: 'modelStreamErrorException', message: 'The model stream broke' }] }
        : mode === 'invoke'
          ? { frames: [...nativeEvents().slice(0, 4).map((chunk) => ({ chunk })), { exception: 'modelStreamErrorException', message: 'The model stream broke' }] }
          : { sse: [...nativeEvents().slice(0, 4), { type: 'error', error: { type: 'api_error', message: 'The model stream broke' } }] };
    fake.reply('*', reply);
    const response = await upstreams[mode].send(call({ stream: true }));
    const events = parseSse(await readAll(response));
    expect(events[0]!.type).toBe('message_start');
    expect(events.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: 'The model stream broke' } });
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(events.some((e) => e.type === 'message_stop')).toBe(false);
    expect(response.failure()).toMatchObject({ status: 500, type: 'api_error', message: 'The model stream broke' });
  });

  it('ends a stream whose connection drops midway with an error event', async () => {
    const frames = mode === 'converse' ? { frames: converseFrames } : mode === 'invoke' ? { frames: nativeEvents().map((chunk) => ({ chunk })) } : { sse: nativeEvents() };
    fake.reply('*', { ...frames, destroyAfterFrames: 3, frameDelayMs: 15 });
    const response = await upstreams[mode].send(call({ stream: true }));
    const events = parseSse(await readAll(response));
    expect(events.at(-1)!.type).toBe('error');
    expect(response.failure()).toMatchObject({ status: expect.any(Number), type: expect.any(String) });
    expect(response.failure()!.code).not.toBe('BEDROCK_ABORTED');
  });

  it('aborts Bedrock at once when the client goes away mid-stream', async () => {
    const frames = Array.from({ length: 40 }, (_, i) => anthropicTextEvents(`word ${i} `)[2]!);
    const native = [anthropicTextEvents('')[0]!, anthropicTextEvents('')[1]!, ...frames];
    const reply: FakeBedrockReply =
      mode === 'converse'
        ? { frames: [converseFrames[0]!, ...Array.from({ length: 40 }, (_, i): FakeFrame => ({ event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: `word ${i} ` } } }))] }
        : mode === 'invoke'
          ? { frames: native.map((chunk) => ({ chunk })) }
          : { sse: native };
    fake.reply('*', { ...reply, frameDelayMs: 25 });
    const controller = new AbortController();
    const response = await upstreams[mode].send(call({ stream: true, signal: controller.signal }));
    let chunks = 0;
    const started = performance.now();
    if (response.kind !== 'stream') throw new Error('expected a stream');
    for await (const _chunk of response.events) {
      if (++chunks === 3) controller.abort();
    }
    expect(chunks).toBeLessThan(6);
    expect(await fake.requests[0]!.ended).toBe('closed');
    expect(performance.now() - started).toBeLessThan(500);
    expect(response.failure()).toMatchObject({ code: 'BEDROCK_ABORTED' });
  });

  it('releases Bedrock when the consumer stops reading early', async () => {
    const reply: FakeBedrockReply =
      mode === 'converse'
        ? { frames: converseFrames }
        : mode === 'invoke'
          ? { frames: nativeEvents().map((chunk) => ({ chunk })) }
          : { sse: nativeEvents() };
    fake.reply('*', { ...reply, frameDelayMs: 40 });
    const response = await upstreams[mode].send(call({ stream: true }));
    if (response.kind !== 'stream') throw new Error('expected a stream');
    for await (const _chunk of response.events) break;
    expect(await fake.requests[0]!.ended).toBe('closed');
    expect(response.failure()).toMatchObject({ code: 'BEDROCK_ABORTED' });
  });

  it('rejects an unknown model with a 400 naming it, without calling Bedrock', async () => {
    const request: AnthropicRequest = { model: 'claude-imaginary-9', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    const err = await rejection(upstreams[mode].send(call({ request })));
    expect(err.failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'BEDROCK_MODEL_UNKNOWN' });
    expect(err.message).toContain('claude-imaginary-9');
    expect(fake.requests).toHaveLength(0);
  });

  it('uses an admin mapping row over the shipped default', async () => {
    const mappings = [{ model: REQUESTED, baseId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', geographies: [] }];
    const response = await upstreams[mode].send(call({ mappings }));
    expect(response.servedModel).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(fake.requests[0]!.modelId).toBe('eu.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(JSON.parse((response as { body: string }).body).model).toBe(REQUESTED);
  });

  it('refuses a call without a Bedrock API key in bearer mode', async () => {
    const err = await rejection(upstreams[mode].send(call({ apiKey: null })));
    expect(err.failure).toMatchObject({ status: 403, type: 'permission_error', code: 'BEDROCK_KEY_MISSING' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('transport and configuration', () => {
  it.each(MODES)('a connection refused by Bedrock rejects as 502 (%s)', async (mode) => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const upstream = createBedrockUpstream({ mode, endpoint: `http://127.0.0.1:${port}`, auth: 'bearer' });
    try {
      for (const stream of [false, true]) {
        const err = await rejection(upstream.send(call({ stream })));
        expect(err.failure).toMatchObject({ status: 502, type: 'api_error', code: 'BEDROCK_UNREACHABLE' });
        expect(err.message).not.toContain(String(port));
      }
    } finally {
      await upstream.close();
    }
  });

  it('a client already gone rejects without calling Bedrock', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(upstreams.invoke.send(call({ stream: true, signal: controller.signal })));
    expect(err.failure.code).toBe('BEDROCK_ABORTED');
  });

  it('signs with SigV4 from the default credential chain when BEDROCK_AUTH=sigv4 and the key has no Bedrock key', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKEFAKE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret');
    const upstream = createBedrockUpstream({ mode: 'invoke', endpoint: fake.url, auth: 'sigv4' });
    try {
      await upstream.send(call({ apiKey: null }));
      expect(fake.requests[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE\/\d{8}\/us-east-1\/bedrock\//);
      await upstream.send(call({ apiKey: KEY }));
      expect(fake.requests[1]!.headers.authorization).toBe(`Bearer ${KEY}`);
    } finally {
      vi.unstubAllEnvs();
      await upstream.close();
    }
  });

  it.each(['invoke', 'converse'] as const)('calls Bedrock without the AWS SDK when the call has a Bedrock API key (%s)', async (mode) => {
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send');
    try {
      for (const stream of [false, true]) {
        fake.reply(operationOf(mode, stream), richReply(mode, stream));
        const response = await upstreams[mode].send(call({ stream }));
        if (stream) await readAll(response);
        expect(response.failure()).toBeUndefined();
        expect(response.upstreamRequestId).toMatch(/^00000000-0000-4000-8000-/);
      }
      expect(send).not.toHaveBeenCalled();
      expect(fake.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    } finally {
      send.mockRestore();
    }
  });

  it.each(['invoke', 'converse'] as const)('signs with SigV4 through the AWS SDK, streaming and not (%s)', async (mode) => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKEFAKE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret');
    const upstream = createBedrockUpstream({ mode, endpoint: fake.url, auth: 'sigv4' });
    const send = vi.spyOn(BedrockRuntimeClient.prototype, 'send');
    try {
      for (const stream of [false, true]) {
        fake.reply(operationOf(mode, stream), richReply(mode, stream));
        const response = await upstream.send(call({ apiKey: null, stream }));
        const message = stream ? await assemble(await readAll(response)) : JSON.parse((response as { body: string }).body);
        expect(message.content).toEqual(expectedContent);
        expect(response.usage()).toEqual(expectedUsage);
      }
      expect(send).toHaveBeenCalledTimes(2);
      for (const seen of fake.requests) expect(seen.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    } finally {
      send.mockRestore();
      vi.unstubAllEnvs();
      await upstream.close();
    }
  });

  it('refuses the Messages endpoint with SigV4 at construction', () => {
    expect(() => createBedrockUpstream({ mode: 'messages', auth: 'sigv4' })).toThrow(BedrockConfigError);
    expect(() => createBedrockUpstream({ mode: 'messages', auth: 'sigv4' })).toThrow(/BEDROCK_AUTH=bearer/);
  });

  it('keeps one client per region and key, in a bounded map', async () => {
    const clients = createBedrockClients({ auth: 'bearer', endpoint: fake.url, maxCachedClients: 2 });
    try {
      const a = clients.runtime('us-east-1', 'key-a');
      expect(clients.runtime('us-east-1', 'key-a')).toBe(a);
      expect(clients.runtime('eu-west-1', 'key-a')).not.toBe(a);
      clients.runtime('us-east-1', 'key-b');
      expect(clients.cachedClients()).toBe(2);
      expect(clients.runtime('us-east-1', 'key-a')).not.toBe(a); // evicted, rebuilt
      expect(() => clients.runtime('us-east-1', null)).toThrow(BedrockConfigError);
      expect(clients.messagesUrl('eu-central-1').href).toBe(`${fake.url}/anthropic/v1/messages`);
    } finally {
      await clients.close();
    }
    const real = createBedrockClients({ auth: 'bearer' });
    expect(real.messagesUrl('eu-central-1').href).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com/anthropic/v1/messages');
    expect(() => real.messagesUrl('evil.example.com/x')).toThrow(BedrockConfigError);
    await real.close();
  });

  it.each(MODES)('reuses pooled connections across calls and keys (%s)', async (mode) => {
    for (const apiKey of ['key-one', 'key-two', 'key-one', 'key-three']) {
      await upstreams[mode].send(call({ apiKey }));
      await readAll(await upstreams[mode].send(call({ apiKey, stream: true })));
    }
    const ports = fake.requests.map((r) => r.remotePort);
    // One pool for every key and operation; undici's pool may alternate two sockets.
    expect(new Set(ports).size).toBeLessThanOrEqual(2);
  });
});
