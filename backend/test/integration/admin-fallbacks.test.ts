import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/accounting/usage-event.ts';
import { adminClient, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';
import { usageEvent } from '../support/usage-events.ts';

// GET /admin/usage/fallbacks: the dashboard's fallback rate, counted from the events of a period
// in TIMEZONE (Asia/Seoul here), for everyone or one user.

type Key = { userId: string; accessKeyId: string };

function event(key: Key, at: string, over: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({ occurredAt: new Date(at), ...key, inputTokens: 100, outputTokens: 10, latencyMs: 50, ttfbMs: 5, ...over });
}

interface Fallbacks {
  period: { start: string; end: string; timezone: string };
  requests: number;
  fallback_requests: number;
  fallback_rate: number | null;
  reasons: { reason: string | null; requests: number }[];
}

describe(`fallback report on ${testDatabaseKind()}`, () => {
  let proxy: TestApp;
  let admin: AdminCall;
  let carol: Key;
  let dan: Key;

  beforeAll(async () => {
    proxy = await startTestApp({ TIMEZONE: 'Asia/Seoul' });
    admin = await adminClient(proxy);
    carol = await proxy.createKey('carol-fallbacks');
    dan = await proxy.createKey('dan-fallbacks');
    const bedrock = (reason: string) => ({ provider: 'bedrock' as const, isFallback: true, fallbackReason: reason as UsageEvent['fallbackReason'], region: 'us-east-1' });
    for (const e of [
      // 1 September 2026 in Seoul
      event(carol, '2026-09-01T01:00:00Z'),
      event(carol, '2026-09-01T02:00:00Z', bedrock('rate_limited')),
      event(carol, '2026-09-01T03:00:00Z', bedrock('rate_limited')),
      event(carol, '2026-09-01T04:00:00Z', bedrock('overloaded')),
      // bedrock_only traffic is Bedrock but not a fallback
      event(dan, '2026-09-01T05:00:00Z', { provider: 'bedrock', region: 'us-east-1' }),
      // 23:59:59 on 31 August in Seoul: outside a report of 1 September
      event(dan, '2026-08-31T14:59:59Z', bedrock('rate_limited')),
    ]) {
      proxy.app.recorder.record(e);
    }
    await proxy.flushUsage();
  });
  afterAll(() => proxy.close());

  const fallbacks = async (query: string): Promise<Fallbacks> => {
    const res = await admin('GET', `/admin/usage/fallbacks?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Fallbacks;
  };

  it('counts the fallbacks of a day in TIMEZONE per reason, and their share of all requests', async () => {
    const day = await fallbacks('start_date=2026-09-01&end_date=2026-09-01');
    expect(day.period).toEqual({ start: '2026-09-01T00:00:00+09:00', end: '2026-09-02T00:00:00+09:00', timezone: 'Asia/Seoul' });
    expect(day.requests).toBe(5);
    expect(day.fallback_requests).toBe(3);
    expect(day.fallback_rate).toBeCloseTo(0.6, 10);
    expect(day.reasons).toEqual([
      { reason: 'rate_limited', requests: 2 },
      { reason: 'overloaded', requests: 1 },
    ]);
  });

  it('narrows to one user', async () => {
    const r = await fallbacks(`start_date=2026-09-01&end_date=2026-09-01&user_id=${dan.userId}`);
    expect(r).toMatchObject({ requests: 1, fallback_requests: 0, fallback_rate: 0, reasons: [] });
    const both = await fallbacks(`start_date=2026-08-31&end_date=2026-09-01&user_id=${dan.userId}`);
    expect(both).toMatchObject({ requests: 2, fallback_requests: 1, fallback_rate: 0.5 });
  });

  it('has no rate without requests, and refuses a bad range with the field named', async () => {
    expect(await fallbacks('start_date=2026-07-01&end_date=2026-07-31')).toMatchObject({ requests: 0, fallback_requests: 0, fallback_rate: null, reasons: [] });
    const bad = await admin('GET', '/admin/usage/fallbacks?start_date=2026-09-02&end_date=2026-09-01');
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { message: string } }).error.message).toMatch(/^end_date: /);
    const unauthenticated = await admin('GET', '/admin/usage/fallbacks?period=day', undefined, { token: null });
    expect(unauthenticated.status).toBe(401);
  });
});
