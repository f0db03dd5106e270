import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, errorReply, type FakeAnthropic } from '../fakes/anthropic.ts';
import { cachedUsage, encodeSse, errorEvent, messageToEvents, textMessage, thinkingToolUseMessage } from '../fakes/anthropic-messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/claude-code');
const claudeCodeBody = fs.readFileSync(path.join(fixtures, 'claude-code-request.json'));
// This capture holds method, url, headers and body; the body is what goes on the wire.
const claudeCodeTurn2 = Buffer.from(JSON.stringify((JSON.parse(fs.readFileSync(path.join(fixtures, 'claude-code-request-turn2.json'), 'utf8')) as { body: unknown }).body));
const claudeCodeHeaders = (JSON.parse(fs.readFileSync(path.join(fixtures, 'claude-code-request-headers.json'), 'utf8')) as { headers: Record<string, string> }).headers;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let fake: FakeAnthropic;
let proxy: TestApp;
let key: { rawKey: string; userId: string; accessKeyId: string };

beforeAll(async () => {
  fake = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: fake.url, PLAN_FIRST_BYTE_TIMEOUT: '1' });
  key = await proxy.createKey();
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
afterEach(() => {
  expect(fake.pendingReplies()).toBe(0);
});

function post(pathname: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return request(`${proxy.url}${pathname}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-test-secret', ...headers },
  });
}

const messagesPath = () => `/ak/${key.rawKey}/v1/messages`;

async function usageFor(requestId: string) {
  await proxy.flushUsage();
  const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** The proxy's own request id is the one it records; the upstream's is kept beside it. */
async function usageByUpstream(upstreamRequestId: string) {
  await proxy.flushUsage();
  const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.upstreamRequestId, upstreamRequestId));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('streaming passthrough', () => {
  it('streams the upstream bytes back unchanged and records usage with cache tokens', async () => {
    const usage = cachedUsage({ inputTokens: 11, outputTokens: 42, cacheReadTokens: 5000, cacheWrite5mTokens: 700, cacheWrite1hTokens: 300 });
    const events = messageToEvents(textMessage({ text: 'Hello, streaming world', usage }), { textChunks: 4, pingEvery: 2 });
    fake.reply({ kind: 'stream', events, delayMs: 2 });

    const res = await post(`${messagesPath()}?beta=true`, claudeCodeBody, claudeCodeHeaders);
    const received = Buffer.from(await res.body.arrayBuffer());

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(sha(received)).toBe(sha(encodeSse(events)));
    const upstreamId = res.headers['request-id'] as string;
    expect(upstreamId).toMatch(/^req_fake_/);
    expect(Object.keys(res.headers).some((h) => h.startsWith('anthropic-ratelimit-'))).toBe(true);

    const row = await usageByUpstream(upstreamId);
    expect(row).toMatchObject({
      userId: key.userId,
      accessKeyId: key.accessKeyId,
      provider: 'plan',
      endpoint: 'messages',
      stream: true,
      statusCode: 200,
      outcome: 'completed',
      requestedModel: 'claude-opus-5-5',
      inputTokens: 11,
      outputTokens: 42,
      cacheReadTokens: 5000,
      cacheWrite5mTokens: 700,
      cacheWrite1hTokens: 300,
      stopReason: 'end_turn',
    });
    expect(row.ttfbMs).not.toBeNull();
    expect(row.latencyMs).toBeGreaterThanOrEqual(row.ttfbMs!);
  });

  it('passes thinking with signatures and chunked tool input through byte for byte', async () => {
    const events = messageToEvents(thinkingToolUseMessage(), { jsonChunks: 5 });
    fake.reply({ kind: 'stream', events });
    const res = await post(messagesPath(), claudeCodeTurn2, claudeCodeHeaders);
    expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(encodeSse(events)));
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row.stopReason).toBe('tool_use');
  });

  it('cuts the stream with an error event, never a message_stop, when the upstream dies mid-stream', async () => {
    const events = messageToEvents(textMessage({ text: 'one two three four five six' }), { textChunks: 6 });
    fake.reply({ kind: 'stream', events, dropAfter: 4, delayMs: 2 });
    const res = await post(messagesPath(), claudeCodeBody, claudeCodeHeaders);
    const text = await res.body.text().catch((err: Error) => `<<connection cut: ${err.message}>>`);

    expect(text.startsWith(encodeSse(events.slice(0, 4)).toString())).toBe(true);
    expect(text).not.toContain('message_stop');
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row.outcome).toBe('failed');
    expect(row.inputTokens).toBeGreaterThan(0); // message_start got through before the drop
  });

  it('aborts the upstream request at once when the client disconnects', async () => {
    const events = messageToEvents(textMessage({ text: 'a b c d e f g h i j k l' }), { textChunks: 12 });
    fake.reply({ kind: 'stream', events, delayMs: 200 });
    const controller = new AbortController();
    const res = await post(messagesPath(), claudeCodeBody, { ...claudeCodeHeaders });
    const upstreamId = res.headers['request-id'] as string;
    const reader = res.body;
    await new Promise<void>((resolve) => reader.once('data', () => resolve()));
    reader.destroy();
    controller.abort();
    await fake.requestClosed(fake.requests.length - 1);
    await expect.poll(async () => {
      await proxy.flushUsage();
      return (await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.upstreamRequestId, upstreamId))).length;
    }).toBe(1);
    const row = await usageByUpstream(upstreamId);
    expect(row.outcome).toBe('aborted');
  });

  it('relays an upstream error event mid-stream as sent', async () => {
    const events = [...messageToEvents(textMessage()).slice(0, 3), errorEvent('overloaded_error', 'Overloaded')];
    fake.reply({ kind: 'stream', events });
    const res = await post(messagesPath(), claudeCodeBody, claudeCodeHeaders);
    expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(encodeSse(events)));
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row.errorType).toBe('overloaded_error');
  });
});

describe('request fidelity', () => {
  it('delivers captured Claude Code requests to Anthropic byte-identical, with the query string', async () => {
    for (const body of [claudeCodeBody, claudeCodeTurn2]) {
      fake.reply({ kind: 'stream', events: messageToEvents(textMessage()) });
      const res = await post(`${messagesPath()}?beta=true`, body, claudeCodeHeaders);
      await res.body.arrayBuffer();
      const seen = fake.requests.at(-1)!;
      expect(seen.url).toBe('/v1/messages?beta=true');
      expect(sha(seen.body)).toBe(sha(body));
    }
  });

  it('forwards the client credential and every Anthropic, Stainless and custom header; drops ours and hop-by-hop ones', async () => {
    fake.reply({ kind: 'json', body: textMessage() });
    const res = await post(messagesPath(), claudeCodeBody, {
      ...claudeCodeHeaders,
      'x-api-key': 'sk-ant-api03-client-own',
      'x-proxy-key': key.rawKey,
      cookie: 'session=abc',
      'x-forwarded-for': '10.1.2.3',
      'x-custom-trace': 'keep-me',
    });
    await res.body.arrayBuffer();
    const h = fake.requests.at(-1)!.headers;
    expect(h['x-api-key']).toBe('sk-ant-api03-client-own');
    for (const name of ['anthropic-beta', 'anthropic-version', 'user-agent', 'x-stainless-package-version', 'x-app', 'x-claude-code-session-id', 'anthropic-dangerous-direct-browser-access']) {
      expect(h[name], name).toBe(claudeCodeHeaders[name]);
    }
    expect(h['x-custom-trace']).toBe('keep-me');
    for (const name of ['x-proxy-key', 'cookie', 'x-forwarded-for', 'accept-encoding']) expect(h[name], name).toBeUndefined();
  });

  it('forwards Authorization: Bearer and any anthropic-version untouched', async () => {
    fake.reply({ kind: 'json', body: textMessage() });
    const res = await request(`${proxy.url}${messagesPath()}`, {
      method: 'POST',
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-oat01-plan-token', 'anthropic-version': '2026-10-21' },
    });
    await res.body.arrayBuffer();
    const h = fake.requests.at(-1)!.headers;
    expect(h.authorization).toBe('Bearer sk-ant-oat01-plan-token');
    expect(h['anthropic-version']).toBe('2026-10-21');
    expect(h['x-api-key']).toBeUndefined();
  });

  it('accepts the key in an x-proxy-key header instead of the path', async () => {
    fake.reply({ kind: 'json', body: textMessage() });
    const res = await post('/v1/messages?beta=true', claudeCodeBody, { ...claudeCodeHeaders, 'x-proxy-key': key.rawKey });
    expect(res.statusCode).toBe(200);
    await res.body.arrayBuffer();
    expect(fake.requests.at(-1)!.url).toBe('/v1/messages?beta=true');
  });

  it('returns a non-streaming body unchanged and records its usage', async () => {
    const message = textMessage({ usage: cachedUsage({ inputTokens: 3, outputTokens: 7, cacheReadTokens: 100, cacheWrite5mTokens: 20, cacheWrite1hTokens: 0 }) });
    const raw = Buffer.from(JSON.stringify(message, null, 1));
    fake.reply({ kind: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: raw });
    const res = await post(messagesPath(), JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }));
    expect(sha(Buffer.from(await res.body.arrayBuffer()))).toBe(sha(raw));
    // Its length travels with it: one write, not a chunked body.
    expect(res.headers['content-length']).toBe(String(raw.length));
    expect(res.headers['transfer-encoding']).toBeUndefined();
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row).toMatchObject({ stream: false, outcome: 'completed', inputTokens: 3, outputTokens: 7, cacheReadTokens: 100, cacheWrite5mTokens: 20 });
  });

  it('forwards count_tokens with its query and records it without tokens consumed', async () => {
    const body = JSON.stringify({ model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'count me' }] });
    const res = await post(`/ak/${key.rawKey}/v1/messages/count_tokens?beta=true`, body);
    const json = (await res.body.json()) as { input_tokens: number };
    expect(res.statusCode).toBe(200);
    expect(json.input_tokens).toBeGreaterThan(0);
    expect(fake.requests.at(-1)!.url).toBe('/v1/messages/count_tokens?beta=true');
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row).toMatchObject({ endpoint: 'count_tokens', inputTokens: 0, outcome: 'completed' });
  });
});

describe('upstream errors pass through', () => {
  it.each([
    [400, 'invalid_request_error', {}],
    [401, 'authentication_error', {}],
    [429, 'rate_limit_error', { 'retry-after': '7', 'retry-after-ms': '7000', 'anthropic-ratelimit-requests-remaining': '0' }],
    [529, 'overloaded_error', { 'x-should-retry': 'false' }],
  ])('%i %s with its body and headers', async (status, type, headers: Record<string, string>) => {
    fake.reply(errorReply(status, type, `upstream says ${type}`, headers));
    const res = await post(messagesPath(), claudeCodeBody, claudeCodeHeaders);
    const text = await res.body.text();
    const body = JSON.parse(text) as { error: { type: string; message: string } };
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(body.error).toEqual({ type, message: `upstream says ${type}` });
    for (const [name, value] of Object.entries(headers)) expect(res.headers[name], name).toBe(value);
    const row = await usageByUpstream(res.headers['request-id'] as string);
    expect(row).toMatchObject({ statusCode: status, outcome: 'upstream_error', errorType: type });
  });
});

describe('errors the proxy answers itself', () => {
  async function expectAnthropicError(res: Awaited<ReturnType<typeof post>>, status: number, type: string) {
    const body = (await res.body.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    expect(res.statusCode).toBe(status);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe(type);
    expect(body.request_id).toMatch(/^req_/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    return body.error.message;
  }

  it('401 for an unknown key, without calling Anthropic', async () => {
    const before = fake.requests.length;
    const res = await post(`/ak/ak_${'x'.repeat(43)}/v1/messages`, claudeCodeBody);
    await expectAnthropicError(res, 401, 'authentication_error');
    const missing = await post('/v1/messages', claudeCodeBody);
    await expectAnthropicError(missing, 401, 'authentication_error');
    expect(fake.requests).toHaveLength(before);
  });

  it('400 for bad JSON and for a missing model, recorded as rejected', async () => {
    const before = fake.requests.length;
    expect(await expectAnthropicError(await post(messagesPath(), '{"model": '), 400, 'invalid_request_error')).toMatch(/not valid JSON/);
    expect(await expectAnthropicError(await post(messagesPath(), '{"messages": []}'), 400, 'invalid_request_error')).toMatch(/^model:/);
    expect(await expectAnthropicError(await post(messagesPath(), '[1,2]'), 400, 'invalid_request_error')).toMatch(/JSON object/);
    expect(fake.requests).toHaveLength(before);
    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.outcome, 'rejected'));
    expect(rows.length).toBeGreaterThanOrEqual(3);
  });

  it('413 for a body over 32 MB', async () => {
    const before = fake.requests.length;
    const big = Buffer.alloc(32 * 1024 * 1024 + 10, 0x20);
    const res = await post(messagesPath(), big);
    await expectAnthropicError(res, 413, 'request_too_large');
    expect(fake.requests).toHaveLength(before);
  });

  it('404 in Anthropic shape for an unknown route, without echoing the key', async () => {
    const res = await request(`${proxy.url}/ak/${key.rawKey}/v1/files`, { method: 'GET' });
    const text = await res.body.text();
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(text).error.type).toBe('not_found_error');
    expect(text).not.toContain(key.rawKey);
  });

  it('504 naming the first-byte timeout when Anthropic does not answer', async () => {
    fake.reply({ kind: 'hang' });
    const res = await post(messagesPath(), claudeCodeBody, claudeCodeHeaders);
    expect(await expectAnthropicError(res, 504, 'timeout_error')).toMatch(/PLAN_FIRST_BYTE_TIMEOUT/);
    const row = await usageFor((JSON.parse(JSON.stringify(res.headers)) as Record<string, string>)['request-id']!);
    expect(row).toMatchObject({ statusCode: 504, outcome: 'upstream_error', errorType: 'timeout_error' });
  });

  it('502 naming the failure when Anthropic cannot be reached', async () => {
    const unreachable = await startTestApp({ PLAN_API_URL: 'http://127.0.0.1:9' });
    try {
      const k = await unreachable.createKey();
      const res = await request(`${unreachable.url}/ak/${k.rawKey}/v1/messages`, { method: 'POST', body: claudeCodeBody });
      const body = (await res.body.json()) as { error: { type: string; message: string } };
      expect(res.statusCode).toBe(502);
      expect(body.error.type).toBe('api_error');
      expect(body.error.message).toMatch(/Could not reach Anthropic \(ECONNREFUSED\)/);
    } finally {
      await unreachable.close();
    }
  });

  it('uses PLAN_API_KEY only when the client sent no credential', async () => {
    const withDefault = await startTestApp({ PLAN_API_URL: fake.url, PLAN_API_KEY: 'sk-ant-default-key' });
    try {
      const k = await withDefault.createKey();
      const body = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 5, messages: [] });
      await (await request(`${withDefault.url}/ak/${k.rawKey}/v1/messages`, { method: 'POST', body })).body.arrayBuffer();
      expect(fake.requests.at(-1)!.headers['x-api-key']).toBe('sk-ant-default-key');
      await (await request(`${withDefault.url}/ak/${k.rawKey}/v1/messages`, { method: 'POST', body, headers: { authorization: 'Bearer mine' } })).body.arrayBuffer();
      expect(fake.requests.at(-1)!.headers['x-api-key']).toBeUndefined();
      expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer mine');
    } finally {
      await withDefault.close();
    }
  });
});

describe('secrets stay out of the logs', () => {
  it('never writes the access key or the client credential', async () => {
    fake.reply({ kind: 'json', body: textMessage() });
    await (await post(`${messagesPath()}?beta=true`, claudeCodeBody, { 'x-api-key': 'sk-ant-api03-very-secret' })).body.arrayBuffer();
    await (await post(`/ak/${key.rawKey}/v1/nope`, '{}')).body.arrayBuffer();
    const text = proxy.logText();
    expect(text).toContain('"msg":"request"');
    expect(text).not.toContain(key.rawKey);
    expect(text).not.toContain('sk-ant-api03-very-secret');
    const line = proxy.logs.find((l) => l.msg === 'request' && l.keyPrefix);
    expect(line).toMatchObject({ keyPrefix: key.rawKey.slice(0, 11), provider: 'plan' });
  });
});
