import { and, eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOf } from '../../src/accounting/calendar.ts';
import { formatUsd, toPico } from '../../src/accounting/money.ts';
import { createBudgetRepository } from '../../src/db/budget-repository.ts';
import { budgetLedgers, usageEvents } from '../../src/db/schema.ts';
import { createUsageRepository } from '../../src/db/usage-repository.ts';
import { createUserRepository } from '../../src/db/user-repository.ts';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { anthropicTextEvents, startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { adminClient, auditOf, type AdminCall } from '../support/admin.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { openTestDatabase, testDatabaseKind } from '../support/db.ts';
import { usageEvent } from '../support/usage-events.ts';

// Budgets hold under concurrency: each Bedrock call reserves its worst case in one atomic
// statement before it is made, and is settled to its real cost when its usage is stored.

const BEDROCK_KEY = 'bedrock-api-key-ABSKYnVkZ2V0LXRlc3Q=';
const params = { model: 'claude-opus-5-5', max_tokens: 1000, messages: [{ role: 'user' as const, content: 'Spend a little.' }] };
const body = JSON.stringify(params);
/**
 * The worst case the proxy reserves for `body`, worked by hand: every body byte as a prompt token
 * at Opus 5.5's dearest input-side rate on a regional endpoint (1h cache write, $8.80/MTok), plus
 * max_tokens at $22/MTok. In pico-dollars (1e-12 USD).
 */
const WORST_CASE = BigInt(Buffer.byteLength(body)) * 8_800_000n + 1000n * 22_000_000n;
/** A budget (4 decimals, as the column holds) that fits exactly `n` worst cases. */
const budgetFor = (n: bigint) => {
  const unit = 100_000_000n; // 1e-4 USD
  return formatUsd(((n * WORST_CASE + unit - 1n) / unit) * unit);
};

const post = (proxy: TestApp, rawKey: string, extra: Record<string, unknown> = {}) =>
  request(`${proxy.url}/ak/${rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify({ ...params, ...extra }), headers: { 'content-type': 'application/json' } });

describe(`budgets on ${testDatabaseKind()}`, () => {
  let anthropic: FakeAnthropic;
  let bedrock: FakeBedrock;
  let proxy: TestApp;
  let admin: AdminCall;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    bedrock = await startFakeBedrock();
    proxy = await startTestApp({ PLAN_API_URL: anthropic.url, BEDROCK_ENDPOINT: bedrock.url, BEDROCK_REGION: 'us-east-1', CIRCUIT_FAILURE_THRESHOLD: '1000', TIMEZONE: 'Asia/Seoul' });
    admin = await adminClient(proxy);
  });
  afterAll(async () => {
    await proxy.close();
    await anthropic.close();
    await bedrock.close();
  });
  beforeEach(() => bedrock.reset());

  async function budgetedUser(budget: string | null, routing = 'bedrock_only') {
    const key = await proxy.createKey();
    expect((await admin('PUT', `/admin/access-keys/${key.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY })).status).toBe(200);
    expect((await admin('PATCH', `/admin/users/${key.userId}`, { routing_strategy: routing })).status).toBe(200);
    expect((await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: budget })).status).toBe(200);
    return key;
  }

  const ledger = async (userId: string) => {
    const [row] = await proxy.database.db
      .select()
      .from(budgetLedgers)
      .where(and(eq(budgetLedgers.userId, userId), eq(budgetLedgers.periodStart, startOf(new Date(), 'month', 'Asia/Seoul'))));
    return { spent: formatUsd(toPico(row?.spentUsd ?? '0')), reserved: formatUsd(toPico(row?.reservedUsd ?? '0')) };
  };
  const eventsOf = async (userId: string) => {
    await proxy.flushUsage();
    return proxy.database.db.select().from(usageEvents).where(eq(usageEvents.userId, userId));
  };

  it('shows and sets a budget: spent, reserved, remaining and the month in TIMEZONE', async () => {
    const key = await proxy.createKey();
    const empty = await admin('GET', `/admin/users/${key.userId}/budget`);
    expect(empty.status).toBe(200);
    const month = startOf(new Date(), 'month', 'Asia/Seoul');
    expect(empty.body).toMatchObject({
      user_id: key.userId,
      monthly_budget_usd: null,
      spent_usd: '0.00',
      reserved_usd: '0.00',
      remaining_usd: null,
      percent_used: null,
      timezone: 'Asia/Seoul',
    });
    expect(new Date(empty.body.period_start).getTime()).toBe(month.getTime());
    expect(empty.body.period_start).toMatch(/^\d{4}-\d{2}-01T00:00:00\+09:00$/);
    expect(empty.body.period_end).toMatch(/^\d{4}-\d{2}-01T00:00:00\+09:00$/);

    const set = await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: '25.5' });
    expect(set.body).toMatchObject({ monthly_budget_usd: '25.50', remaining_usd: '25.50', percent_used: 0 });
    expect((await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: 100 })).body.monthly_budget_usd).toBe('100.00');
    expect((await admin('GET', `/admin/users/${key.userId}`)).body.monthly_budget_usd).toMatch(/^100(\.0+)?$/);
    const entries = await auditOf(proxy, key.userId);
    expect(entries.filter((e) => e.action === 'user.budget').map((e) => e.after)).toEqual([{ monthly_budget_usd: '25.50' }, { monthly_budget_usd: '100.00' }]);

    for (const [value, message] of [
      ['-1', 'monthly_budget_usd: must be a non-negative amount in USD, e.g. "12.50" with at most 4 decimals, or null'],
      ['1.23456', 'monthly_budget_usd: "1.23456" has more than 4 decimals with at most 4 decimals, or null'],
      ['lots', 'monthly_budget_usd: must be a non-negative amount in USD, e.g. "12.50" with at most 4 decimals, or null'],
    ] as const) {
      const res = await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: value });
      expect(res.status, value).toBe(400);
      expect(res.body.error.message).toBe(message);
    }
    expect((await admin('PUT', `/admin/users/00000000-0000-4000-8000-000000000000/budget`, { monthly_budget_usd: '1' })).status).toBe(404);
    expect((await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: null })).body.monthly_budget_usd).toBeNull();
  });

  it('refuses a Bedrock request that does not fit with 429, naming spent, limit and reset, and x-should-retry: false', async () => {
    const key = await budgetedUser('0.01'); // below one worst case
    const res = await post(proxy, key.rawKey);
    const json = (await res.body.json()) as { error: { type: string; message: string } };
    expect(res.statusCode).toBe(429);
    expect(res.headers['x-should-retry']).toBe('false');
    expect(json.error.type).toBe('rate_limit_error');
    expect(json.error.message).toMatch(/^Monthly Bedrock budget exceeded: \$0\.00 spent of the \$0\.01 budget, and this request may cost up to \$0\.\d\d\. The budget resets at \d{4}-\d{2}-01T00:00:00\+09:00 \(Asia\/Seoul\)\.$/);
    expect(bedrock.requests).toHaveLength(0);
    const [event] = await eventsOf(key.userId);
    expect(event).toMatchObject({ provider: 'bedrock', statusCode: 429, outcome: 'rejected', errorType: 'rate_limit_error', costUsd: '0.00' });
  });

  it('never limits Plan traffic; a fallback to Bedrock is what the budget stops', async () => {
    const key = await budgetedUser('0', 'plan_first');
    const plan = await post(proxy, key.rawKey);
    expect(plan.statusCode).toBe(200);
    await plan.body.arrayBuffer();
    anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    const fallback = await post(proxy, key.rawKey);
    expect(fallback.statusCode).toBe(429);
    expect(fallback.headers['x-should-retry']).toBe('false');
    expect(((await fallback.body.json()) as { error: { message: string } }).error.message).toContain('Monthly Bedrock budget exceeded');
  });

  it('admits at most 10 of 50 simultaneous requests when the budget fits 10 worst cases', async () => {
    const key = await budgetedUser(budgetFor(10n));
    // Slow answers keep all ten in flight until every reservation has been decided.
    bedrock.reply('invoke', ...Array.from({ length: 50 }, () => ({ delayMs: 1500 })));
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(proxy, key.rawKey)));
    const statuses = await Promise.all(responses.map(async (r) => (await r.body.arrayBuffer(), r.statusCode)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    expect(bedrock.requests).toHaveLength(10);

    // Settled: nothing stays reserved, and spent is what the ten really cost (12 in + 5 out each,
    // $0.0000528 + $0.00011 at the regional price).
    const events = await eventsOf(key.userId);
    expect(events.filter((e) => e.outcome === 'completed')).toHaveLength(10);
    expect(await ledger(key.userId)).toEqual({ spent: '0.001628', reserved: '0.00' });
    const status = await admin('GET', `/admin/users/${key.userId}/budget`);
    expect(status.body).toMatchObject({ spent_usd: '0.001628', reserved_usd: '0.00' });
  });

  it('settles a reservation when Bedrock fails and when the client goes away mid-stream', async () => {
    const key = await budgetedUser('100');
    bedrock.reply('invoke', { error: { name: 'InternalServerException', message: 'boom' } });
    const failed = await post(proxy, key.rawKey);
    expect(failed.statusCode).toBe(500);
    await failed.body.arrayBuffer();

    bedrock.reply('invoke-with-response-stream', { frames: anthropicTextEvents('slow answer').map((chunk) => ({ chunk })), frameDelayMs: 300 });
    const controller = new AbortController();
    const streamed = await request(`${proxy.url}/ak/${key.rawKey}/v1/messages`, { method: 'POST', body: JSON.stringify({ ...params, stream: true }), signal: controller.signal });
    for await (const _chunk of streamed.body) {
      controller.abort(); // the first bytes arrived: leave
      break;
    }
    await expect.poll(async () => (await eventsOf(key.userId)).length, { timeout: 5000 }).toBe(2);
    const events = await eventsOf(key.userId);
    expect(events.map((e) => e.outcome).sort()).toEqual(['aborted', 'upstream_error']);
    expect(events.every((e) => e.budgetReservationId !== null)).toBe(true);
    const spent = formatUsd(events.reduce((s, e) => s + toPico(e.costUsd ?? '0'), 0n));
    expect(await ledger(key.userId)).toEqual({ spent, reserved: '0.00' });
  });

  it('enforces a new budget from the next request (the cached key learns it at once)', async () => {
    const key = await budgetedUser(null);
    const ok = await post(proxy, key.rawKey);
    expect(ok.statusCode).toBe(200);
    await ok.body.arrayBuffer();
    await admin('PUT', `/admin/users/${key.userId}/budget`, { monthly_budget_usd: '0' });
    const refused = await post(proxy, key.rawKey);
    expect(refused.statusCode).toBe(429);
    await refused.body.arrayBuffer();
    // Spend made before the budget existed counts against it (once its usage is stored).
    await proxy.flushUsage();
    const status = await admin('GET', `/admin/users/${key.userId}/budget`);
    expect(toPico(status.body.spent_usd)).toBeGreaterThan(0n);
    expect(status.body.percent_used).toBe(100);
  });

  it('settles reservations whose requests never settled, once they expire, at their worst case', async () => {
    const key = await proxy.createKey();
    await createUserRepository(proxy.database.db).update(key.userId, { monthlyBudgetUsd: '5' });
    const budgets = createBudgetRepository(proxy.database.db);
    const periodStart = startOf(new Date(), 'month', 'Asia/Seoul');
    const id = await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '4', requestId: 'req_crashed', expiresAt: new Date(Date.now() - 1000) });
    expect(id).not.toBeNull();
    expect(await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '1.5', requestId: 'req_next', expiresAt: new Date(Date.now() + 60_000) })).toBeNull();
    expect(await budgets.sweepExpired(new Date())).toBe(1);
    expect(await budgets.sweepExpired(new Date())).toBe(0);
    // Its task died, so what it spent is unknown: counted as the most it could have cost.
    expect(await ledger(key.userId)).toEqual({ spent: '4.00', reserved: '0.00' });
    expect(await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '1.5', requestId: 'req_next', expiresAt: new Date(Date.now() + 60_000) })).toBeNull();
    expect(await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '1', requestId: 'req_small', expiresAt: new Date(Date.now() + 60_000) })).not.toBeNull();
  });

  /** A Bedrock usage event of `key` costing `totalUsd`, settling reservation `reservationId`. */
  const bedrockEvent = (key: { userId: string; accessKeyId: string }, requestId: string, totalUsd: string, reservationId: number | null) => ({
    ...usageEvent({ ...key, requestId, occurredAt: new Date(), provider: 'bedrock', budgetReservationId: reservationId }),
    cost: { totalUsd, parts: { input: totalUsd, output: '0', cacheRead: '0', cacheWrite5m: '0', cacheWrite1h: '0' }, snapshot: null },
  });

  it('swaps the worst case for the real cost when the usage event of a swept reservation arrives later (a replayed spill file)', async () => {
    const key = await proxy.createKey();
    await createUserRepository(proxy.database.db).update(key.userId, { monthlyBudgetUsd: '5' });
    const budgets = createBudgetRepository(proxy.database.db);
    const periodStart = startOf(new Date(), 'month', 'Asia/Seoul');
    const reserved = await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '4', requestId: 'req_late', expiresAt: new Date(Date.now() - 1000) });
    expect(await budgets.sweepExpired(new Date())).toBe(1);
    expect(await ledger(key.userId)).toEqual({ spent: '4.00', reserved: '0.00' });
    const late = bedrockEvent(key, `req_late_${key.userId}`, '0.5', reserved!.id);
    const usage = createUsageRepository(proxy.database.db, { timeZone: proxy.config.timezone });
    await usage.insertBatch([late]);
    expect(await ledger(key.userId)).toEqual({ spent: '0.50', reserved: '0.00' });
    // Replayed again (a crash during the replay): counted once.
    await usage.insertBatch([late]);
    expect(await budgets.sweepExpired(new Date())).toBe(0);
    expect(await ledger(key.userId)).toEqual({ spent: '0.50', reserved: '0.00' });
  });

  it('only releases an expired reservation whose usage event was stored after all (its real cost is in spent)', async () => {
    const key = await proxy.createKey();
    await createUserRepository(proxy.database.db).update(key.userId, { monthlyBudgetUsd: '5' });
    const budgets = createBudgetRepository(proxy.database.db);
    const periodStart = startOf(new Date(), 'month', 'Asia/Seoul');
    const requestId = `req_stored_${key.userId}`;
    await budgets.reserve({ userId: key.userId, periodStart, amountUsd: '2', requestId, expiresAt: new Date(Date.now() - 1000) });
    await createUsageRepository(proxy.database.db, { timeZone: proxy.config.timezone }).insertBatch([bedrockEvent(key, requestId, '0.3', null)]);
    expect(await ledger(key.userId)).toEqual({ spent: '0.30', reserved: '2.00' });
    expect(await budgets.sweepExpired(new Date())).toBe(1);
    expect(await ledger(key.userId)).toEqual({ spent: '0.30', reserved: '0.00' });
  });
});

describe(`budget reservations across processes on ${testDatabaseKind()}`, () => {
  it('lets exactly as many concurrent reservations through as fit, whichever process makes them', async () => {
    const database = await openTestDatabase();
    const peer = await database.openPeer();
    try {
      const user = await createUserRepository(database.db).create({ name: 'shared-budget', description: null });
      await createUserRepository(database.db).update(user.id, { monthlyBudgetUsd: '1.0000' });
      const periodStart = startOf(new Date(), 'month', 'Asia/Seoul');
      const stores = [createBudgetRepository(database.db), createBudgetRepository(peer.db)];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          stores[i % 2]!.reserve({ userId: user.id, periodStart, amountUsd: '0.1', requestId: `req_${i}`, expiresAt: new Date(Date.now() + 60_000) }),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(10);
      expect(new Set(results.filter((r) => r !== null)).size).toBe(10);
      const status = await stores[0]!.status(user.id, periodStart);
      expect(status).toMatchObject({ monthlyBudgetUsd: '1.0000' });
      expect(formatUsd(toPico(status!.reservedUsd))).toBe('1.00');
    } finally {
      await peer.close();
      await database.dispose();
    }
  });
});
