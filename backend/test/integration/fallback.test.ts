import fs from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markBedrockBlock } from '../../src/bedrock/thinking-provenance.ts';
import { modelMappings, usageEvents } from '../../src/db/schema.ts';
import { errorReply, startFakeAnthropic, type FakeAnthropic, type Reply } from '../fakes/anthropic.ts';
import { cachedUsage, messageToEvents, thinkingToolUseMessage, type AnthropicMessage } from '../fakes/anthropic-messages.ts';
import { startFakeBedrock, type FakeBedrock, type FakeBedrockReply, type FakeFrame } from '../fakes/bedrock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

type Mode = 'invoke' | 'converse' | 'messages';
const MODES: Mode[] = ['invoke', 'converse', 'messages'];
const BEDROCK_KEY = 'bedrock-api-key-ABSKQmVkcm9ja0tleQ==';
const params = { model: 'claude-opus-5-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Read hello.txt' }] };

const converseTurn = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, '../fixtures/bedrock/converse-stream/claude-code-tool-turn.json'), 'utf8'),
) as { frames: FakeFrame[]; usage: Record<string, number> };

/** What Bedrock answers with thinking (signed), text and a tool call, in each mode's own wire form. */
function richBedrockReply(mode: Mode, stream: boolean): { reply: FakeBedrockReply; expected: { content: unknown[]; cacheRead: number } } {
  if (mode === 'converse') {
    if (!stream) {
      return {
        reply: {
          body: {
            output: {
              message: {
                role: 'assistant',
                content: [
                  { reasoningContent: { reasoningText: { text: 'I should read the file.', signature: 'c2lnbmF0dXJlLW9mLWJlZHJvY2s=' } } },
                  { text: 'Reading it.' },
                  { toolUse: { toolUseId: 'toolu_bdrk_01', name: 'Read', input: { file_path: '/tmp/hello.txt' } } },
                ],
              },
            },
            stopReason: 'tool_use',
            usage: { inputTokens: 3, outputTokens: 96, totalTokens: 99, cacheReadInputTokens: 777, cacheWriteInputTokens: 10 },
          },
        },
        expected: {
          content: [
            { type: 'thinking', thinking: 'I should read the file.', signature: 'c2lnbmF0dXJlLW9mLWJlZHJvY2s=' },
            { type: 'text', text: 'Reading it.' },
            { type: 'tool_use', id: 'toolu_bdrk_01', name: 'Read', input: { file_path: '/tmp/hello.txt' } },
          ],
          cacheRead: 777,
        },
      };
    }
    return {
      reply: { frames: converseTurn.frames },
      expected: {
        content: [
          { type: 'thinking', thinking: 'I should read the file.', signature: 'EqMBCkYIBxgCKkCReadsTheFileBeforeAnsweringSignature000000000==' },
          { type: 'text', text: 'Reading it.' },
          { type: 'tool_use', id: 'toolu_bdrk_01Xw3dWqg7tXqGSg1d9ViC7H', name: 'Read', input: { file_path: '/home/user/project/hello.txt' } },
        ],
        cacheRead: converseTurn.usage.cacheReadTokens!,
      },
    };
  }
  const message: AnthropicMessage = thinkingToolUseMessage({ usage: cachedUsage({ cacheReadTokens: 4321 }) });
  const events = messageToEvents(message, { jsonChunks: 3 }).map((e) => e.data as Record<string, unknown> & { type: string });
  const reply: FakeBedrockReply = !stream ? { body: message } : mode === 'invoke' ? { frames: events.map((chunk) => ({ chunk })) } : { sse: events };
  return { reply, expected: { content: message.content, cacheRead: 4321 } };
}

const bedrockOp = (mode: Mode, stream: boolean) =>
  mode === 'messages' ? 'messages' : mode === 'invoke' ? (stream ? 'invoke-with-response-stream' : 'invoke') : stream ? 'converse-stream' : 'converse';

async function registerBedrockKey(proxy: TestApp, accessKeyId: string): Promise<void> {
  const res = await request(`${proxy.url}/admin/access-keys/${accessKeyId}/bedrock-key`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await proxy.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bedrock_api_key: BEDROCK_KEY }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.arrayBuffer();
}

async function setRouting(proxy: TestApp, userId: string, routing: string): Promise<void> {
  const res = await request(`${proxy.url}/admin/users/${userId}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${await proxy.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ routing_strategy: routing }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.arrayBuffer();
}

async function lastUsage(proxy: TestApp, accessKeyId: string) {
  await proxy.flushUsage();
  const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, accessKeyId));
  return rows.sort((a, b) => a.id - b.id).at(-1)!;
}

describe.each(MODES)('Bedrock fallback, BEDROCK_API=%s', (mode) => {
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;
  let key: { rawKey: string; userId: string; accessKeyId: string };
  let client: Anthropic;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({
      PLAN_API_URL: anthropic.url,
      PLAN_FIRST_BYTE_TIMEOUT: '0.5',
      BEDROCK_API: mode,
      BEDROCK_ENDPOINT: bedrock.url,
      BEDROCK_REGION: 'us-east-1',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
    });
    key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    client = new Anthropic({ baseURL: `${proxy.url}/ak/${key.rawKey}`, apiKey: 'sk-ant-api03-dev', maxRetries: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
    await bedrock.close();
  });

  const triggers: [string, Reply, string][] = [
    ['429 rate limit', errorReply(429, 'rate_limit_error', 'Rate limited', { 'retry-after': '5' }), 'rate_limited'],
    ['529 overloaded', errorReply(529, 'overloaded_error', 'Overloaded'), 'overloaded'],
    ['500 server error', errorReply(500, 'api_error', 'Internal server error'), 'server_error'],
    ['first-byte timeout', { kind: 'hang' }, 'first_byte_timeout'],
  ];

  it.each(triggers)('falls back on %s, streaming and not', async (_name, reply, reason) => {
    for (const stream of [true, false]) {
      anthropic.reply(reply);
      const before = bedrock.requests.length;
      const message = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'hello from bedrock' })]);
      expect(message.model).toBe('claude-opus-5-5');
      expect(message.id).toMatch(/^msg_/);
      expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 5 });

      const seen = bedrock.requests.slice(before);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.operation).toBe(bedrockOp(mode, stream));
      expect(seen[0]!.headers.authorization).toBe(`Bearer ${BEDROCK_KEY}`);

      const row = await lastUsage(proxy, key.accessKeyId);
      expect(row).toMatchObject({ provider: 'bedrock', isFallback: true, fallbackReason: reason, stream, statusCode: 200, outcome: 'completed', requestedModel: 'claude-opus-5-5', inputTokens: 12, outputTokens: 5 });
      expect(row.servedModel).toMatch(/anthropic\.claude-opus-5-5/);
    }
  });

  it.each([true, false])('carries thinking signatures, tool calls and cache usage through (stream: %s)', async (stream) => {
    const { reply, expected } = richBedrockReply(mode, stream);
    anthropic.reply(errorReply(429, 'rate_limit_error', 'Rate limited'));
    bedrock.reply(bedrockOp(mode, stream), reply);
    const message = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    // Bedrock's thinking reaches the client marked as Bedrock's (so the next turn can route it).
    expect(message.content).toEqual(expected.content.map((b) => expect.objectContaining(markBedrockBlock(b as { type: string }))));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage.cache_read_input_tokens).toBe(expected.cacheRead);
    const row = await lastUsage(proxy, key.accessKeyId);
    expect(row).toMatchObject({ provider: 'bedrock', stopReason: 'tool_use', cacheReadTokens: expected.cacheRead });
  });

  it('never falls back on a request error Anthropic rejects', async () => {
    for (const [status, type] of [[400, 'invalid_request_error'], [401, 'authentication_error'], [403, 'permission_error'], [404, 'not_found_error'], [413, 'request_too_large']] as const) {
      anthropic.reply(errorReply(status, type, `no: ${type}`));
      const before = bedrock.requests.length;
      const err = (await client.messages.create(params).catch((e: unknown) => e)) as { status: number; error: { error: { type: string } } };
      expect(err.status).toBe(status);
      expect(err.error.error.type).toBe(type);
      expect(bedrock.requests.length).toBe(before);
    }
  });

  it('falls back when Anthropic cannot be reached at all', async () => {
    const unreachable = await startTestApp({ PLAN_API_URL: 'http://127.0.0.1:9', BEDROCK_ENDPOINT: bedrock.url, BEDROCK_API: mode });
    try {
      const k = await unreachable.createKey();
      await registerBedrockKey(unreachable, k.accessKeyId);
      const c = new Anthropic({ baseURL: `${unreachable.url}/ak/${k.rawKey}`, apiKey: 'sk-dev', maxRetries: 0 });
      for (const stream of [true, false]) {
        const message = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
        expect(message.content).toEqual([expect.objectContaining({ text: 'hello from bedrock' })]);
        expect((await lastUsage(unreachable, k.accessKeyId)).fallbackReason).toBe('connect_error');
      }
    } finally {
      await unreachable.close();
    }
  });

  it('tells the client not to retry when Bedrock fails too', async () => {
    anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    bedrock.reply(bedrockOp(mode, false), { error: { name: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' } });
    const res = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify(params), headers: { 'content-type': 'application/json' } });
    const body = (await res.body.json()) as { error: { type: string; message: string } };
    expect(res.statusCode).toBe(429);
    expect(res.headers['x-should-retry']).toBe('false');
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toContain('Too many requests');
  });
});

describe('routing and the circuit breaker', () => {
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({
      PLAN_API_URL: anthropic.url,
      BEDROCK_ENDPOINT: bedrock.url,
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_RESET_TIMEOUT: '0.4',
    });
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
    await bedrock.close();
  });

  const post = (rawKey: string) =>
    request(`${proxy.url}/ak/${rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify(params), headers: { 'content-type': 'application/json', 'x-api-key': 'sk-dev' } });

  it('opens after the threshold, sends later requests straight to Bedrock, then probes once and closes', async () => {
    const key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    anthropic.reply(errorReply(429, 'rate_limit_error', 'slow down'), errorReply(529, 'overloaded_error', 'busy'));
    for (let i = 0; i < 2; i++) expect((await post(key.rawKey)).statusCode).toBe(200);
    const planCalls = anthropic.requests.length;

    const skipped = await post(key.rawKey);
    await skipped.body.arrayBuffer();
    expect(skipped.statusCode).toBe(200);
    expect(anthropic.requests.length).toBe(planCalls); // Anthropic not asked while open
    expect((await lastUsage(proxy, key.accessKeyId)).fallbackReason).toBe('circuit_open');

    await new Promise((r) => setTimeout(r, 450));
    const probe = await post(key.rawKey); // the probe: Anthropic answers normally (default reply)
    await probe.body.arrayBuffer();
    expect(anthropic.requests.length).toBe(planCalls + 1);
    expect((await lastUsage(proxy, key.accessKeyId)).provider).toBe('plan');
    await (await post(key.rawKey)).body.arrayBuffer();
    expect(anthropic.requests.length).toBe(planCalls + 2); // closed again
  });

  it('a Plan-limit 429 parks the key on Bedrock until its window resets, without opening the breaker', async () => {
    const key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    const reset = String(Math.floor(Date.now() / 1000) + 7200);
    anthropic.reply(errorReply(429, 'rate_limit_error', 'You have reached your usage limit', { 'anthropic-ratelimit-unified-status': 'rejected', 'anthropic-ratelimit-unified-reset': reset, 'anthropic-ratelimit-unified-representative-claim': 'five_hour' }));
    await (await post(key.rawKey)).body.arrayBuffer();
    expect((await lastUsage(proxy, key.accessKeyId)).fallbackReason).toBe('usage_limit');
    const before = anthropic.requests.length;
    await (await post(key.rawKey)).body.arrayBuffer();
    expect(anthropic.requests.length).toBe(before);
    expect((await lastUsage(proxy, key.accessKeyId)).fallbackReason).toBe('usage_limit');
    expect(proxy.app.breakers.snapshot(key.accessKeyId).state).toBe('closed');
  });

  it('relays Anthropic\'s own error when the key has no Bedrock key, for plan_first and plan_only', async () => {
    const key = await proxy.createKey();
    anthropic.reply(errorReply(429, 'rate_limit_error', 'slow down', { 'retry-after': '3' }));
    const res = await post(key.rawKey);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.headers['x-should-retry']).toBeUndefined();
    await res.body.arrayBuffer();

    const planOnly = await proxy.createKey();
    await registerBedrockKey(proxy, planOnly.accessKeyId);
    await setRouting(proxy, planOnly.userId, 'plan_only');
    anthropic.reply(errorReply(529, 'overloaded_error', 'busy'));
    const before = bedrock.requests.length;
    const res2 = await post(planOnly.rawKey);
    expect(res2.statusCode).toBe(529);
    await res2.body.arrayBuffer();
    expect(bedrock.requests.length).toBe(before);
  });

  it('bedrock_only goes straight to Bedrock, and says clearly when no Bedrock key is registered', async () => {
    const key = await proxy.createKey();
    await setRouting(proxy, key.userId, 'bedrock_only');
    const missing = await post(key.rawKey);
    const body = (await missing.body.json()) as { error: { type: string; message: string } };
    expect(missing.statusCode).toBe(403);
    expect(body.error).toMatchObject({ type: 'permission_error', message: expect.stringMatching(/no Bedrock API key/) });

    await registerBedrockKey(proxy, key.accessKeyId);
    const before = anthropic.requests.length;
    const ok = await post(key.rawKey);
    await ok.body.arrayBuffer();
    expect(ok.statusCode).toBe(200);
    expect(anthropic.requests.length).toBe(before);
    expect(await lastUsage(proxy, key.accessKeyId)).toMatchObject({ provider: 'bedrock', isFallback: false, fallbackReason: null });
  });

  it('sends ping events while waiting for the first upstream byte, then falls back inside the same stream', async () => {
    const slow = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, PLAN_FIRST_BYTE_TIMEOUT: '0.6', STREAM_PING_INTERVAL: '0.2' });
    try {
      const key = await slow.createKey();
      await registerBedrockKey(slow, key.accessKeyId);
      anthropic.reply({ kind: 'hang' });
      const res = await request(`${slow.url}/ak/${key.rawKey}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ ...params, stream: true }),
        headers: { 'content-type': 'application/json' },
      });
      const text = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(text.startsWith('event: ping\ndata: {"type": "ping"}\n\n')).toBe(true);
      expect(text.match(/event: ping/g)!.length).toBeGreaterThanOrEqual(2);
      expect(text).toContain('hello from bedrock');
      expect(text.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
      expect((await lastUsage(slow, key.accessKeyId)).fallbackReason).toBe('first_byte_timeout');
    } finally {
      await slow.close();
    }
  });

  it('never falls back once the client has bytes: a mid-stream break is an error event', async () => {
    const key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    anthropic.reply({ kind: 'stream', events: messageToEvents(thinkingToolUseMessage()), dropAfter: 3 });
    const before = bedrock.requests.length;
    const res = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ ...params, stream: true }),
      headers: { 'content-type': 'application/json' },
    });
    const text = await res.body.text().catch(() => '');
    expect(text).toContain('event: error');
    expect(bedrock.requests.length).toBe(before);
  });

  it('maps models through admin rows, and names a model Bedrock cannot serve', async () => {
    const key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    await setRouting(proxy, key.userId, 'bedrock_only');
    await proxy.database.db.insert(modelMappings).values({ model: 'team-claude', baseId: 'anthropic.claude-team-v1:0', geographies: ['us', 'apac'] });
    await proxy.app.modelMappings.refresh();
    const mapped = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify({ ...params, model: 'team-claude' }) });
    const message = (await mapped.body.json()) as { model: string };
    expect(message.model).toBe('team-claude'); // the client sees the name it asked for
    // BEDROCK_REGION defaults to us-east-1, whose geography (us) has a profile for this model.
    expect(bedrock.requests.at(-1)!.modelId).toBe('us.anthropic.claude-team-v1:0');
    expect((await lastUsage(proxy, key.accessKeyId)).servedModel).toBe('us.anthropic.claude-team-v1:0');

    const unknown = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify({ ...params, model: 'gpt-4o' }) });
    const body = (await unknown.body.json()) as { error: { type: string; message: string } };
    expect(unknown.statusCode).toBe(400);
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('gpt-4o');
  });

  it('shows breaker state to admins, who can reset it', async () => {
    const key = await proxy.createKey();
    await registerBedrockKey(proxy, key.accessKeyId);
    anthropic.reply(errorReply(429, 'rate_limit_error', 'slow down'), errorReply(429, 'rate_limit_error', 'slow down'));
    for (let i = 0; i < 2; i++) await (await post(key.rawKey)).body.arrayBuffer();
    const auth = { authorization: `Bearer ${await proxy.adminToken()}` };
    const state = await request(`${proxy.url}/admin/circuit-breakers/${key.accessKeyId}`, { headers: auth });
    expect(await state.body.json()).toMatchObject({ access_key_id: key.accessKeyId, state: 'open', reason: 'rate_limited', retry_at: expect.any(String) });
    const list = (await (await request(`${proxy.url}/admin/circuit-breakers`, { headers: auth })).body.json()) as { items: { access_key_id: string }[] };
    expect(list.items.map((i) => i.access_key_id)).toContain(key.accessKeyId);

    const reset = await request(`${proxy.url}/admin/circuit-breakers/${key.accessKeyId}/reset`, { method: 'POST', headers: auth });
    expect(reset.statusCode).toBe(204);
    await reset.body.arrayBuffer();
    const before = anthropic.requests.length;
    await (await post(key.rawKey)).body.arrayBuffer();
    expect(anthropic.requests.length).toBe(before + 1); // Anthropic is asked again
  });

  it('never logs the Bedrock key', () => {
    expect(proxy.logText()).not.toContain(BEDROCK_KEY);
  });
});
