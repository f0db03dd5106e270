import Anthropic from '@anthropic-ai/sdk';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd, toPico } from '../../src/accounting/money.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { cachedUsage, messageToEvents, textMessage, type Usage } from '../fakes/anthropic-messages.ts';
import { startFakeBedrock, type FakeBedrock, type FakeBedrockReply, type FakeFrame } from '../fakes/bedrock.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

// Every dollar right: what the upstream reported ends up in usage_events as reported (cache
// writes split 5m/1h included), priced exactly, Plan at API rates, Bedrock at the regional price.

type Mode = 'invoke' | 'converse' | 'messages';
const BEDROCK_KEY = 'bedrock-api-key-ABSKbW9uZXktdGVzdA==';
const params = { model: 'claude-opus-5-5', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'What does this cost?' }] };

/** What every upstream reports in these tests: reads, 5-minute and 1-hour cache writes. */
const REPORTED = { inputTokens: 9, outputTokens: 40, cacheReadTokens: 5400, cacheWrite5mTokens: 1200, cacheWrite1hTokens: 300 };
const wire: Usage = cachedUsage(REPORTED);

// Opus 5.5 at API list prices ($4 / $20 / read $0.20 / 5m $5 / 1h $8), worked by hand:
// 9 × 4 = $0.000036; 40 × 20 = $0.0008; 5,400 × 0.2 = $0.00108; 1,200 × 5 = $0.006; 300 × 8 = $0.0024
const PLAN_COST = { costUsd: '0.010316', inputCostUsd: '0.000036', outputCostUsd: '0.0008', cacheReadCostUsd: '0.00108', cacheWrite5mCostUsd: '0.006', cacheWrite1hCostUsd: '0.0024' };
// On Bedrock from us-east-1 (the us. profile: regional, +10%): $4.40 / $22 / $0.22 / $5.50 / $8.80
const BEDROCK_COST = { costUsd: '0.0113476', inputCostUsd: '0.0000396', outputCostUsd: '0.00088', cacheReadCostUsd: '0.001188', cacheWrite5mCostUsd: '0.0066', cacheWrite1hCostUsd: '0.00264' };

function bedrockReply(mode: Mode, stream: boolean): FakeBedrockReply {
  const message = textMessage({ text: 'priced', usage: wire });
  if (mode === 'converse') {
    const usage = {
      inputTokens: REPORTED.inputTokens,
      outputTokens: REPORTED.outputTokens,
      totalTokens: 6949,
      cacheReadInputTokens: REPORTED.cacheReadTokens,
      cacheWriteInputTokens: REPORTED.cacheWrite5mTokens + REPORTED.cacheWrite1hTokens,
      cacheDetails: [
        { ttl: '5m', inputTokens: REPORTED.cacheWrite5mTokens },
        { ttl: '1h', inputTokens: REPORTED.cacheWrite1hTokens },
      ],
    };
    if (!stream) return { body: { output: { message: { role: 'assistant', content: [{ text: 'priced' }] } }, stopReason: 'end_turn', usage, metrics: { latencyMs: 40 } } };
    const frames: FakeFrame[] = [
      { event: 'messageStart', payload: { role: 'assistant' } },
      { event: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'priced' } } },
      { event: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
      { event: 'messageStop', payload: { stopReason: 'end_turn' } },
      { event: 'metadata', payload: { usage, metrics: { latencyMs: 40 } } },
    ];
    return { frames };
  }
  if (!stream) return { body: message };
  const events = messageToEvents(message).map((e) => e.data as Record<string, unknown> & { type: string });
  return mode === 'invoke' ? { frames: events.map((chunk) => ({ chunk })) } : { sse: events };
}
const bedrockOp = (mode: Mode, stream: boolean) =>
  mode === 'messages' ? 'messages' : mode === 'invoke' ? (stream ? 'invoke-with-response-stream' : 'invoke') : stream ? 'converse-stream' : 'converse';

async function rowsOf(proxy: TestApp, accessKeyId: string) {
  await proxy.flushUsage();
  const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, accessKeyId));
  return rows.sort((a, b) => a.id - b.id);
}

describe('money: usage and cost of every request', () => {
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  const proxies: Record<Mode, TestApp> = {} as Record<Mode, TestApp>;
  let proxy: TestApp;
  let admin: AdminCall;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    for (const mode of ['invoke', 'converse', 'messages'] as const) {
      proxies[mode] = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_API: mode, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1', TIMEZONE: 'Asia/Seoul' });
    }
    proxy = proxies.invoke;
    admin = await adminClient(proxy);
  });
  afterAll(async () => {
    for (const p of Object.values(proxies)) await p.close();
    await anthropic.close();
    await bedrock.close();
  });

  async function bedrockUser(p: TestApp) {
    const key = await p.createKey();
    const call = await adminClient(p);
    expect((await call('PUT', `/admin/access-keys/${key.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).status).toBe(200);
    expect((await call('PATCH', `/admin/users/${key.userId}`, { routing_strategy: 'bedrock_only' })).status).toBe(200);
    return key;
  }

  it.each([true, false])('Plan (stream: %s): usage as Anthropic reported it, priced at API rates and marked as such', async (stream) => {
    const key = await proxy.createKey();
    const message = textMessage({ usage: wire });
    anthropic.reply(stream ? { kind: 'stream', events: messageToEvents(message) } : { kind: 'json', body: message });
    const client = new Anthropic({ baseURL: `${proxy.url}/ak/${key.rawKey}`, apiKey: 'sk-ant-test', maxRetries: 0 });
    const got = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    expect(got.usage.cache_read_input_tokens).toBe(REPORTED.cacheReadTokens);

    const [row] = await rowsOf(proxy, key.accessKeyId);
    expect(row).toMatchObject({ provider: 'plan', stream, ...REPORTED, ...PLAN_COST, region: null, budgetReservationId: null });
    expect(row!.priceSnapshot).toMatchObject({ pricing: 'anthropic_api', provider: 'anthropic', model: 'claude-opus-5-5', tier: 'standard' });
  });

  describe.each(['invoke', 'converse', 'messages'] as const)('Bedrock, BEDROCK_API=%s', (mode) => {
    it.each([true, false])('stream: %s — usage as Bedrock reported it, at the regional price for the served model', async (stream) => {
      const p = proxies[mode];
      const key = await bedrockUser(p);
      bedrock.reply(bedrockOp(mode, stream), bedrockReply(mode, stream));
      const client = new Anthropic({ baseURL: `${p.url}/ak/${key.rawKey}`, apiKey: 'unused', maxRetries: 0 });
      const got = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
      expect(got.usage).toMatchObject({ input_tokens: REPORTED.inputTokens, output_tokens: REPORTED.outputTokens, cache_read_input_tokens: REPORTED.cacheReadTokens });

      const [row] = await rowsOf(p, key.accessKeyId);
      expect(row).toMatchObject({ provider: 'bedrock', stream, servedModel: 'us.anthropic.claude-opus-5-5', region: 'us-east-1', ...REPORTED, ...BEDROCK_COST });
      expect(row!.priceSnapshot).toMatchObject({ pricing: 'bedrock', provider: 'bedrock', region: null, model: 'claude-opus-5-5', usd_per_mtok: { input: '4.40' } });
    });
  });

  it('records a request to a model with no price with a null cost and a warning naming it, never as $0', async () => {
    const key = await proxy.createKey();
    const message = textMessage({ model: 'claude-experimental-7', usage: wire });
    anthropic.reply({ kind: 'json', body: message });
    const client = new Anthropic({ baseURL: `${proxy.url}/ak/${key.rawKey}`, apiKey: 'sk-ant-test', maxRetries: 0 });
    await client.messages.create({ ...params, model: 'claude-experimental-7' });
    const [row] = await rowsOf(proxy, key.accessKeyId);
    expect(row).toMatchObject({ costUsd: null, inputCostUsd: null, priceSnapshot: null, ...REPORTED });
    expect(proxy.logs).toContainEqual(expect.objectContaining({ code: 'ACCOUNTING_NO_PRICE', model: 'claude-experimental-7', provider: 'plan' }));

    const report = await admin('GET', `/admin/usage?period=day&access_key_id=${key.accessKeyId}`);
    expect(report.body.totals).toMatchObject({ requests: 1, unpriced_requests: 1, input_tokens: 9, cost_usd: '0.00' });
  });

  it('a price change after the fact changes no recorded cost; requests after it use the new price', async () => {
    const key = await proxy.createKey();
    const haiku = textMessage({ model: 'claude-haiku-4-5-20251001', usage: { input_tokens: 1000, output_tokens: 500 } });
    const client = new Anthropic({ baseURL: `${proxy.url}/ak/${key.rawKey}`, apiKey: 'sk-ant-test', maxRetries: 0 });
    anthropic.reply({ kind: 'json', body: haiku });
    await client.messages.create({ ...params, model: 'claude-haiku-4-5' });
    const [before] = await rowsOf(proxy, key.accessKeyId);
    expect(before!.costUsd).toBe('0.0035'); // 1,000 × $1 + 500 × $5

    // Backdated: the new row is in effect for everything from 2026-01-01 (in TIMEZONE, Seoul here), history included.
    const added = await admin('POST', '/admin/pricing', {
      provider: 'anthropic',
      model: 'claude-haiku-4-5-20251001',
      input_usd_per_mtok: '2',
      output_usd_per_mtok: 10,
      cache_write_5m_usd_per_mtok: '2.5',
      cache_write_1h_usd_per_mtok: '4',
      cache_read_usd_per_mtok: '0.2',
      effective_from: '2026-01-01',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ model: 'claude-haiku-4-5', input_usd_per_mtok: '2.00', effective_from: '2025-12-31T15:00:00.000Z', in_effect: true });

    const [again] = await rowsOf(proxy, key.accessKeyId);
    expect(again).toMatchObject({ costUsd: '0.0035', priceSnapshot: before!.priceSnapshot });
    const report = await admin('GET', `/admin/usage?period=day&access_key_id=${key.accessKeyId}`);
    expect(report.body.totals.cost_usd).toBe('0.0035');

    anthropic.reply({ kind: 'json', body: haiku });
    await client.messages.create({ ...params, model: 'claude-haiku-4-5' });
    const rows = await rowsOf(proxy, key.accessKeyId);
    expect(rows.map((r) => r.costUsd)).toEqual(['0.0035', '0.007']);
    expect((rows[1]!.priceSnapshot as { price_id: string }).price_id).toBe(added.body.id);
  });

  it('after a mix of traffic, the report totals equal what the upstreams reported, priced exactly', async () => {
    const planKey = await proxy.createKey();
    const bedrockKey = await bedrockUser(proxy);
    const planClient = new Anthropic({ baseURL: `${proxy.url}/ak/${planKey.rawKey}`, apiKey: 'sk-ant-test', maxRetries: 0 });
    const bedrockClient = new Anthropic({ baseURL: `${proxy.url}/ak/${bedrockKey.rawKey}`, apiKey: 'unused', maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      anthropic.reply({ kind: 'stream', events: messageToEvents(textMessage({ usage: wire })) });
      await planClient.messages.stream(params).finalMessage();
      bedrock.reply(bedrockOp('invoke', false), bedrockReply('invoke', false));
      await bedrockClient.messages.create(params);
    }
    bedrock.reply(bedrockOp('invoke', false), { error: { name: 'ThrottlingException', message: 'Too many requests' } });
    await expect(bedrockClient.messages.create(params)).rejects.toMatchObject({ status: 429 });
    await proxy.flushUsage();

    const ids = [planKey.userId, bedrockKey.userId];
    const events = await proxy.database.db.select().from(usageEvents).where(inArray(usageEvents.userId, ids));
    expect(events).toHaveLength(7);
    const sum = (f: (e: (typeof events)[number]) => string | null) => formatUsd(events.reduce((s, e) => s + toPico(f(e) ?? '0'), 0n));

    for (const userId of ids) {
      const mine = events.filter((e) => e.userId === userId);
      const report = await admin('GET', `/admin/usage?period=month&bucket=day&user_id=${userId}`);
      expect(report.status).toBe(200);
      expect(report.body.totals).toMatchObject({
        requests: mine.length,
        input_tokens: mine.reduce((s, e) => s + e.inputTokens, 0),
        output_tokens: mine.reduce((s, e) => s + e.outputTokens, 0),
        cache_read_tokens: mine.reduce((s, e) => s + e.cacheReadTokens, 0),
        cache_write_tokens: mine.reduce((s, e) => s + e.cacheWrite5mTokens + e.cacheWrite1hTokens, 0),
      });
    }
    const both = await Promise.all(ids.map((id) => admin('GET', `/admin/usage?period=month&bucket=day&user_id=${id}`)));
    const reported = formatUsd(both.reduce((s, r) => s + toPico(r.body.totals.cost_usd), 0n));
    // 3 × $0.010316 (Plan) + 3 × $0.0113476 (Bedrock) + $0 for the throttled call
    expect(reported).toBe('0.0649908');
    expect(sum((e) => e.costUsd)).toBe(reported);

    const breakdown = await admin('GET', `/admin/usage/cost-breakdown?period=month&user_id=${bedrockKey.userId}`);
    expect(breakdown.body.items).toEqual([expect.objectContaining({ provider: 'bedrock', model: 'claude-opus-5-5', requests: 4, cost_usd: '0.0340428' })]);
  });
});
