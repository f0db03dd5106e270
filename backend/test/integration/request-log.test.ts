import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatZoned, startOf } from '../../src/accounting/calendar.ts';
import { formatUsd, toPico } from '../../src/accounting/money.ts';
import type { UsageEvent } from '../../src/accounting/usage-event.ts';
import { accessKeys } from '../../src/db/schema.ts';
import { adminClient, type AdminCall, type AdminResponse } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';
import { usageEvent } from '../support/usage-events.ts';

// The request log (GET /admin/requests and its CSV), the CSV twins of the usage tables, the error
// report, served vs failed fallbacks, and the user list's usage figures (README, "Requests and
// errors"). Events go in through the app's own recorder, priced as the proxy prices them.

type Key = { userId: string; accessKeyId: string };

interface Row {
  id: string;
  request_id: string;
  occurred_at: string;
  user_id: string;
  user_name: string | null;
  access_key_id: string;
  key_prefix: string | null;
  provider: string;
  is_fallback: boolean;
  requested_model: string | null;
  served_model: string | null;
  status_code: number;
  outcome: string;
  error_code: string | null;
  cost_usd: string | null;
  [field: string]: unknown;
}
interface Page {
  items: Row[];
  next_cursor: string | null;
  timezone: string;
}

function event(key: Key, at: string, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ occurredAt: new Date(at), ...key, inputTokens: 1000, outputTokens: 100, latencyMs: 50, ttfbMs: 5, ...over });
}

/** The CSV's rows as objects; the JSON rows with every value as CSV writes it (null empty, booleans true/false). */
const parseCsv = (text: string): Record<string, string>[] => parse(text, { columns: true, bom: true }) as Record<string, string>[];
const asCsv = (row: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]));

describe(`request log on ${testDatabaseKind()}`, () => {
  let proxy: TestApp;
  let admin: AdminCall;
  let alice: Key;
  let bob: Key;
  let mallory: Key;
  /** Every seeded event of the June day, newest first as the log orders them (ties: later insert first). */
  let seeded: UsageEvent[];

  // 10 June 2026 in Seoul: 00:00 local is 15:00 UTC the day before.
  const DAY = '2026-06-10';
  const at = (localHour: number, minute = 0) => new Date(Date.UTC(2026, 5, 9, 15 + localHour, minute)).toISOString();
  const SAME = at(12); // several events at one instant, for paging

  beforeAll(async () => {
    // A zone ahead of UTC, so a local day and a UTC day differ.
    proxy = await startTestApp({ TIMEZONE: 'Asia/Seoul' });
    admin = await adminClient(proxy);
    alice = await proxy.createKey('alice-log');
    bob = await proxy.createKey('bob-log');
    // A user whose name a spreadsheet would run as a formula.
    mallory = await proxy.createKey("=HYPERLINK(\"http://x\",\"y\")");
    const bedrock = { provider: 'bedrock' as const, region: 'us-east-1', servedModel: 'us.anthropic.claude-opus-5-5' };
    seeded = [
      event(alice, at(1)),
      event(alice, at(2), { outcome: 'upstream_error', statusCode: 429, errorType: 'rate_limit_error', stopReason: null, inputTokens: 0, outputTokens: 0, fallbackUnavailable: 'no_bedrock_key' }),
      event(alice, at(3), { ...bedrock, isFallback: true, fallbackReason: 'rate_limited', cacheWrite5mTokens: 200, cacheWrite1hTokens: 300 }),
      event(bob, at(4), { ...bedrock, isFallback: true, fallbackReason: 'overloaded', outcome: 'upstream_error', statusCode: 429, errorType: 'rate_limit_error', errorCode: 'BEDROCK_THROTTLED', inputTokens: 0, outputTokens: 0, stopReason: null }),
      event(bob, at(5), { ...bedrock, outcome: 'rejected', statusCode: 429, errorType: 'rate_limit_error', errorCode: 'BUDGET_EXCEEDED', inputTokens: 0, outputTokens: 0, stopReason: null, ttfbMs: null }),
      event(bob, at(6), { outcome: 'aborted', stopReason: null }),
      event(bob, at(7), { outcome: 'upstream_error', statusCode: 502, errorType: null, inputTokens: 0, outputTokens: 0, stopReason: null }),
      event(bob, at(7, 30), { outcome: 'failed', statusCode: 200, errorType: 'overloaded_error', stopReason: null, endpoint: 'count_tokens' }),
      event(mallory, at(8), { requestedModel: '@SUM(1+1)', servedModel: '-2+3', inputTokens: 10, outputTokens: 1 }),
      event(alice, at(9), { fallbackUnavailable: 'no_mapping', outcome: 'upstream_error', statusCode: 529, errorType: 'overloaded_error', inputTokens: 0, outputTokens: 0, stopReason: null }),
      ...Array.from({ length: 7 }, (_, i) => event(i % 2 ? alice : bob, SAME, { outputTokens: i })),
    ];
    for (const e of seeded) proxy.app.recorder.record(e);
    await proxy.flushUsage();
    seeded = [...seeded].reverse().sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
  });
  afterAll(() => proxy.close());

  const get = async (path: string): Promise<AdminResponse> => admin('GET', path);
  const page = async (query: string): Promise<Page> => {
    const res = await get(`/admin/requests?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Page;
  };
  const ofDay = `from=${encodeURIComponent(`${DAY}T00:00:00+09:00`)}&to=${encodeURIComponent('2026-06-11T00:00:00+09:00')}`;
  const codeOf = (e: UsageEvent) => e.errorCode ?? e.errorType ?? `http_${e.statusCode}`;

  it('shows each request with its user, key prefix, codes, tokens and cost, newest first', async () => {
    const all = await page(`${ofDay}&limit=200`);
    expect(all.timezone).toBe('Asia/Seoul');
    expect(all.next_cursor).toBeNull();
    expect(all.items.map((r) => r.request_id)).toEqual(seeded.map((e) => e.requestId));
    const [key] = await proxy.database.db.select().from(accessKeys).where(eq(accessKeys.id, alice.accessKeyId));
    const fallback = all.items.find((r) => r.request_id === seeded.find((e) => e.fallbackReason === 'rate_limited')!.requestId)!;
    expect(fallback).toEqual({
      id: expect.stringMatching(/^\d+$/),
      request_id: expect.stringMatching(/^req_/),
      occurred_at: '2026-06-10T03:00:00+09:00',
      user_id: alice.userId,
      user_name: 'alice-log',
      access_key_id: alice.accessKeyId,
      key_prefix: key!.keyPrefix,
      endpoint: 'messages',
      provider: 'bedrock',
      is_fallback: true,
      fallback_reason: 'rate_limited',
      fallback_unavailable: null,
      requested_model: 'claude-opus-5-5',
      served_model: 'us.anthropic.claude-opus-5-5',
      stream: true,
      status_code: 200,
      outcome: 'completed',
      error_type: null,
      error_code: null,
      stop_reason: 'end_turn',
      latency_ms: 50,
      ttfb_ms: 5,
      input_tokens: 1000,
      output_tokens: 100,
      cache_read_tokens: 0,
      cache_write_tokens: 500,
      cost_usd: expect.stringMatching(/^0\.\d+$/),
    });
    const cost = (r: Row) => r.cost_usd;
    expect(all.items.filter((r) => r.request_id === seeded.find((e) => e.requestedModel === '@SUM(1+1)')!.requestId).map(cost)).toEqual([null]); // no price
    expect(JSON.stringify(all)).not.toMatch(/key_hash|ak_[A-Za-z0-9]{20}/);
  });

  it.each<[string, (e: UsageEvent) => boolean]>([
    ['user_id', (e) => e.userId === alice.userId],
    ['access_key_id', (e) => e.accessKeyId === bob.accessKeyId],
    ['provider=bedrock', (e) => e.provider === 'bedrock'],
    ['model=us.anthropic.claude-opus-5-5', (e) => e.servedModel === 'us.anthropic.claude-opus-5-5'],
    ['model=@SUM(1+1)', (e) => e.requestedModel === '@SUM(1+1)'],
    ['status_class=4xx', (e) => e.statusCode >= 400 && e.statusCode < 500],
    ['status_class=5xx', (e) => e.statusCode >= 500],
    ['outcome=upstream_error', (e) => e.outcome === 'upstream_error'],
    ['code=BUDGET_EXCEEDED', (e) => e.errorCode === 'BUDGET_EXCEEDED'],
    ['code=rate_limit_error', (e) => codeOf(e) === 'rate_limit_error'],
    ['code=http_502', (e) => codeOf(e) === 'http_502'],
    ['fallback_unavailable=no_mapping', (e) => e.fallbackUnavailable === 'no_mapping'],
    ['fallback=true', (e) => e.isFallback],
    ['fallback=false', (e) => !e.isFallback],
    ['from and to', (e) => e.occurredAt >= new Date(at(3)) && e.occurredAt < new Date(at(7, 30))],
  ])('narrows by %s', async (name, keep) => {
    const query: Record<string, string> = {
      user_id: `user_id=${alice.userId}`,
      access_key_id: `access_key_id=${bob.accessKeyId}`,
      'from and to': `from=${encodeURIComponent(at(3))}&to=${encodeURIComponent(new Date(at(7, 30)).toISOString().replace('Z', '+00:00'))}`,
    };
    const q = query[name] ?? name.replace(/=(.*)$/, (_, v: string) => `=${encodeURIComponent(v)}`);
    const expected = seeded.filter(keep).map((e) => e.requestId);
    expect(expected.length, 'the filter keeps some, not all').toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(seeded.length);
    const got = await page(`${q}&limit=200${name === 'from and to' ? '' : `&${ofDay}`}`);
    expect(got.items.map((r) => r.request_id)).toEqual(expected);
  });

  it('pages through every row once, in order, across equal timestamps', async () => {
    const whole = (await page(`${ofDay}&limit=200`)).items.map((r) => r.id);
    for (const limit of [1, 2, 3]) {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const p: Page = await page(`${ofDay}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(p.items.length).toBeLessThanOrEqual(limit);
        ids.push(...p.items.map((r) => r.id));
        cursor = p.next_cursor;
        pages++;
      } while (cursor && pages < 100);
      expect(ids, `limit ${limit}`).toEqual(whole);
    }
    // A cursor keeps its filters' meaning: the next page of one user's rows holds only theirs.
    const first = await page(`user_id=${bob.userId}&limit=2`);
    const next = await page(`user_id=${bob.userId}&limit=200&cursor=${encodeURIComponent(first.next_cursor!)}`);
    expect(next.items.every((r) => r.user_id === bob.userId)).toBe(true);
    expect([...first.items, ...next.items].map((r) => r.request_id)).toEqual(seeded.filter((e) => e.userId === bob.userId).map((e) => e.requestId));
  });

  it('refuses a bad cursor or filter with a 400 naming the field', async () => {
    const { next_cursor: cursor } = await page('limit=1');
    const tampered = `${cursor!.slice(0, 4)}${cursor![4] === 'A' ? 'B' : 'A'}${cursor!.slice(5)}`;
    const cases: [string, string][] = [
      ['cursor=garbage', 'cursor'],
      [`cursor=${encodeURIComponent(tampered)}`, 'cursor'],
      [`cursor=${Buffer.from('["2026-06-10T00:00:00.000000Z","0"]').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
      ['user_id=alice', 'user_id'],
      ['access_key_id=1', 'access_key_id'],
      ['provider=openai', 'provider'],
      ['status_class=6xx', 'status_class'],
      ['outcome=ok', 'outcome'],
      ['fallback_unavailable=none', 'fallback_unavailable'],
      ['fallback=maybe', 'fallback'],
      ['from=yesterday', 'from'],
      ['to=2026-06-10', 'to'],
      [`from=${encodeURIComponent(at(5))}&to=${encodeURIComponent(at(4))}`, 'to'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['code=', 'code'],
      ['surprise=1', 'surprise'],
    ];
    for (const [query, field] of cases) {
      for (const path of ['/admin/requests', '/admin/requests.csv']) {
        if (path.endsWith('.csv') && /^(cursor|limit)=/.test(query)) continue;
        const res = await get(`${path}?${query}`);
        expect(res.status, `${path}?${query}`).toBe(400);
        expect(res.headers['content-type'], query).toMatch(/^application\/json/);
        expect(res.body.error, `${path}?${query}`).toEqual({ type: 'invalid_request_error', message: expect.stringMatching(new RegExp(`^${field}: `)) });
      }
    }
    // The CSV has no pages.
    expect((await get(`/admin/requests.csv?cursor=${encodeURIComponent(cursor!)}`)).body.error.message).toBe('cursor: is not a known field');
    expect((await admin('GET', '/admin/requests', undefined, { token: null })).status).toBe(401);
    expect((await admin('GET', '/admin/requests.csv', undefined, { token: null })).status).toBe(401);
  });

  it('exports the same rows as CSV, with formulas neutralised', async () => {
    const json = await page(`${ofDay}&limit=200`);
    const res = await get(`/admin/requests.csv?${ofDay}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="requests-\d{4}-\d{2}-\d{2}\.csv"$/);
    // The bytes as sent (a fetch-style text() drops the byte order mark).
    const raw = await request(`${proxy.url}/admin/requests.csv?${ofDay}`, { headers: { authorization: `Bearer ${await proxy.adminToken()}` } });
    const text = Buffer.from(await raw.body.arrayBuffer()).toString('utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const header = text.slice(1).split(/\r?\n/)[0]!;
    expect(header.split(',')).toEqual(Object.keys(json.items[0]!));
    const rows = parseCsv(text);
    const formula = (v: string | null) => v !== null && /^[=+\-@]/.test(v);
    // Every cell as JSON has it, except a text cell a spreadsheet would run: that one gets a leading '.
    expect(rows).toEqual(json.items.map((r) => asCsv(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && formula(v) ? `'${v}` : v])))));
    const evil = rows.find((r) => r.user_id === mallory.userId)!;
    expect(evil).toMatchObject({ user_name: `'=HYPERLINK("http://x","y")`, requested_model: "'@SUM(1+1)", served_model: "'-2+3", cost_usd: '' });
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+@]/);

    const filtered = parseCsv((await get(`/admin/requests.csv?${ofDay}&user_id=${bob.userId}&outcome=upstream_error`)).body as string);
    expect(filtered.map((r) => r.request_id)).toEqual(seeded.filter((e) => e.userId === bob.userId && e.outcome === 'upstream_error').map((e) => e.requestId));
  });

  it('exports more rows than one database read, each once and newest first', async () => {
    const dave = await proxy.createKey('dave-bulk');
    // 2,500 requests, most at one instant: chunks of the export meet inside a run of equal timestamps.
    const bulk = Array.from({ length: 2_500 }, (_, i) => event(dave, i < 2_000 ? '2026-05-01T00:00:00Z' : new Date(Date.UTC(2026, 4, 1, 1, 0, i)).toISOString()));
    await proxy.app.accounting.usage.insertBatch(bulk.map((e) => ({ ...e, cost: proxy.app.accounting.price(e) })));
    const rows = parseCsv((await get(`/admin/requests.csv?user_id=${dave.userId}`)).body as string);
    expect(rows).toHaveLength(2_500);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2_500);
    const ids = rows.map((r) => BigInt(r.id!));
    // Newest first; within the 2,000 equal instants, the higher id first.
    expect(rows.slice(0, 500).map((r) => r.occurred_at)).toEqual([...bulk.slice(2_000)].reverse().map((e) => formatSeoul(e.occurredAt)));
    expect(ids.slice(500).every((id, i, all) => i === 0 || id < all[i - 1]!)).toBe(true);
  });

  it('exports the usage tables as CSV twins of their JSON', async () => {
    const range = `start_date=${DAY}&end_date=${DAY}`;
    for (const [path, items] of [
      [`/admin/usage?${range}&bucket=hour`, 'buckets'],
      [`/admin/usage/top-users?${range}&by=cost`, 'items'],
      [`/admin/usage/cost-breakdown?${range}`, 'items'],
    ] as const) {
      const json = await get(path);
      expect(json.status).toBe(200);
      const [route, query] = path.split('?') as [string, string];
      const csv = await get(`${route}.csv?${query}`);
      expect(csv.status, route).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe(`attachment; filename="${route.split('/').at(-1)}-${DAY}.csv"`);
      const expected = (json.body[items] as Record<string, unknown>[]).map((r) => asCsv(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^[=+\-@]/.test(v) ? `'${v}` : v]))));
      expect(expected.length, route).toBeGreaterThan(0);
      expect(parseCsv(csv.body as string), route).toEqual(expected);
    }
    const top = parseCsv((await get(`/admin/usage/top-users.csv?${range}&by=cost`)).body as string);
    expect(top.find((r) => r.user_id === mallory.userId)?.name).toBe(`'=HYPERLINK("http://x","y")`);
    const longer = await get('/admin/usage.csv?start_date=2026-06-01&end_date=2026-06-30');
    expect(longer.headers['content-disposition']).toBe('attachment; filename="usage-2026-06-01_2026-06-30.csv"');
    expect(parseCsv(longer.body as string)).toHaveLength(30);
    // A bad query: the JSON route's 400.
    for (const route of ['/admin/usage', '/admin/usage/top-users', '/admin/usage/cost-breakdown']) {
      const json = await get(`${route}?start_date=2026-06-02&end_date=2026-06-01`);
      const csv = await get(`${route}.csv?start_date=2026-06-02&end_date=2026-06-01`);
      expect(json.status).toBe(400);
      expect({ status: csv.status, body: csv.body }).toEqual({ status: 400, body: json.body });
    }
  });

  it('lists the routes in the OpenAPI document, the CSV ones as text/csv', async () => {
    const doc = (await get('/admin/openapi.json')).body as { paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }> };
    for (const path of ['/admin/requests', '/admin/usage/errors']) expect(Object.keys(doc.paths[path]?.get?.responses['200']?.content ?? {}), path).toEqual(['application/json']);
    for (const path of ['/admin/requests.csv', '/admin/usage.csv', '/admin/usage/top-users.csv', '/admin/usage/cost-breakdown.csv']) {
      expect(Object.keys(doc.paths[path]?.get?.responses['200']?.content ?? {}), path).toEqual(['text/csv']);
      expect(doc.paths[path]?.get?.responses['400'], path).toBeDefined();
    }
  });

  it('counts errors per code and per hour, with every hour of the day listed', async () => {
    const res = await get(`/admin/usage/errors?start_date=${DAY}&end_date=${DAY}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const r = res.body;
    const errors = seeded.filter((e) => ['upstream_error', 'rejected', 'failed'].includes(e.outcome));
    expect(r).toMatchObject({
      period: { start: '2026-06-10T00:00:00+09:00', end: '2026-06-11T00:00:00+09:00', timezone: 'Asia/Seoul' },
      bucket: 'hour',
      requests: seeded.length,
      errors: errors.length,
      aborted: 1,
    });
    expect(errors).toHaveLength(6);
    expect(r.error_rate).toBeCloseTo(6 / seeded.length, 12);
    expect(r.by_code).toEqual([
      { code: 'BEDROCK_THROTTLED', status_code: 429, requests: 1 },
      { code: 'BUDGET_EXCEEDED', status_code: 429, requests: 1 },
      { code: 'http_502', status_code: 502, requests: 1 },
      { code: 'overloaded_error', status_code: 200, requests: 1 },
      { code: 'overloaded_error', status_code: 529, requests: 1 },
      { code: 'rate_limit_error', status_code: 429, requests: 1 },
    ]);
    expect(r.buckets).toHaveLength(24);
    expect(r.buckets[0]).toEqual({ start: '2026-06-10T00:00:00+09:00', requests: 0, errors: 0 });
    const busy = r.buckets.filter((b: { requests: number }) => b.requests > 0).map((b: { start: string; requests: number; errors: number }) => [b.start.slice(11, 13), b.requests, b.errors]);
    expect(busy).toEqual([
      ['01', 1, 0],
      ['02', 1, 1],
      ['03', 1, 0],
      ['04', 1, 1],
      ['05', 1, 1],
      ['06', 1, 0], // aborted: not an error
      ['07', 2, 2],
      ['08', 1, 0],
      ['09', 1, 1],
      ['12', 7, 0],
    ]);
    // One user, one provider; a week in day buckets; a period without requests.
    const bob1 = (await get(`/admin/usage/errors?start_date=${DAY}&end_date=${DAY}&user_id=${bob.userId}&provider=bedrock`)).body;
    expect(bob1).toMatchObject({ requests: 2, errors: 2, aborted: 0, error_rate: 1 });
    expect(bob1.by_code.map((c: { code: string }) => c.code)).toEqual(['BEDROCK_THROTTLED', 'BUDGET_EXCEEDED']);
    const week = (await get('/admin/usage/errors?start_date=2026-06-08&end_date=2026-06-14')).body;
    expect(week.bucket).toBe('day');
    expect(week.buckets.map((b: { start: string; requests: number; errors: number }) => [b.start, b.requests, b.errors])).toEqual([
      ['2026-06-08T00:00:00+09:00', 0, 0],
      ['2026-06-09T00:00:00+09:00', 0, 0],
      ['2026-06-10T00:00:00+09:00', seeded.length, 6],
      ['2026-06-11T00:00:00+09:00', 0, 0],
      ['2026-06-12T00:00:00+09:00', 0, 0],
      ['2026-06-13T00:00:00+09:00', 0, 0],
      ['2026-06-14T00:00:00+09:00', 0, 0],
    ]);
    expect((await get('/admin/usage/errors?start_date=2026-07-01&end_date=2026-07-01')).body).toMatchObject({ requests: 0, errors: 0, error_rate: null, by_code: [] });
    const bad = await get('/admin/usage/errors?start_date=2026-06-10&end_date=2026-06-09');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^end_date: /);
    expect((await get('/admin/usage/errors?bucket=hour')).body.error.message).toBe('bucket: is not a known field');
  });

  it('counts only served fallbacks as fallbacks, and the failed and impossible ones apart', async () => {
    const res = await get(`/admin/usage/fallbacks?start_date=${DAY}&end_date=${DAY}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      requests: seeded.length,
      fallback_requests: 1,
      fallback_rate: 1 / seeded.length,
      reasons: [{ reason: 'rate_limited', requests: 1 }],
      failed_fallbacks: 1,
      fallback_unavailable: [
        { reason: 'no_bedrock_key', requests: 1 },
        { reason: 'no_mapping', requests: 1 },
      ],
    });
    const bobs = (await get(`/admin/usage/fallbacks?start_date=${DAY}&end_date=${DAY}&user_id=${bob.userId}`)).body;
    expect(bobs).toMatchObject({ fallback_requests: 0, reasons: [], failed_fallbacks: 1, fallback_unavailable: [] });
  });

  it("lists each user's last request and this month's requests and cost", async () => {
    const carol = await proxy.createKey('carol-now');
    const idle = await proxy.createKey('idle-user');
    const now = Date.now();
    const monthStart = startOf(new Date(now), 'month', 'Asia/Seoul');
    // This month (right now, and at its first instant) and 40 days ago (always an earlier month).
    const recent = [event(carol, new Date(now - 1000).toISOString()), event(carol, monthStart.toISOString(), { provider: 'bedrock', region: 'us-east-1', isFallback: true, fallbackReason: 'rate_limited' })];
    const old = event(carol, new Date(now - 40 * 86_400_000).toISOString());
    for (const e of [...recent, old]) proxy.app.recorder.record(e);
    await proxy.flushUsage();

    const res = await get('/admin/users?limit=500');
    expect(res.status).toBe(200);
    const item = (id: string) => res.body.items.find((u: { id: string }) => u.id === id);
    const logged = (await page(`user_id=${carol.userId}&from=${encodeURIComponent(monthStart.toISOString())}&limit=200`)).items;
    expect(logged).toHaveLength(2);
    expect(item(carol.userId)).toMatchObject({
      last_seen_at: formatSeoul(recent[0]!.occurredAt),
      month_requests: 2,
      month_cost_usd: formatUsd(logged.reduce((sum, r) => sum + toPico(r.cost_usd!), 0n)),
    });
    expect(item(carol.userId).month_cost_usd).not.toBe('0.00');
    expect(item(idle.userId)).toMatchObject({ last_seen_at: null, month_requests: 0, month_cost_usd: '0.00' });
    // June's traffic is not this month's, but it is when Alice was last seen.
    expect(item(alice.userId)).toMatchObject({ last_seen_at: '2026-06-10T12:00:00+09:00', month_requests: 0 });
  });
});

function formatSeoul(t: Date): string {
  return formatZoned(t, 'Asia/Seoul');
}
