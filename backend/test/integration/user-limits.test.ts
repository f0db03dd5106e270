import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testDatabaseKind } from '../support/db.ts';

const params = { model: 'claude-opus-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

describe(`per-user request limits on ${testDatabaseKind()}`, () => {
  let anthropic: FakeAnthropic;
  let proxy: TestApp;
  let admin: AdminCall;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    proxy = await startTestApp({ PLAN_API_URL: anthropic.url });
    admin = await adminClient(proxy);
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
  });

  const post = (rawKey: string, path = 'messages') =>
    request(`${proxy.url}/ak/${rawKey}/v1/${path}`, { method: 'POST', body: JSON.stringify(params), headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' } });

  it('shows and sets limits, audited; null removes one, and what is not named stays', async () => {
    const key = await proxy.createKey();
    expect((await admin('GET', `/admin/users/${key.userId}/limits`)).body).toEqual({ user_id: key.userId, max_requests_per_minute: null, max_in_flight: null, scope: 'per_task' });
    expect((await admin('PUT', `/admin/users/${key.userId}/limits`, { max_requests_per_minute: 30, max_in_flight: 2 })).body).toMatchObject({ max_requests_per_minute: 30, max_in_flight: 2 });
    expect((await admin('PUT', `/admin/users/${key.userId}/limits`, { max_in_flight: null })).body).toMatchObject({ max_requests_per_minute: 30, max_in_flight: null });
    for (const body of [{}, { max_in_flight: 0 }, { max_in_flight: 1.5 }, { max_requests_per_minute: 'many' }]) {
      expect((await admin('PUT', `/admin/users/${key.userId}/limits`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await admin('PUT', '/admin/users/00000000-0000-4000-8000-000000000000/limits', { max_in_flight: 1 })).status).toBe(404);
    expect((await auditOf(proxy, key.userId)).filter((e) => e.action === 'user.limits')).toHaveLength(2);
  });

  it('answers 429 with retry-after past the requests-per-minute limit, from the next request on', async () => {
    const key = await proxy.createKey();
    await admin('PUT', `/admin/users/${key.userId}/limits`, { max_requests_per_minute: 2 });
    const statuses: number[] = [];
    let refused: { headers: Record<string, unknown>; body: { error: { type: string; message: string } } } | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await post(key.rawKey);
      statuses.push(res.statusCode);
      const body = (await res.body.json()) as { error: { type: string; message: string } };
      if (res.statusCode === 429) refused = { headers: res.headers, body };
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(refused!.body.error).toEqual({ type: 'rate_limit_error', message: expect.stringMatching(/^This user may make at most 2 requests per minute through the proxy; retry in \d+ s$/) });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(refused!.headers['x-should-retry']).toBeUndefined(); // Claude Code may retry after the wait
    // count_tokens is not limited
    expect((await post(key.rawKey, 'messages/count_tokens')).statusCode).toBe(200);
    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.userId, key.userId));
    expect(rows.filter((r) => r.statusCode === 429)).toEqual([expect.objectContaining({ outcome: 'rejected', errorType: 'rate_limit_error' })]);
  });

  it('answers 429 past the in-flight limit while requests run, and admits again when they end', async () => {
    const key = await proxy.createKey();
    await admin('PUT', `/admin/users/${key.userId}/limits`, { max_in_flight: 1 });
    anthropic.reply({ kind: 'stream', events: messageToEvents(textMessage()), firstByteDelayMs: 500 });
    const slow = post(key.rawKey);
    await new Promise((r) => setTimeout(r, 100));
    const second = await post(key.rawKey);
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    await second.body.arrayBuffer();
    const first = await slow;
    expect(first.statusCode).toBe(200);
    await first.body.arrayBuffer();
    const third = await post(key.rawKey);
    expect(third.statusCode).toBe(200);
    await third.body.arrayBuffer();
  });
});
