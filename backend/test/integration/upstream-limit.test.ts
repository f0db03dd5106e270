// Issue 6: a cap on concurrent upstream calls (MAX_UPSTREAM_REQUESTS). Beyond it a request is told
// at once, in Anthropic's words, that the proxy is overloaded: it neither queues in memory nor
// reaches the upstream. A slot comes back when a request ends, however it ends.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRICS } from '../../src/observability/metric-names.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { emfDocuments, emfSum } from '../support/emf.ts';

let anthropic: FakeAnthropic;
let proxy: TestApp;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  proxy = await startTestApp({ PLAN_API_URL: anthropic.url, MAX_UPSTREAM_REQUESTS: '2', METRICS: 'cloudwatch', METRICS_FLUSH_INTERVAL: '3600' });
});
afterAll(async () => {
  await proxy.close();
  await anthropic.close();
});

const body = (stream: boolean) => JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, stream, messages: [{ role: 'user', content: 'hi' }] });

describe('MAX_UPSTREAM_REQUESTS', () => {
  it('answers 529 overloaded_error at once beyond the cap, and admits again when a slot frees up', async () => {
    const { rawKey } = await proxy.createKey();
    const url = `${proxy.url}/ak/${rawKey}/v1/messages`;
    const headers = { 'content-type': 'application/json' };
    proxy.app.metrics.flush();
    const from = proxy.logs.length;

    anthropic.reply({ kind: 'hang' }, { kind: 'hang' });
    const hung = [new AbortController(), new AbortController()];
    const held = hung.map((c, i) => request(url, { method: 'POST', headers, body: body(i === 0), signal: c.signal }).catch((err: Error) => err));
    await anthropic.nextRequest();
    await anthropic.nextRequest();
    expect(proxy.app.metrics).toBeDefined();

    const started = performance.now();
    const refused = await request(url, { method: 'POST', headers, body: body(true) });
    const refusal = (await refused.body.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(refused.statusCode).toBe(529);
    expect(refusal).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('MAX_UPSTREAM_REQUESTS') } });
    expect(refused.headers['request-id']).toBe(refusal.request_id);
    expect(anthropic.requests).toHaveLength(2); // the third never went upstream

    // The client of one held request goes away: its slot comes back.
    hung[0]!.abort();
    await vi.waitFor(() => expect(proxy.logs.slice(from).some((l) => l.msg === 'request' && l.outcome === 'aborted')).toBe(true));
    const admitted = await request(url, { method: 'POST', headers, body: body(false) });
    expect(admitted.statusCode).toBe(200);
    await admitted.body.text();

    hung[1]!.abort();
    await Promise.all(held);
    await vi.waitFor(() => expect(proxy.logs.slice(from).filter((l) => l.msg === 'request')).toHaveLength(4));

    const overloaded = proxy.logs.slice(from).find((l) => l.msg === 'request' && l.status === 529);
    expect(overloaded).toMatchObject({ code: 'PROXY_OVERLOADED', outcome: 'rejected', reqId: refusal.request_id });
    const at = proxy.logs.length;
    proxy.app.metrics.flush();
    const docs = emfDocuments(proxy.logs.slice(at));
    expect(emfSum(docs, METRICS.RequestCount)).toBe(4);
    expect(emfSum(docs, METRICS.ErrorCount)).toBe(1); // the 529; client aborts are not errors
  });
});
