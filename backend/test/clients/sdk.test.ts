import Anthropic from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { cachedUsage, errorEvent, messageToEvents, textMessage, thinkingToolUseMessage } from '../fakes/anthropic-messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let fake: FakeAnthropic;
let proxy: TestApp;
let key: { rawKey: string; userId: string };

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url });
  key = await proxy.createKey();
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

// Both SDK lines: 1.x sends Authorization: Bearer and anthropic-version 2026-10-21; 0.137 sends x-api-key and 2023-06-01.
const clients = [
  { name: '@anthropic-ai/sdk 1.x', make: (baseURL: string) => new Anthropic({ baseURL, apiKey: 'sk-ant-api03-dev', maxRetries: 0 }), auth: 'authorization', version: '2026-10-21' },
  { name: '@anthropic-ai/sdk 0.137', make: (baseURL: string) => new Anthropic0({ baseURL, apiKey: 'sk-ant-api03-dev', maxRetries: 0 }) as unknown as Anthropic, auth: 'x-api-key', version: '2023-06-01' },
] as const;

const params = { model: 'claude-opus-5-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'What is in README.md?' }] };

describe.each(clients)('$name through the proxy', ({ make, auth, version }) => {
  const client = () => make(`${proxy.url}/ak/${key.rawKey}`);

  it('creates a message, with the client credential and version reaching Anthropic', async () => {
    const expected = textMessage({ text: 'non-streamed answer', usage: cachedUsage() });
    fake.reply({ kind: 'json', body: expected });
    const message = await client().messages.create(params);
    expect(message.content).toEqual(expected.content);
    expect(message.usage.cache_read_input_tokens).toBe(expected.usage.cache_read_input_tokens);
    const seen = fake.requests.at(-1)!;
    expect(seen.headers[auth]).toMatch(/sk-ant-api03-dev/);
    expect(seen.headers['anthropic-version']).toBe(version);
  });

  it('streams thinking with its signature and a tool call, assembled exactly as Anthropic sent it', async () => {
    const expected = thinkingToolUseMessage({ usage: cachedUsage({ cacheReadTokens: 1234 }) });
    fake.reply({ kind: 'stream', events: messageToEvents(expected, { jsonChunks: 4, pingEvery: 3 }) });
    const final = await client().messages.stream(params).finalMessage();
    expect(final.content).toEqual(expected.content.map((b) => (b.type === 'text' ? expect.objectContaining(b) : b)));
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.cache_read_input_tokens).toBe(1234);

    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.upstreamRequestId, fake.requests.at(-1)!.requestId));
    expect(rows[0]).toMatchObject({ stopReason: 'tool_use', cacheReadTokens: 1234 });
  });

  it('counts tokens', async () => {
    const result = await client().messages.countTokens({ model: params.model, messages: params.messages });
    expect(result.input_tokens).toBeGreaterThan(0);
  });

  it('sees Anthropic errors as the SDK error with status, type and request id', async () => {
    fake.reply(errorReply(529, 'overloaded_error', 'Overloaded', { 'x-should-retry': 'false' }));
    const err = (await client().messages.create(params).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Error);
    expect(err.status).toBe(529);
    expect((err.error as { error: { type: string } }).error.type).toBe('overloaded_error');
    expect(err.requestID).toBe(fake.requests.at(-1)!.requestId);
  });

  it('sees a mid-stream error event as a thrown API error', async () => {
    fake.reply({ kind: 'stream', events: [...messageToEvents(textMessage()).slice(0, 3), errorEvent('overloaded_error', 'Overloaded')] });
    await expect(client().messages.stream(params).finalMessage()).rejects.toThrow(/Overloaded/);
  });

  it('sees a proxy rejection in Anthropic shape', async () => {
    const stranger = make(`${proxy.url}/ak/ak_${'z'.repeat(43)}`);
    const err = (await stranger.messages.create(params).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(401);
    expect((err.error as { error: { type: string } }).error.type).toBe('authentication_error');
  });
});
