import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic, type Reply } from '../fakes/anthropic.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';

// A fallback Anthropic's answer calls for but that cannot happen (README, "Bedrock fallback"): the
// client gets Anthropic's own answer, status, headers and bytes, never a proxy error in its place,
// and the usage event, the access line and the metrics say why (fallback_unavailable). The proxy's
// own final answers carry x-should-retry: false. GET /admin/fallback-readiness and the start-up
// warning name what stands in the way before a request meets it.

const BEDROCK_KEY = 'ABSK-fallback-unavailable-test-key';
const UNMAPPED = 'claude-imaginary-9';
const body = (model: string) => JSON.stringify({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });

/** Anthropic's rate limit as it sends it: these exact bytes and headers must reach the client. */
const ANTHROPIC_429 = Buffer.from('{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011CUpstream429"}');
const rateLimited = (): Reply => ({
  kind: 'raw',
  status: 429,
  headers: { 'content-type': 'application/json', 'retry-after': '7', 'anthropic-ratelimit-requests-remaining': '0', 'request-id': 'req_011CUpstream429' },
  body: ANTHROPIC_429,
});

describe(`a fallback that cannot happen, on ${testDatabaseKind()}`, () => {
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;
  let admin: AdminCall;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({
      PLAN_API_URL: anthropic.url,
      BEDROCK_ENDPOINT: bedrock.url,
      BEDROCK_REGION: 'us-east-1',
      CIRCUIT_FAILURE_THRESHOLD: '2',
      METRICS: 'prometheus',
    });
    admin = await adminClient(proxy);
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
    await bedrock.close();
  });

  async function keyFor(routing: 'plan_first' | 'bedrock_only' | 'plan_only', withBedrockKey: boolean) {
    const key = await proxy.createKey();
    if (withBedrockKey) expect((await admin('PUT', `/admin/access-keys/${key.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).status).toBe(200);
    if (routing !== 'plan_first') expect((await admin('PATCH', `/admin/users/${key.userId}`, { routing_strategy: routing })).status).toBe(200);
    return key;
  }

  const post = (rawKey: string, model: string) =>
    request(`${proxy.url}/ak/${rawKey}/v1/messages`, { method: 'POST', body: body(model), headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-dev' } });

  async function eventsOf(accessKeyId: string) {
    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, accessKeyId));
    return rows.sort((a, b) => a.id - b.id);
  }

  const accessLines = (keyPrefix: string) => proxy.logs.filter((l) => l.msg === 'request' && l.keyPrefix === keyPrefix);
  const prefixOf = (rawKey: string) => rawKey.slice(0, 11);

  it('no mapping for the model: Anthropic’s 429 reaches the client byte for byte, recorded as no_mapping', async () => {
    const key = await keyFor('plan_first', true);
    anthropic.reply(rateLimited());
    const res = await post(key.rawKey, UNMAPPED);
    const bytes = Buffer.from(await res.body.arrayBuffer());

    expect(res.statusCode).toBe(429);
    expect(bytes.equals(ANTHROPIC_429)).toBe(true);
    expect(res.headers).toMatchObject({ 'content-type': 'application/json', 'retry-after': '7', 'anthropic-ratelimit-requests-remaining': '0', 'request-id': 'req_011CUpstream429' });
    expect(res.headers['x-should-retry']).toBeUndefined(); // Anthropic's answer, retried as Claude Code would without a proxy
    expect(bedrock.requests).toHaveLength(0);

    const [event] = await eventsOf(key.accessKeyId);
    expect(event).toMatchObject({ provider: 'plan', isFallback: false, fallbackReason: null, fallbackUnavailable: 'no_mapping', statusCode: 429, outcome: 'upstream_error', errorType: 'rate_limit_error', errorCode: null });
    expect(accessLines(prefixOf(key.rawKey))).toEqual([expect.objectContaining({ status: 429, provider: 'plan', fallbackUnavailable: 'no_mapping', model: UNMAPPED })]);
  });

  it('a mapped model with the same key falls back as before: nothing is recorded as unavailable', async () => {
    const key = await keyFor('plan_first', true);
    anthropic.reply(rateLimited());
    const res = await post(key.rawKey, 'claude-opus-4-7'); // mapped since the tables agree (test/unit/bedrock/model-tables.test.ts)
    expect(res.statusCode).toBe(200);
    await res.body.arrayBuffer();
    expect(bedrock.requests.at(-1)!.modelId).toBe('us.anthropic.claude-opus-4-7');
    const [event] = await eventsOf(key.accessKeyId);
    expect(event).toMatchObject({ provider: 'bedrock', fallbackReason: 'rate_limited', fallbackUnavailable: null });
  });

  it('no Bedrock key: Anthropic’s answers pass through as no_bedrock_key, and the breaker stays closed and says why', async () => {
    const key = await keyFor('plan_first', false);
    const before = bedrock.requests.length;
    // Three failures that would open a breaker at CIRCUIT_FAILURE_THRESHOLD=2.
    anthropic.reply(rateLimited(), rateLimited(), { kind: 'json', status: 529, headers: { 'x-should-retry': 'true' }, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    for (const status of [429, 429, 529]) {
      const res = await post(key.rawKey, 'claude-opus-5-5');
      expect(res.statusCode).toBe(status);
      await res.body.arrayBuffer();
    }
    expect(bedrock.requests).toHaveLength(before);

    const breaker = await admin('GET', `/admin/circuit-breakers/${key.accessKeyId}`);
    expect(breaker.body).toMatchObject({ state: 'closed', failures: 0, fallback_unavailable: 'no_bedrock_key' });
    // The user's key list says the same, not "closed" alone.
    const keys = await admin('GET', `/admin/users/${key.userId}/access-keys`);
    expect(keys.body.items).toContainEqual(expect.objectContaining({ id: key.accessKeyId, circuit_breaker: expect.objectContaining({ fallback_unavailable: 'no_bedrock_key' }) }));
    // Still Anthropic: the next answer is Anthropic's success, not a skip to a Bedrock it cannot use.
    const asked = anthropic.requests.length;
    const ok = await post(key.rawKey, 'claude-opus-5-5');
    expect(ok.statusCode).toBe(200);
    await ok.body.arrayBuffer();
    expect(anthropic.requests).toHaveLength(asked + 1);

    const events = await eventsOf(key.accessKeyId);
    expect(events.map((e) => [e.statusCode, e.provider, e.fallbackUnavailable])).toEqual([
      [429, 'plan', 'no_bedrock_key'],
      [429, 'plan', 'no_bedrock_key'],
      [529, 'plan', 'no_bedrock_key'],
      [200, 'plan', null],
    ]);
    expect(accessLines(prefixOf(key.rawKey)).map((l) => l.fallbackUnavailable)).toEqual(['no_bedrock_key', 'no_bedrock_key', 'no_bedrock_key', undefined]);
  });

  it('shows fallback_unavailable in the breaker view: null for a key that can fall back', async () => {
    const able = await keyFor('plan_first', true);
    anthropic.reply(rateLimited(), rateLimited());
    for (let i = 0; i < 2; i++) await (await post(able.rawKey, 'claude-opus-5-5')).body.arrayBuffer();
    const one = await admin('GET', `/admin/circuit-breakers/${able.accessKeyId}`);
    expect(one.body).toMatchObject({ state: 'open', reason: 'rate_limited', fallback_unavailable: null });
    const list = await admin('GET', '/admin/circuit-breakers');
    expect(list.body.items).toContainEqual(expect.objectContaining({ access_key_id: able.accessKeyId, state: 'open', fallback_unavailable: null }));
    const planOnly = await keyFor('plan_only', false);
    expect((await admin('GET', `/admin/circuit-breakers/${planOnly.accessKeyId}`)).body).toMatchObject({ state: 'closed', fallback_unavailable: null });
  });

  it('counts each one in the metrics, by reason', async () => {
    const text = await (await request(`${proxy.url}/metrics`)).body.text();
    expect(text).toContain('ccproxy_fallback_unavailable_total{reason="no_mapping"} 1');
    expect(text).toContain('ccproxy_fallback_unavailable_total{reason="no_bedrock_key"} 3');
  });

  it('the proxy’s own final answers say not to retry: unknown key, bedrock_only without a mapping or a Bedrock key, a budget refusal', async () => {
    const unknown = await post('ak_unknownunknownunknownunknown00', 'claude-opus-5-5');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.headers['x-should-retry']).toBe('false');
    await unknown.body.arrayBuffer();

    const bedrockOnly = await keyFor('bedrock_only', true);
    const unmapped = await post(bedrockOnly.rawKey, UNMAPPED);
    expect(unmapped.statusCode).toBe(400);
    expect(unmapped.headers['x-should-retry']).toBe('false');
    expect(((await unmapped.body.json()) as { error: { type: string; message: string } }).error).toEqual({
      type: 'invalid_request_error',
      message: `model: '${UNMAPPED}' has no Amazon Bedrock mapping; ask an administrator to add one`,
    });
    const [refused] = await eventsOf(bedrockOnly.accessKeyId);
    expect(refused).toMatchObject({ provider: 'bedrock', statusCode: 400, outcome: 'rejected', errorCode: 'BEDROCK_MODEL_UNKNOWN', fallbackUnavailable: null });

    const keyless = await keyFor('bedrock_only', false);
    const noKey = await post(keyless.rawKey, 'claude-opus-5-5');
    expect(noKey.statusCode).toBe(403);
    expect(noKey.headers['x-should-retry']).toBe('false');
    await noKey.body.arrayBuffer();

    const budgeted = await keyFor('bedrock_only', true);
    expect((await admin('PUT', `/admin/users/${budgeted.userId}/budget`, { monthly_budget_usd: '0.0001' })).status).toBe(200); // below one worst case
    const overBudget = await post(budgeted.rawKey, 'claude-opus-5-5');
    expect(overBudget.statusCode).toBe(429);
    expect(overBudget.headers['x-should-retry']).toBe('false');
    await overBudget.body.arrayBuffer();
    expect(bedrock.requests.filter((r) => r.modelId?.includes('imaginary'))).toEqual([]);
  });

  it('GET /admin/fallback-readiness lists the keys that cannot reach Bedrock and the priced models nothing maps', async () => {
    const planFirst = await keyFor('plan_first', false);
    const bedrockOnly = await keyFor('bedrock_only', false);
    const planOnly = await keyFor('plan_only', false);
    const ready = await keyFor('plan_first', true);
    const inactive = await keyFor('plan_first', false);
    expect((await admin('POST', `/admin/users/${inactive.userId}/deactivate`)).status).toBe(200);
    const revoked = await keyFor('plan_first', false);
    expect((await admin('DELETE', `/admin/access-keys/${revoked.accessKeyId}`)).status).toBe(204);

    const first = await admin('GET', '/admin/fallback-readiness');
    expect(first.status).toBe(200);
    expect(first.body.models_without_mapping).toEqual([]); // the shipped tables agree
    const listed = new Map((first.body.keys_without_bedrock_key as { access_key_id: string }[]).map((k) => [k.access_key_id, k]));
    const user = async (id: string) => (await admin('GET', `/admin/users/${id}`)).body.name as string;
    expect(listed.get(planFirst.accessKeyId)).toEqual({
      access_key_id: planFirst.accessKeyId,
      key_prefix: prefixOf(planFirst.rawKey),
      user_id: planFirst.userId,
      user_name: await user(planFirst.userId),
      routing_strategy: 'plan_first',
    });
    expect(listed.get(bedrockOnly.accessKeyId)).toMatchObject({ routing_strategy: 'bedrock_only', key_prefix: prefixOf(bedrockOnly.rawKey) });
    for (const absent of [planOnly, ready, inactive, revoked]) expect(listed.has(absent.accessKeyId)).toBe(false);

    // An admin prices a model no mapping covers: it is named until an admin maps it.
    const rates = { input_usd_per_mtok: '1', output_usd_per_mtok: '5', cache_write_5m_usd_per_mtok: '1.25', cache_write_1h_usd_per_mtok: '2', cache_read_usd_per_mtok: '0.1' };
    expect((await admin('POST', '/admin/pricing', { provider: 'anthropic', model: 'claude-imaginary-11', ...rates })).status).toBe(201);
    expect((await admin('GET', '/admin/fallback-readiness')).body.models_without_mapping).toEqual(['claude-imaginary-11']);
    expect((await admin('PUT', '/admin/model-mappings/claude-imaginary-11', { base_id: 'anthropic.claude-imaginary-11-v1:0', geographies: [] })).status).toBe(200);
    expect((await admin('GET', '/admin/fallback-readiness')).body.models_without_mapping).toEqual([]);
    expect((await admin('DELETE', '/admin/model-mappings/claude-imaginary-11')).status).toBe(204);

    // Its answer is in the OpenAPI document, like every admin route.
    expect((await admin('GET', '/admin/openapi.json')).body.paths['/admin/fallback-readiness']).toBeDefined();
  });

  it('warns at start-up, one line per kind of problem, without key material; nothing about keys under BEDROCK_AUTH=sigv4', async () => {
    const peer = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url }, { database: proxy.database });
    try {
      const warnings = peer.logs.filter((l) => l.level === 'warn').map((l) => String(l.msg));
      const readiness = (await adminClient(peer).then((a) => a('GET', '/admin/fallback-readiness'))).body;
      const count = (strategy: string) => (readiness.keys_without_bedrock_key as { routing_strategy: string }[]).filter((k) => k.routing_strategy === strategy).length;
      expect(warnings).toContain(`${count('plan_first')} access keys cannot fall back to Bedrock: no Bedrock key (plan_first); GET /admin/fallback-readiness lists them`);
      expect(warnings).toContain(`${count('bedrock_only')} access keys cannot reach Bedrock: no Bedrock key (bedrock_only: their requests are refused); GET /admin/fallback-readiness lists them`);
      expect(warnings).toContain('models without a Bedrock mapping (no fallback for them): claude-imaginary-11');
      for (const k of readiness.keys_without_bedrock_key as { key_prefix: string }[]) expect(peer.logText()).not.toContain(k.key_prefix);
    } finally {
      await peer.close();
    }

    const sigv4 = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_AUTH: 'sigv4' }, { database: proxy.database });
    try {
      expect(sigv4.logs.filter((l) => l.level === 'warn').map((l) => String(l.msg)).filter((m) => m.includes('access key'))).toEqual([]);
      const a = await adminClient(sigv4);
      expect((await a('GET', '/admin/fallback-readiness')).body.keys_without_bedrock_key).toEqual([]);
    } finally {
      await sigv4.close();
    }
  });
});
