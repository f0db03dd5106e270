// Issue 6: the metrics the HighErrorRate alarm watches are the metrics the proxy emits. A scripted
// run through the real server (successes, upstream 500s, a mid-stream error, fallbacks, an unknown
// key, a budget refusal): the EMF lines it writes must be valid and add up to exactly what happened,
// and /metrics must tell the same story.
import { eq, inArray, sum } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { usageEvents } from '../../src/db/schema.ts';
import { METRICS } from '../../src/observability/metric-names.ts';
import { errorReply, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { messageToEvents, textMessage } from '../fakes/anthropic-messages.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { emfDocuments, emfSampleCount, emfSum, emfViolations } from '../support/emf.ts';

const MODEL = 'claude-opus-5-5';
const BEDROCK_KEY = 'bedrock-api-key-bWV0cmljcy10ZXN0LWtleQ==';

let anthropic: FakeAnthropic;
let bedrock: FakeBedrock;
let proxy: TestApp;
let admin: Record<string, string>;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  bedrock = await startFakeBedrock();
  proxy = await startTestApp({
    PLAN_API_URL: anthropic.url,
    BEDROCK_ENDPOINT: bedrock.url,
    BEDROCK_REGION: 'us-east-1',
    METRICS: 'both',
    METRICS_FLUSH_INTERVAL: '3600', // flushed by the test, never by the timer
    CIRCUIT_FAILURE_THRESHOLD: '1000',
  });
  admin = { authorization: `Bearer ${await proxy.adminToken()}`, 'content-type': 'application/json' };
});
afterAll(async () => {
  await proxy.close();
  await anthropic.close();
  await bedrock.close();
});

async function adminCall(method: 'PATCH' | 'PUT', path: string, body: unknown): Promise<void> {
  const res = await request(`${proxy.url}/admin${path}`, { method, headers: admin, body: JSON.stringify(body) });
  expect(res.statusCode, await res.body.text()).toBe(200);
}

async function send(rawKey: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await request(`${proxy.url}/ak/${rawKey}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-api03-metrics' },
    body: JSON.stringify({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function waitForAccessLines(from: number, n: number): Promise<void> {
  const isAccess = (l: Record<string, unknown>) => l.msg === 'request' || l.msg === 'request rejected';
  await vi.waitFor(() => expect(proxy.logs.slice(from).filter(isAccess)).toHaveLength(n), { timeout: 5_000 });
}

/** Flushes the metrics now and returns the EMF documents of that flush. */
function flush(): Record<string, unknown>[] {
  const from = proxy.logs.length;
  proxy.app.metrics.flush();
  return emfDocuments(proxy.logs.slice(from));
}

async function scrape(): Promise<Map<string, number>> {
  const res = await request(`${proxy.url}/metrics`);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const totals = new Map<string, number>();
  for (const line of (await res.body.text()).split('\n')) {
    const m = /^(ccproxy_[a-z_]+)(?:\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (m) totals.set(m[1]!, (totals.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return totals;
}

describe('metrics from a real run', () => {
  it('add up to exactly what happened, without and with Provider and Model dimensions', async () => {
    flush(); // start a clean interval
    const from = proxy.logs.length;

    const planOnly = await proxy.createKey();
    await adminCall('PATCH', `/users/${planOnly.userId}`, { routing_strategy: 'plan_only' });
    const planFirst = await proxy.createKey();
    await adminCall('PUT', `/access-keys/${planFirst.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });

    // 5 successes: 3 JSON, 2 streamed.
    for (let i = 0; i < 3; i++) expect((await send(planOnly.rawKey, {})).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(planOnly.rawKey, { stream: true })).status).toBe(200);
    // 2 upstream 500s, passed on (plan_only never falls back).
    anthropic.reply(errorReply(500, 'api_error', 'Internal server error'), errorReply(500, 'api_error', 'Internal server error'));
    for (let i = 0; i < 2; i++) expect((await send(planOnly.rawKey, {})).status).toBe(500);
    // 1 mid-stream error: Anthropic drops the connection after 3 events; the client saw a 200.
    anthropic.reply({ kind: 'stream', events: messageToEvents(textMessage({ text: 'cut short in the middle' }), { textChunks: 6 }), dropAfter: 3 });
    const cut = await send(planOnly.rawKey, { stream: true });
    expect(cut.status).toBe(200);
    expect(cut.text).toContain('event: error');
    // 2 fallbacks: a plan usage-limit 429, then a request the parked Plan window sends straight to Bedrock.
    anthropic.reply(errorReply(429, 'rate_limit_error', 'Usage limit reached', { 'anthropic-ratelimit-unified-status': 'rejected' }));
    expect((await send(planFirst.rawKey, {})).status).toBe(200);
    expect((await send(planFirst.rawKey, { stream: true })).status).toBe(200);
    // 1 refusal before routing: an unknown key.
    expect((await send(`ak_${'0'.repeat(43)}`, {})).status).toBe(401);
    // 1 budget refusal: a bedrock_only user whose monthly budget cannot cover the request.
    const budgeted = await proxy.createKey();
    await adminCall('PUT', `/access-keys/${budgeted.accessKeyId}/bedrock-key`, { bedrock_api_key: BEDROCK_KEY });
    await adminCall('PATCH', `/users/${budgeted.userId}`, { routing_strategy: 'bedrock_only' });
    await adminCall('PUT', `/users/${budgeted.userId}/budget`, { monthly_budget_usd: '0.0001' });
    const refused = await send(budgeted.rawKey, {});
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { type: 'rate_limit_error' } });

    await waitForAccessLines(from, 12);
    const docs = flush();

    for (const doc of docs) expect(emfViolations(doc)).toEqual([]);
    // The seed's alarm: ClaudeCodeProxy / ErrorCount, Sum, no dimensions.
    const dimensionless = docs.filter((d) => (d._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions.some((s) => s.length === 0));
    expect(dimensionless.length).toBe(docs.length); // every document feeds the dimensionless series
    expect(docs.some((d) => typeof d[METRICS.ErrorCount] === 'number')).toBe(true);

    expect(emfSum(docs, METRICS.RequestCount)).toBe(12);
    expect(emfSum(docs, METRICS.ErrorCount)).toBe(3); // two 500s + the mid-stream error
    expect(emfSum(docs, METRICS.FallbackCount)).toBe(2);
    expect(emfSum(docs, METRICS.BudgetRejections)).toBe(1); // a 429, so not an error
    expect(emfSum(docs, METRICS.CircuitOpen)).toBe(0); // the Plan limit parks the key; it is no breaker failure
    expect(emfSum(docs, METRICS.PlanLimitFallbacks)).toBe(2);
    expect(emfSampleCount(docs, METRICS.Latency)).toBe(12);

    const plan = { Provider: 'plan', Model: MODEL };
    const viaBedrock = { Provider: 'bedrock', Model: MODEL };
    expect(emfSum(docs, METRICS.RequestCount, plan)).toBe(8);
    expect(emfSum(docs, METRICS.ErrorCount, plan)).toBe(3);
    expect(emfSum(docs, METRICS.FallbackCount, plan)).toBe(0);
    expect(emfSum(docs, METRICS.RequestCount, viaBedrock)).toBe(3);
    expect(emfSum(docs, METRICS.BudgetRejections, viaBedrock)).toBe(1);
    expect(emfSum(docs, METRICS.FallbackCount, viaBedrock)).toBe(2);
    expect(emfSum(docs, METRICS.ErrorCount, viaBedrock)).toBe(0);
    expect(emfSampleCount(docs, METRICS.TTFB, plan)).toBe(8); // every plan request had a first byte, the 500s included

    // Token figures equal what the usage table recorded for the same requests.
    await proxy.flushUsage();
    const [stored] = await proxy.database.db
      .select({ input: sum(usageEvents.inputTokens), output: sum(usageEvents.outputTokens), cacheRead: sum(usageEvents.cacheReadTokens), cost: sum(usageEvents.costUsd) })
      .from(usageEvents)
      .where(inArray(usageEvents.accessKeyId, [planOnly.accessKeyId, planFirst.accessKeyId, budgeted.accessKeyId]));
    expect(emfSum(docs, METRICS.InputTokens)).toBe(Number(stored!.input));
    expect(emfSum(docs, METRICS.OutputTokens)).toBe(Number(stored!.output));
    expect(emfSum(docs, METRICS.CacheReadTokens)).toBe(Number(stored!.cacheRead));
    expect(Number(stored!.output)).toBeGreaterThan(0);
    // Cost: the recorder prices each event as it is recorded; the metric sums those prices.
    expect(Number(stored!.cost)).toBeGreaterThan(0);
    expect(emfSum(docs, METRICS.CostUSD)).toBeCloseTo(Number(stored!.cost), 5);
    const fallbackRows = await proxy.database.db.select().from(usageEvents).where(eq(usageEvents.accessKeyId, planFirst.accessKeyId));
    expect(fallbackRows.map((r) => r.fallbackReason).sort()).toEqual(['usage_limit', 'usage_limit']);

    // Prometheus tells the same story (cumulative since start; this is the only traffic).
    const prom = await scrape();
    expect(prom.get('ccproxy_requests_total')).toBe(12);
    expect(prom.get('ccproxy_errors_total')).toBe(3);
    expect(prom.get('ccproxy_fallbacks_total')).toBe(2);
    expect(prom.get('ccproxy_budget_rejections_total')).toBe(1);
    expect(prom.get('ccproxy_circuit_opened_total')).toBe(0);
    expect(prom.get('ccproxy_plan_limit_fallbacks_total')).toBe(2);
    expect(prom.get('ccproxy_latency_seconds_count')).toBe(12);
    expect(prom.get('ccproxy_input_tokens_total')).toBe(Number(stored!.input));
    expect(prom.get('ccproxy_cost_usd_total')).toBeCloseTo(Number(stored!.cost), 9);
    expect(prom.get('ccproxy_circuits_open')).toBe(0);
    expect(prom.get('ccproxy_plan_keys_parked')).toBe(1); // the Plan-limit 429 carried no reset: parked for 5 minutes
    expect(prom.get('ccproxy_upstream_requests_in_flight')).toBe(0);
  });

  it('keeps writing a dimensionless ErrorCount of 0 while nothing happens, so the alarm has data', () => {
    const docs = flush();
    expect(docs).toHaveLength(1);
    expect(emfViolations(docs[0])).toEqual([]);
    expect(docs[0]).toMatchObject({ [METRICS.ErrorCount]: 0, [METRICS.RequestCount]: 0 });
  });

  it('counts an error the proxy answers itself (Anthropic unreachable: 502)', async () => {
    const unreachable = await startTestApp({ PLAN_API_URL: 'http://127.0.0.1:9', METRICS: 'cloudwatch', METRICS_FLUSH_INTERVAL: '3600' });
    try {
      const key = await unreachable.createKey();
      const res = await request(`${unreachable.url}/ak/${key.rawKey}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.statusCode).toBe(502);
      await res.body.text();
      await vi.waitFor(() => expect(unreachable.logs.some((l) => l.msg === 'request')).toBe(true));
      const at = unreachable.logs.length;
      unreachable.app.metrics.flush();
      const docs = emfDocuments(unreachable.logs.slice(at));
      expect(emfSum(docs, METRICS.ErrorCount)).toBe(1);
      expect(emfSum(docs, METRICS.ErrorCount, { Provider: 'plan', Model: MODEL })).toBe(1);
    } finally {
      await unreachable.close();
    }
  });

  it('writes its final interval when the app closes', async () => {
    const app = await startTestApp({ PLAN_API_URL: anthropic.url, METRICS: 'cloudwatch', METRICS_FLUSH_INTERVAL: '3600' });
    const key = await app.createKey();
    const res = await request(`${app.url}/ak/${key.rawKey}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.text();
    await app.close();
    expect(emfSum(emfDocuments(app.logs), METRICS.RequestCount)).toBe(1);
  });

  it('flushes on its own timer', async () => {
    const app = await startTestApp({ PLAN_API_URL: anthropic.url, METRICS: 'cloudwatch', METRICS_FLUSH_INTERVAL: '0.2' });
    try {
      await vi.waitFor(() => expect(emfDocuments(app.logs).length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    } finally {
      await app.close();
    }
  });

  it('serves no /metrics and writes no EMF when METRICS=off', async () => {
    const app = await startTestApp({ PLAN_API_URL: anthropic.url, METRICS: 'off' });
    try {
      const res = await request(`${app.url}/metrics`);
      expect(res.statusCode).toBe(404);
      await res.body.text();
      app.app.metrics.flush();
    } finally {
      await app.close();
    }
    expect(emfDocuments(app.logs)).toEqual([]);
  });
});

