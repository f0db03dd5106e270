import { and, gte, inArray, lt } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd, toPico } from '../../src/accounting/money.ts';
import type { UsageEvent } from '../../src/accounting/usage-event.ts';
import { usageEvents } from '../../src/db/schema.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';
import { usageEvent } from '../support/usage-events.ts';

// Reports read the rollups written with the events; these tests write events at chosen instants
// through the app's own recorder (priced as the proxy prices them) and read them back.

type Key = { userId: string; accessKeyId: string };

function event(key: Key, at: string, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ occurredAt: new Date(at), ...key, inputTokens: 1000, outputTokens: 100, latencyMs: 50, ttfbMs: 5, ...over });
}

async function record(app: TestApp, events: UsageEvent[]): Promise<void> {
  for (const e of events) app.app.recorder.record(e);
  await app.flushUsage();
}

interface Totals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: string;
  input_cost_usd: string;
  output_cost_usd: string;
  cache_read_cost_usd: string;
  cache_write_cost_usd: string;
}
interface Report {
  period: { start: string; end: string; timezone: string };
  bucket: string;
  totals: Totals;
  buckets: (Totals & { start: string })[];
}

describe(`usage reports on ${testDatabaseKind()}`, () => {
  let proxy: TestApp;
  let admin: AdminCall;
  let alice: Key;
  let bob: Key;

  // 23:59:59 on 31 October and 00:00:00 on 1 November, Asia/Seoul (TIMEZONE below)
  const LAST_SECOND = '2026-10-31T14:59:59Z';
  const MIDNIGHT = '2026-10-31T15:00:00Z';

  beforeAll(async () => {
    proxy = await startTestApp({ TIMEZONE: 'Asia/Seoul' });
    admin = await adminClient(proxy);
    alice = await proxy.createKey('alice');
    bob = await proxy.createKey('bob');
    await record(proxy, [
      event(alice, LAST_SECOND), // $0.004 + $0.002 = $0.006
      event(alice, MIDNIGHT, { cacheReadTokens: 10_000, cacheWrite1hTokens: 500 }), // + $0.002 read + $0.004 1h write
      // Bob: more tokens on a cheaper model, and a Bedrock request
      event(bob, '2026-11-02T01:00:00Z', { servedModel: 'claude-haiku-4-5-20251001', requestedModel: 'claude-haiku-4-5', inputTokens: 50_000, outputTokens: 1000 }),
      event(bob, '2026-11-02T01:30:00Z', { provider: 'bedrock', region: 'us-east-1', servedModel: 'us.anthropic.claude-opus-5-5', inputTokens: 10, outputTokens: 10 }),
    ]);
  });
  afterAll(() => proxy.close());

  const usage = async (query: string): Promise<Report> => {
    const res = await admin('GET', `/admin/usage?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Report;
  };

  it('puts a request at 23:59:59 and one at 00:00:00 local time in different days (and months)', async () => {
    const days = await usage(`start_date=2026-10-31&end_date=2026-11-01&bucket=day&user_id=${alice.userId}`);
    expect(days.period).toEqual({ start: '2026-10-31T00:00:00+09:00', end: '2026-11-02T00:00:00+09:00', timezone: 'Asia/Seoul' });
    expect(days.buckets.map((b) => [b.start, b.requests])).toEqual([
      ['2026-10-31T00:00:00+09:00', 1],
      ['2026-11-01T00:00:00+09:00', 1],
    ]);
    const october = await usage(`start_date=2026-10-31&end_date=2026-10-31&user_id=${alice.userId}`);
    expect(october.totals.requests).toBe(1);
    const months = await usage(`start_date=2026-10-01&end_date=2026-11-30&bucket=month&user_id=${alice.userId}`);
    expect(months.buckets.map((b) => [b.start, b.requests, b.cost_usd])).toEqual([
      ['2026-10-01T00:00:00+09:00', 1, '0.006'],
      ['2026-11-01T00:00:00+09:00', 1, '0.012'],
    ]);
  });

  it('lists every bucket of the range, with zeros where there was no traffic', async () => {
    const hours = await usage(`start_date=2026-10-31&end_date=2026-11-01&bucket=hour&user_id=${alice.userId}`);
    expect(hours.bucket).toBe('hour');
    expect(hours.buckets).toHaveLength(48);
    const busy = hours.buckets.filter((b) => b.requests > 0).map((b) => b.start);
    expect(busy).toEqual(['2026-10-31T23:00:00+09:00', '2026-11-01T00:00:00+09:00']);
    expect(hours.buckets[0]).toMatchObject({ start: '2026-10-31T00:00:00+09:00', requests: 0, input_tokens: 0, cost_usd: '0.00', cache_write_cost_usd: '0.00' });
  });

  it('clips month buckets to a range that starts mid-month', async () => {
    const r = await usage(`start_date=2026-10-15&end_date=2026-12-10&bucket=month`);
    expect(r.buckets.map((b) => [b.start, b.requests])).toEqual([
      ['2026-10-15T00:00:00+09:00', 1],
      ['2026-11-01T00:00:00+09:00', 3],
      ['2026-12-01T00:00:00+09:00', 0],
    ]);
  });

  it('has totals equal to the sum of the events in the range, cost parts included', async () => {
    const r = await usage('start_date=2026-10-01&end_date=2026-11-30&bucket=day');
    const events = await proxy.database.db
      .select()
      .from(usageEvents)
      .where(and(inArray(usageEvents.userId, [alice.userId, bob.userId]), gte(usageEvents.occurredAt, new Date('2026-09-30T15:00:00Z')), lt(usageEvents.occurredAt, new Date('2026-11-30T15:00:00Z'))));
    const money = (pick: (e: (typeof events)[number]) => (string | null)[]) => formatUsd(events.reduce((s, e) => s + pick(e).reduce((t, v) => t + toPico(v ?? '0'), 0n), 0n));
    expect(r.totals).toMatchObject({
      requests: events.length,
      input_tokens: events.reduce((s, e) => s + e.inputTokens, 0),
      output_tokens: events.reduce((s, e) => s + e.outputTokens, 0),
      cache_read_tokens: events.reduce((s, e) => s + e.cacheReadTokens, 0),
      cache_write_tokens: events.reduce((s, e) => s + e.cacheWrite5mTokens + e.cacheWrite1hTokens, 0),
      cost_usd: money((e) => [e.costUsd]),
      input_cost_usd: money((e) => [e.inputCostUsd]),
      cache_write_cost_usd: money((e) => [e.cacheWrite5mCostUsd, e.cacheWrite1hCostUsd]),
    });
    // Alice $0.018; Bob 50,000 × $1 + 1,000 × $5 = $0.055 on Haiku, 10 × $4.40 + 10 × $22 = $0.000264 on Bedrock
    expect(r.totals.cost_usd).toBe('0.073264');
    const bucketSum = r.buckets.reduce((s, b) => s + toPico(b.cost_usd), 0n);
    expect(formatUsd(bucketSum)).toBe(r.totals.cost_usd);
  });

  it('counts nothing twice when a batch is written again (a replay after an outage)', async () => {
    const carol = await proxy.createKey('carol');
    // Late December, so no other test's range sees Carol.
    const batch = [event(carol, '2026-12-20T00:00:00Z'), event(carol, '2026-12-20T00:00:01Z')];
    const priced = batch.map((e) => ({ ...e, cost: proxy.app.accounting.price(e) }));
    await proxy.app.accounting.usage.insertBatch(priced);
    await proxy.app.accounting.usage.insertBatch(priced);
    await proxy.app.accounting.usage.insertBatch([...priced, priced[0]!]);
    const r = await usage(`start_date=2026-12-20&end_date=2026-12-20&user_id=${carol.userId}`);
    expect(r.totals).toMatchObject({ requests: 2, input_tokens: 2000, cost_usd: '0.012' });
  });

  it('filters by key, provider and model', async () => {
    const range = 'start_date=2026-10-01&end_date=2026-11-30';
    expect((await usage(`${range}&access_key_id=${bob.accessKeyId}`)).totals.requests).toBe(2);
    expect((await usage(`${range}&provider=bedrock`)).totals).toMatchObject({ requests: 1, cost_usd: '0.000264' });
    expect((await usage(`${range}&model=claude-haiku-4-5`)).totals).toMatchObject({ requests: 1, input_tokens: 50_000 });
  });

  it('ranks users by tokens or by cost', async () => {
    const range = 'start_date=2026-10-01&end_date=2026-11-30';
    const byTokens = await admin('GET', `/admin/usage/top-users?${range}&by=tokens&limit=2`);
    expect(byTokens.status).toBe(200);
    expect(byTokens.body.items.map((i: { name: string; total_tokens: number }) => [i.name, i.total_tokens])).toEqual([
      ['bob', 51_020],
      ['alice', 12_700],
    ]);
    const byCost = await admin('GET', `/admin/usage/top-users?${range}&by=cost`);
    expect(byCost.body.items.map((i: { name: string; cost_usd: string }) => [i.name, i.cost_usd])).toEqual([
      ['bob', '0.055264'],
      ['alice', '0.018'],
    ]);
  });

  it('breaks cost down by provider and model', async () => {
    const r = await admin('GET', '/admin/usage/cost-breakdown?start_date=2026-10-01&end_date=2026-11-30');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { provider: string; model: string; cost_usd: string }) => [i.provider, i.model, i.cost_usd])).toEqual([
      ['plan', 'claude-haiku-4-5', '0.055'],
      ['plan', 'claude-opus-5-5', '0.018'],
      ['bedrock', 'claude-opus-5-5', '0.000264'],
    ]);
    expect(r.body.totals.cost_usd).toBe('0.073264');
  });

  it('defaults to today in hours, and refuses what it cannot answer, naming the field', async () => {
    const today = await usage('');
    expect(today.bucket).toBe('hour');
    expect(today.buckets).toHaveLength(24);
    expect(today.period.timezone).toBe('Asia/Seoul');
    for (const [query, message] of [
      ['period=day&start_date=2026-11-01&end_date=2026-11-02', 'period: give either period or start_date/end_date, not both'],
      ['start_date=2026-11-01', 'end_date: is required with start_date'],
      ['start_date=2026-02-30&end_date=2026-03-01', 'start_date: must be a date like 2026-11-01 (got "2026-02-30")'],
      ['start_date=2026-01-01&end_date=2026-11-30&bucket=hour', 'bucket: hour buckets cover at most 31 days; use bucket=day'],
      ['period=year', 'period: must be one of day, week, month'],
      ['colour=blue', 'colour: is not a known field'],
    ]) {
      const res = await admin('GET', `/admin/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message, query).toBe(message);
    }
    expect((await admin('GET', '/admin/usage', undefined, { token: null })).status).toBe(401);
  });

  it('follows TIMEZONE: in UTC the same two instants fall on one day', async () => {
    const utc = await startTestApp({ TIMEZONE: 'UTC' });
    try {
      const key = await utc.createKey();
      await record(utc, [event(key, LAST_SECOND), event(key, MIDNIGHT)]);
      const res = await (await adminClient(utc))('GET', `/admin/usage?start_date=2026-10-31&end_date=2026-10-31&bucket=day`);
      expect(res.body.period.timezone).toBe('UTC');
      expect(res.body.buckets).toEqual([expect.objectContaining({ start: '2026-10-31T00:00:00+00:00', requests: 2 })]);
    } finally {
      await utc.close();
    }
  });
});
