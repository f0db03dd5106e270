import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents, type adminAuditLog } from '../../src/db/schema.ts';
import { errorReply, unifiedLimitHeaders, type PlanWindowHeader } from '../fakes/anthropic.ts';
import { messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startFallbackStack, type FallbackStack } from '../support/fallback-stack.ts';

// A fake Anthropic that answers as it does to a Claude plan credential: every answer carries the
// unified limit headers. Each test reads who served each request from the two fakes' request
// counts, and why from the usage event.

type Usage = typeof usageEvents.$inferSelect;
type AuditRow = typeof adminAuditLog.$inferSelect;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const window = (utilization: number, inSeconds = 3600, surpassedThreshold?: number): PlanWindowHeader => ({
  utilization,
  reset: nowSeconds() + inSeconds,
  ...(surpassedThreshold !== undefined ? { surpassedThreshold } : {}),
});

/** A streamed Plan answer carrying these unified headers. */
function planAnswer(headers: Record<string, string>, model = 'claude-opus-5-5') {
  return { kind: 'stream' as const, events: messageToEvents(textMessage({ model, text: 'ok' })), headers };
}

describe('Plan window', () => {
  let stack: FallbackStack;
  let key: FallbackStack['key'];
  let admin: Record<string, string>;

  beforeAll(async () => {
    stack = await startFallbackStack({ SESSION_STICKY_IDLE: '1' });
    admin = { authorization: `Bearer ${await stack.proxy.adminToken()}`, 'content-type': 'application/json' };
  });
  afterAll(() => stack?.close());

  async function newKey(): Promise<FallbackStack['key']> {
    const k = await stack.proxy.createKey();
    await stack.proxy.registerBedrockKey(k.accessKeyId);
    return k;
  }

  /** One streamed turn; who served it (by the fakes' counts), its status and its usage event. */
  async function turn(k: FallbackStack['key'], opts: { model?: string; session?: string; proxy?: TestApp } = {}) {
    const before = { anthropic: stack.anthropic.requests.length, bedrock: stack.bedrock.requests.length };
    const proxy = opts.proxy ?? stack.proxy;
    const res = await request(`${proxy.url}/ak/${k.rawKey}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-oat01-plan', ...(opts.session ? { 'x-claude-code-session-id': opts.session } : {}) },
      body: JSON.stringify({ model: opts.model ?? 'claude-opus-5-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.body.text();
    const servedBy =
      stack.bedrock.requests.length > before.bedrock ? 'bedrock' : stack.anthropic.requests.length > before.anthropic ? 'anthropic' : 'nobody';
    await proxy.flushUsage();
    const rows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, k.accessKeyId));
    const usage = rows.sort((a, b) => a.id - b.id).at(-1) as Usage;
    return { status: res.statusCode, text, headers: res.headers, servedBy, anthropicAsked: stack.anthropic.requests.length > before.anthropic, usage };
  }

  it('moves to Bedrock on the request after a window reaches the threshold, never after a failed turn', async () => {
    key = await newKey();
    const rising = [0.5, 0.9, 0.97, 0.98];
    for (const u of rising) stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(u), sevenDay: window(0.3, 86_400) })));
    for (const u of rising) {
      const t = await turn(key);
      expect(t).toMatchObject({ status: 200, servedBy: 'anthropic' });
      expect(t.usage).toMatchObject({ provider: 'plan', planStatus: 'allowed', plan5hUtilization: expect.closeTo(u, 5), plan7dUtilization: expect.closeTo(0.3, 5) });
    }
    // 0.98 was read from the last answer: the next request does not ask Anthropic at all.
    const moved = await turn(key);
    expect(moved).toMatchObject({ status: 200, servedBy: 'bedrock', anthropicAsked: false });
    expect(moved.usage).toMatchObject({ provider: 'bedrock', fallbackReason: 'plan_threshold' });
    expect(moved.text).toContain('message_stop');
  });

  it("shows Anthropic's own warning without acting on it", async () => {
    const k = await newKey();
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ status: 'allowed_warning', fiveHour: window(0.91, 3600, 0.9) })));
    const warned = await turn(k);
    // The client sees Anthropic's headers as they were.
    expect(warned.headers['anthropic-ratelimit-unified-status']).toBe('allowed_warning');
    expect(warned.headers['anthropic-ratelimit-unified-5h-surpassed-threshold']).toBe('0.9');
    expect((await turn(k)).servedBy).toBe('anthropic');
    const list = (await (await request(`${stack.proxy.url}/admin/plan-windows?user_id=${k.userId}`, { headers: admin })).body.json()) as {
      items: { warning: boolean; status: string; windows: { five_hour: { utilization: number } }; parked: { other: unknown } }[];
    };
    expect(list.items[0]).toMatchObject({ warning: true, windows: { five_hour: { utilization: 0.91 } }, parked: { other: null } });
  });

  it('parks on a rejected 429 until its reset, and is back on Anthropic within a second of it', async () => {
    const k = await newKey();
    const reset = nowSeconds() + 2;
    stack.anthropic.reply(errorReply(429, 'rate_limit_error', 'usage limit reached', unifiedLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, reset }, claim: 'five_hour' })));
    const limited = await turn(k);
    expect(limited).toMatchObject({ status: 200, servedBy: 'bedrock' });
    expect(limited.usage).toMatchObject({ fallbackReason: 'usage_limit', planStatus: 'rejected' });
    const parked = await turn(k);
    expect(parked).toMatchObject({ servedBy: 'bedrock', anthropicAsked: false });
    expect(parked.usage.fallbackReason).toBe('usage_limit');
    // The breaker was not told: the Plan limit is no outage.
    expect(stack.proxy.app.breakers.snapshot(k.accessKeyId)).toMatchObject({ state: 'closed', failures: 0 });

    await new Promise((r) => setTimeout(r, reset * 1000 - Date.now() + 20));
    const back = await turn(k);
    expect(back).toMatchObject({ servedBy: 'anthropic' });
    expect(Date.now() - reset * 1000).toBeLessThan(1000);
  });

  it('a 429 without unified headers falls back for that request only and counts toward the breaker', async () => {
    const k = await newKey();
    stack.anthropic.reply(errorReply(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '3' }));
    const throttled = await turn(k);
    expect(throttled).toMatchObject({ status: 200, servedBy: 'bedrock' });
    expect(throttled.usage.fallbackReason).toBe('rate_limited');
    expect(stack.proxy.app.breakers.snapshot(k.accessKeyId).failures).toBe(1);
    expect((await turn(k)).servedBy).toBe('anthropic');
  });

  it('a model family claim moves only that family', async () => {
    const k = await newKey();
    stack.anthropic.reply(
      errorReply(429, 'rate_limit_error', 'Opus weekly limit reached', unifiedLimitHeaders({ status: 'rejected', claim: 'seven_day_opus', sevenDayOpus: { utilization: 1, reset: nowSeconds() + 86_400 }, reset: nowSeconds() + 86_400 })),
    );
    expect((await turn(k, { model: 'claude-opus-5-5' })).servedBy).toBe('bedrock');
    expect((await turn(k, { model: 'claude-opus-5-5' })).anthropicAsked).toBe(false);
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ status: 'rejected', claim: 'seven_day_opus', sevenDayOpus: { utilization: 1, reset: nowSeconds() + 86_400 }, reset: nowSeconds() + 86_400 }), 'claude-sonnet-4-5'));
    expect((await turn(k, { model: 'claude-sonnet-4-5' })).servedBy).toBe('anthropic');
    expect((await turn(k, { model: 'claude-opus-5-5' })).servedBy).toBe('bedrock');
  });

  it("a user's own threshold, set by an admin and audited, wins over the server's", async () => {
    const k = await newKey();
    const put = await request(`${stack.proxy.url}/admin/users/${k.userId}/plan`, { method: 'PUT', headers: admin, body: JSON.stringify({ switch_threshold: 0.5 }) });
    expect(put.statusCode).toBe(200);
    expect(await put.body.json()).toEqual({ user_id: k.userId, switch_threshold: 0.5, effective_threshold: 0.5, server_threshold: 0.98, overage: 'move' });
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.6) })));
    expect((await turn(k)).servedBy).toBe('anthropic');
    expect((await turn(k)).usage.fallbackReason).toBe('plan_threshold');

    const audit = (await (await request(`${stack.proxy.url}/admin/audit-log?target_id=${k.userId}`, { headers: admin })).body.json()) as { items: Pick<AuditRow, 'action'>[] };
    expect(audit.items.map((e) => e.action)).toContain('user.plan');
    const bad = await request(`${stack.proxy.url}/admin/users/${k.userId}/plan`, { method: 'PUT', headers: admin, body: JSON.stringify({ switch_threshold: 1.5 }) });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(await bad.body.json())).toContain('switch_threshold');
  });

  it('paid overage keeps the developer on Anthropic only when the admin says stay', async () => {
    const k = await newKey();
    const overage = () => planAnswer(unifiedLimitHeaders({ status: 'rejected', claim: 'five_hour', fiveHour: window(1), overageStatus: 'allowed' }));
    stack.anthropic.reply(overage());
    await turn(k);
    expect((await turn(k)).usage.fallbackReason).toBe('usage_limit'); // move (the default)
    await request(`${stack.proxy.url}/admin/users/${k.userId}/plan`, { method: 'PUT', headers: admin, body: JSON.stringify({ overage: 'stay' }) }).then((r) => r.body.dump());
    stack.anthropic.reply(overage());
    expect((await turn(k)).servedBy).toBe('anthropic');
    expect((await turn(k)).servedBy).toBe('anthropic');
  });

  it('keeps a session on Bedrock while its cache is warm there, and records the switches', async () => {
    const k = await newKey();
    const session = 'aaaaaaaa-0000-4000-8000-000000000001';
    const reset = nowSeconds() + 1;
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.2) })));
    expect((await turn(k, { session })).servedBy).toBe('anthropic');
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: { utilization: 0.99, reset } })));
    const last = await turn(k, { session });
    expect(last).toMatchObject({ servedBy: 'anthropic' });
    expect(last.usage.providerSwitch).toBe(false);
    const moved = await turn(k, { session });
    expect(moved).toMatchObject({ servedBy: 'bedrock' });
    expect(moved.usage).toMatchObject({ fallbackReason: 'plan_threshold', providerSwitch: true });

    // The window reset; this session's cache is warm on Bedrock (SESSION_STICKY_IDLE 1 s), a new one starts on Anthropic.
    await new Promise((r) => setTimeout(r, reset * 1000 - Date.now() + 20));
    const sticky = await turn(k, { session });
    expect(sticky).toMatchObject({ servedBy: 'bedrock', anthropicAsked: false });
    expect(sticky.usage).toMatchObject({ fallbackReason: 'session_sticky', providerSwitch: false });
    expect((await turn(k, { session: 'aaaaaaaa-0000-4000-8000-000000000002' })).servedBy).toBe('anthropic');
    // Idle past SESSION_STICKY_IDLE: the session goes back, one more switch.
    await new Promise((r) => setTimeout(r, 1100));
    const returned = await turn(k, { session });
    expect(returned).toMatchObject({ servedBy: 'anthropic' });
    expect(returned.usage.providerSwitch).toBe(true);

    const report = (await (await request(`${stack.proxy.url}/admin/usage/plan?user_id=${k.userId}`, { headers: admin })).body.json()) as {
      session_switches: number;
      bedrock: { by_reason: { reason: string; requests: number; minutes: number }[] };
      buckets: { max_5h_utilization: number | null }[];
    };
    expect(report, JSON.stringify(report)).toMatchObject({ session_switches: 2 });
    expect(report.bedrock.by_reason).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'plan_threshold', requests: 1 }), expect.objectContaining({ reason: 'session_sticky', requests: 1 })]),
    );
    expect(Math.max(...report.buckets.map((b) => b.max_5h_utilization ?? 0))).toBeCloseTo(0.99, 5);
  });

  it('two tasks on one database agree, and a task that starts later knows the readings', async () => {
    const k = await newKey();
    const peer = await startTestApp(
      { PLAN_API_URL: stack.anthropic.url, BEDROCK_ENDPOINT: stack.bedrock.url, BEDROCK_REGION: 'us-east-1', CIRCUIT_FAILURE_THRESHOLD: '100' },
      { database: stack.proxy.database },
    );
    try {
      stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.99) })));
      expect((await turn(k)).servedBy).toBe('anthropic'); // on the first task
      // The first task stores its reading within a second and tells the other.
      const deadline = Date.now() + 5_000;
      while (!peer.app.planWindows.get(k.accessKeyId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const onPeer = await turn(k, { proxy: peer });
      expect(onPeer).toMatchObject({ servedBy: 'bedrock', anthropicAsked: false });
      expect(onPeer.usage.fallbackReason).toBe('plan_threshold');
    } finally {
      await peer.close();
    }
    const later = await startTestApp({ PLAN_API_URL: stack.anthropic.url, BEDROCK_ENDPOINT: stack.bedrock.url }, { database: stack.proxy.database });
    try {
      expect(later.app.planWindows.get(k.accessKeyId)?.limits.windows.five_hour?.utilization).toBe(0.99);
    } finally {
      await later.close();
    }
  });

  it("tells the developer where they stand, as a status line and as JSON", async () => {
    const k = await newKey();
    await request(`${stack.proxy.url}/admin/users/${k.userId}/budget`, { method: 'PUT', headers: admin, body: JSON.stringify({ monthly_budget_usd: '100' }) }).then((r) => r.body.dump());
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.42), sevenDay: window(0.63, 3 * 86_400) })));
    await turn(k);
    const line = await request(`${stack.proxy.url}/ak/${k.rawKey}/status`);
    expect(line.statusCode).toBe(200);
    expect(line.headers['content-type']).toContain('text/plain');
    const text = await line.body.text();
    expect(text).toMatch(/^Plan · 5h 42% \(resets \d\d:\d\d\) · 7d 63% \(resets \w{3} \d\d:\d\d\) · Bedrock \$0\.00 of \$100\.00 this month\n$/);

    const json = await request(`${stack.proxy.url}/status?format=json`, { headers: { 'x-proxy-key': k.rawKey } });
    expect(await json.body.json()).toMatchObject({ provider: 'plan', reason: null, plan: { status: 'allowed', five_hour: { utilization: 0.42 } }, bedrock: { budget_usd: '100.00', left_usd: '100.00' } });

    const unknown = await request(`${stack.proxy.url}/ak/ak_${'0'.repeat(43)}/status`);
    expect(unknown.statusCode).toBe(401);
    expect(await unknown.body.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('says in the status line where a parked key goes: Bedrock with a Bedrock key, the Plan without one (as the proxy routes it)', async () => {
    const withKey = await newKey();
    const withoutKey = await stack.proxy.createKey();
    const statusOf = async (k: FallbackStack['key']) => (await (await request(`${stack.proxy.url}/ak/${k.rawKey}/status?format=json`)).body.json()) as { provider: string; reason: string | null };
    for (const k of [withKey, withoutKey]) {
      stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.99) })));
      expect((await turn(k)).servedBy).toBe('anthropic'); // the reading parks the key
    }
    expect(await statusOf(withKey)).toMatchObject({ provider: 'bedrock', reason: 'plan_threshold' });
    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.99) })));
    expect((await turn(withoutKey)).servedBy).toBe('anthropic'); // parked, but nothing to fall back with
    expect(await statusOf(withoutKey)).toMatchObject({ provider: 'plan', reason: null });
  });

  it("a budgeted user's Bedrock answers carry the budget's use in the unified headers; Plan answers keep Anthropic's", async () => {
    const k = await newKey();
    await request(`${stack.proxy.url}/admin/users/${k.userId}/budget`, { method: 'PUT', headers: admin, body: JSON.stringify({ monthly_budget_usd: '50' }) }).then((r) => r.body.dump());
    stack.anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    const onBedrock = await turn(k);
    expect(onBedrock.servedBy).toBe('bedrock');
    expect(onBedrock.headers['anthropic-ratelimit-unified-status']).toBe('allowed');
    expect(onBedrock.headers['anthropic-ratelimit-unified-overage-utilization']).toBe('0');
    expect(Number(onBedrock.headers['anthropic-ratelimit-unified-overage-reset'])).toBeGreaterThan(nowSeconds());

    stack.anthropic.reply(planAnswer(unifiedLimitHeaders({ fiveHour: window(0.1) })));
    const onPlan = await turn(k);
    expect(onPlan.headers['anthropic-ratelimit-unified-5h-utilization']).toBe('0.1');
    expect(onPlan.headers['anthropic-ratelimit-unified-overage-utilization']).toBeUndefined();
  });
});

describe('Plan window and the breaker', () => {
  let stack: FallbackStack;
  beforeAll(async () => {
    stack = await startFallbackStack({ CIRCUIT_FAILURE_THRESHOLD: '1', CIRCUIT_RESET_TIMEOUT: '0.2' });
  });
  afterAll(() => stack?.close());

  it("a breaker's probe that meets the Plan limit does not leave the breaker stuck: after the reset Anthropic is asked again", async () => {
    const post = async () => {
      const before = stack.anthropic.requests.length;
      const res = await request(`${stack.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-oat01-plan' },
        body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      return stack.anthropic.requests.length > before;
    };
    stack.anthropic.reply(errorReply(529, 'overloaded_error', 'Overloaded'));
    expect(await post()).toBe(true); // the breaker opens
    expect(await post()).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
    const reset = nowSeconds() + 1;
    stack.anthropic.reply(errorReply(429, 'rate_limit_error', 'usage limit reached', unifiedLimitHeaders({ status: 'rejected', fiveHour: { utilization: 1, reset } })));
    expect(await post()).toBe(true); // the probe, answered by the Plan's limit: parked until the reset
    expect(await post()).toBe(false);
    await new Promise((r) => setTimeout(r, reset * 1000 - Date.now() + 20));
    expect(await post()).toBe(true); // the next probe goes out
    expect(stack.proxy.app.breakers.snapshot(stack.key.accessKeyId).state).toBe('closed');
  });
});
