// Issue "gateway endpoints": the model list, the start-up probe, and count_tokens for bedrock_only
// users answered by Bedrock's CountTokens.
import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { countTokensInvokeBody, startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

const BEDROCK_KEY = 'bedrock-api-key-R2F0ZXdheUVuZHBvaW50cw==';
const UNSUPPORTED = "The provided model doesn't support counting tokens.";
const countBody = (model = 'claude-opus-5-5') => ({ model, messages: [{ role: 'user' as const, content: 'How many tokens is this?' }] });

interface ModelList {
  data: { type: string; id: string; display_name: string; created_at: string }[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
let proxy: TestApp;
let key: { rawKey: string; userId: string; accessKeyId: string };

async function admin(method: string, path: string, body?: unknown): Promise<number> {
  const res = await request(`${proxy.url}${path}`, {
    method: method as 'PUT',
    headers: { authorization: `Bearer ${await proxy.adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(`${proxy.url}${path}`, { method, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

async function bedrockOnlyKey(withBedrockKey: boolean) {
  const k = await proxy.createKey();
  expect(await admin('PATCH', `/admin/users/${k.userId}`, { routing_strategy: 'bedrock_only' })).toBe(200);
  if (withBedrockKey) expect(await admin('PUT', `/admin/access-keys/${k.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).toBe(200);
  return k;
}

async function countTokens(rawKey: string, body: unknown = countBody()) {
  const res = await request(`${proxy.url}/ak/${rawKey}/v1/messages/count_tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> & { error?: { type: string; message: string } } };
}

async function lastUsage(accessKeyId: string) {
  await proxy.flushUsage();
  const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, accessKeyId));
  return rows.sort((a, b) => a.id - b.id).at(-1)!;
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
  proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1' });
  key = await proxy.createKey();
});
afterAll(async () => {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
});

describe('GET /v1/models', () => {
  it('lists the mapped Claude models in Anthropic shape, by path key and by x-proxy-key', async () => {
    const byPath = await get(`/ak/${key.rawKey}/v1/models`);
    expect(byPath.status).toBe(200);
    expect(byPath.headers['content-type']).toMatch(/^application\/json/);
    expect(byPath.headers['request-id']).toMatch(/^req_/);
    expect(byPath.text).not.toContain(key.rawKey);
    const list = byPath.json() as ModelList;
    const ids = list.data.map((m) => m.id);
    expect(ids.length).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of list.data) {
      expect(m).toEqual({ type: 'model', id: expect.stringContaining('claude'), display_name: expect.any(String), created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/) });
      expect(Number.isNaN(Date.parse(m.created_at))).toBe(false);
    }
    expect(list).toMatchObject({ has_more: false, first_id: ids[0], last_id: ids.at(-1) });
    // Newest family first; dated ids carry their release date, aliases their dated sibling's.
    expect(ids.slice(0, 3)).toEqual(['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5']);
    expect(ids.indexOf('claude-sonnet-4-5-20250929')).toBeLessThan(ids.indexOf('claude-sonnet-4-5'));
    expect(ids.indexOf('claude-sonnet-4-5')).toBeLessThan(ids.indexOf('claude-3-7-sonnet-20250219'));
    const sonnet = list.data.find((m) => m.id === 'claude-sonnet-4-5')!;
    expect(sonnet).toMatchObject({ display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' });
    expect(list.data.find((m) => m.id === 'claude-3-5-haiku-latest')).toMatchObject({ display_name: 'Claude Haiku 3.5' });

    const byHeader = await get('/v1/models', { 'x-proxy-key': key.rawKey });
    expect(byHeader.status).toBe(200);
    expect(byHeader.json()).toEqual(list); // deterministic: the same list every time
  });

  it('includes a model mapping an admin adds, and drops it once deleted', async () => {
    expect(await admin('PUT', '/admin/model-mappings/claude-gateway-test-1', { base_id: 'anthropic.claude-gateway-test-1-v1:0', geographies: [] })).toBe(200);
    try {
      const list = (await get(`/ak/${key.rawKey}/v1/models`)).json() as ModelList;
      expect(list.data).toContainEqual({ type: 'model', id: 'claude-gateway-test-1', display_name: 'claude-gateway-test-1', created_at: '1970-01-01T00:00:00Z' });
      expect(list.data.filter((m) => m.id === 'claude-sonnet-4-5')).toHaveLength(1);
    } finally {
      expect(await admin('DELETE', '/admin/model-mappings/claude-gateway-test-1')).toBe(204);
    }
    const after = (await get(`/ak/${key.rawKey}/v1/models`)).json() as ModelList;
    expect(after.data.map((m) => m.id)).not.toContain('claude-gateway-test-1');
  });

  it('pages with limit and after_id / before_id', async () => {
    const all = ((await get(`/ak/${key.rawKey}/v1/models`)).json() as ModelList).data.map((m) => m.id);
    const first = (await get(`/ak/${key.rawKey}/v1/models?limit=2`)).json() as ModelList;
    expect(first).toMatchObject({ has_more: true, first_id: all[0], last_id: all[1] });
    const next = (await get(`/ak/${key.rawKey}/v1/models?limit=2&after_id=${first.last_id}`)).json() as ModelList;
    expect(next.data.map((m) => m.id)).toEqual(all.slice(2, 4));
    const back = (await get(`/ak/${key.rawKey}/v1/models?limit=2&before_id=${all[4]}`)).json() as ModelList;
    expect(back).toMatchObject({ has_more: true, first_id: all[2], last_id: all[3] });
    const bad = await get(`/ak/${key.rawKey}/v1/models?limit=0`);
    expect(bad.status).toBe(400);
    expect((bad.json() as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('401 in Anthropic shape for an unknown or missing key, without echoing it', async () => {
    const unknown = `ak_${'q'.repeat(43)}`;
    for (const res of [
      await get(`/ak/${unknown}/v1/models`),
      await get('/v1/models', { 'x-proxy-key': unknown }),
      await get('/v1/models'),
      await get(`/ak/${unknown}/v1/models/claude-opus-5-5`),
    ]) {
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'Invalid or inactive access key' }, request_id: expect.stringMatching(/^req_/) });
      expect(res.text).not.toContain(unknown);
    }
  });

  it('answers one model, or a 404 not_found_error', async () => {
    const one = await get(`/ak/${key.rawKey}/v1/models/claude-opus-4-1`);
    expect(one.status).toBe(200);
    expect(one.json()).toEqual({ type: 'model', id: 'claude-opus-4-1', display_name: 'Claude Opus 4.1', created_at: '2025-08-05T00:00:00Z' });
    const header = await get('/v1/models/claude-opus-5-5', { 'x-proxy-key': key.rawKey });
    expect(header.json()).toMatchObject({ id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5' });
    const missing = await get(`/ak/${key.rawKey}/v1/models/claude-nonexistent-9`);
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('/api/hello', () => {
  it('answers HEAD and GET with 200 and no body, with or without a key in the path', async () => {
    for (const path of ['/api/hello', `/ak/${key.rawKey}/api/hello`, `/ak/ak_${'q'.repeat(43)}/api/hello`]) {
      for (const method of ['HEAD', 'GET'] as const) {
        const res = await get(path, {}, method);
        expect(res.status, `${method} ${path}`).toBe(200);
        expect(res.text).toBe('');
      }
    }
  });
});

describe('count_tokens for bedrock_only users', () => {
  it('is answered by Bedrock CountTokens on the native InvokeModel body', async () => {
    const k = await bedrockOnlyKey(true);
    const before = bedrock.requests.length;
    const anthropicBefore = anthropic.requests.length;
    const res = await countTokens(k.rawKey);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);

    const seen = bedrock.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ operation: 'count-tokens', method: 'POST', url: '/model/us.anthropic.claude-opus-5-5/count-tokens', modelId: 'us.anthropic.claude-opus-5-5' });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${BEDROCK_KEY}`);
    const bytes = countTokensInvokeBody(seen[0]!.json)!;
    const invokeBody = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    expect(invokeBody).toMatchObject({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1, messages: countBody().messages });
    expect(invokeBody).not.toHaveProperty('model');
    expect(res.body).toEqual({ input_tokens: Math.ceil(bytes.length / 4) });
    expect(anthropic.requests.length).toBe(anthropicBefore);

    expect(await lastUsage(k.accessKeyId)).toMatchObject({
      endpoint: 'count_tokens',
      provider: 'bedrock',
      statusCode: 200,
      outcome: 'completed',
      requestedModel: 'claude-opus-5-5',
      servedModel: 'us.anthropic.claude-opus-5-5',
      inputTokens: 0,
      outputTokens: 0,
      region: 'us-east-1',
    });
  });

  it('keeps the client max_tokens when it sends one', async () => {
    const k = await bedrockOnlyKey(true);
    const before = bedrock.requests.length;
    expect((await countTokens(k.rawKey, { ...countBody(), max_tokens: 77 })).status).toBe(200);
    const sent = JSON.parse(countTokensInvokeBody(bedrock.requests[before]!.json)!.toString('utf8')) as { max_tokens: number };
    expect(sent.max_tokens).toBe(77);
  });

  it('404 not_found_error when Bedrock cannot count tokens for the model', async () => {
    const k = await bedrockOnlyKey(true);
    // No inference profile: called by its base id, so there is nothing else to try.
    bedrock.reply('count-tokens', { error: { name: 'ValidationException', message: UNSUPPORTED } });
    const before = bedrock.requests.length;
    const res = await countTokens(k.rawKey, countBody('claude-3-haiku-20240307'));
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ type: 'not_found_error', message: 'count_tokens is not available for bedrock_only routing' });
    expect(bedrock.requests.slice(before).map((r) => r.modelId)).toEqual(['anthropic.claude-3-haiku-20240307-v1:0']);
    expect(await lastUsage(k.accessKeyId)).toMatchObject({ endpoint: 'count_tokens', provider: 'bedrock', statusCode: 404, outcome: 'upstream_error', inputTokens: 0 });
  });

  it('retries with the base id once when the inference profile cannot count, and 404s when neither can', async () => {
    const k = await bedrockOnlyKey(true);
    bedrock.reply('count-tokens', { error: { name: 'ValidationException', message: UNSUPPORTED } });
    let before = bedrock.requests.length;
    const ok = await countTokens(k.rawKey);
    expect(ok.status).toBe(200);
    expect(ok.body.input_tokens).toEqual(expect.any(Number));
    expect(bedrock.requests.slice(before).map((r) => r.modelId)).toEqual(['us.anthropic.claude-opus-5-5', 'anthropic.claude-opus-5-5']);
    expect((await lastUsage(k.accessKeyId)).servedModel).toBe('anthropic.claude-opus-5-5');

    bedrock.reply('count-tokens', { error: { name: 'ValidationException', message: UNSUPPORTED } }, { error: { name: 'ValidationException', message: UNSUPPORTED } });
    before = bedrock.requests.length;
    const refused = await countTokens(k.rawKey);
    expect(refused.status).toBe(404);
    expect(refused.body.error?.type).toBe('not_found_error');
    expect(bedrock.requests.length - before).toBe(2);
  });

  it('maps other Bedrock errors like any Bedrock call', async () => {
    const k = await bedrockOnlyKey(true);
    bedrock.reply('count-tokens', { error: { name: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' } });
    const throttled = await countTokens(k.rawKey);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('Too many requests') });

    // A body Bedrock refuses as an InvokeModel body: the fake's rules answer a ValidationException.
    const invalid = await countTokens(k.rawKey, { ...countBody(), anthropic_beta: ['not-a-bedrock-beta-2020-01-01'], messages: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.type).toBe('invalid_request_error');

    const unknown = await countTokens(k.rawKey, countBody('claude-unmapped-1'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/claude-unmapped-1/);
    expect(proxy.logText()).not.toContain(BEDROCK_KEY);
  });

  it('404 without calling Bedrock when the key has no Bedrock API key', async () => {
    const k = await bedrockOnlyKey(false);
    const before = bedrock.requests.length;
    const res = await countTokens(k.rawKey);
    expect(res.status).toBe(404);
    expect(res.body.error?.type).toBe('not_found_error');
    expect(bedrock.requests.length).toBe(before);
  });
});

describe('the official SDK', () => {
  it('reads the model list and a Bedrock token count', async () => {
    const k = await bedrockOnlyKey(true);
    const client = new Anthropic({ baseURL: `${proxy.url}/ak/${k.rawKey}`, apiKey: 'sk-ant-api03-dev', maxRetries: 0 });
    const page = await client.models.list();
    expect(page.data.length).toBeGreaterThan(10);
    expect(page.data[0]).toMatchObject({ type: 'model', id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5' });
    const all: string[] = [];
    for await (const model of client.models.list({ limit: 5 })) all.push(model.id);
    expect(all).toEqual(page.data.map((m) => m.id));
    expect((await client.models.retrieve('claude-haiku-4-5')).display_name).toBe('Claude Haiku 4.5');

    const before = bedrock.requests.length;
    const count = await client.messages.countTokens(countBody());
    expect(count.input_tokens).toBeGreaterThan(0);
    expect(bedrock.requests.slice(before).map((r) => r.operation)).toEqual(['count-tokens']);
  });
});
