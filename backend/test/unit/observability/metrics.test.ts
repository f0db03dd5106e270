import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { emfDocuments as emfFrom, Reservoir } from '../../../src/observability/emf.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { METRIC_NAMESPACE, METRICS } from '../../../src/observability/metric-names.ts';
import {
  createMetrics,
  createModelLabels,
  isBudgetRejection,
  isErrorEvent,
  isFailedFallback,
  isServedFallback,
  refusedEvent,
  type MetricEvent,
  type Metrics,
  type MetricsMode,
} from '../../../src/observability/metrics.ts';
import { emfDocuments, emfSampleCount, emfSum, emfViolations } from '../../support/emf.ts';

function event(overrides: Partial<MetricEvent> = {}): MetricEvent {
  return {
    provider: 'plan',
    requestedModel: 'claude-sonnet-4-5',
    statusCode: 200,
    outcome: 'completed',
    isFallback: false,
    errorCode: null,
    latencyMs: 1200,
    ttfbMs: 300,
    inputTokens: 10,
    outputTokens: 20,
    cacheReadTokens: 1000,
    cacheWrite5mTokens: 5,
    cacheWrite1hTokens: 7,
    ...overrides,
  };
}

const gauges = {
  circuitsOpen: () => 2,
  upstreamRequestsInFlight: () => 3,
  draining: () => 0,
  planKeysParked: () => 4,
  planKeysRead: () => 9,
  planUtilization5hMax: () => 0.97,
  planUtilization7dMax: () => 0.5,
};
let open: Metrics[] = [];

function start(mode: MetricsMode, options: { maxSamples?: number; maxModels?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // LOG_LEVEL=error must not silence metrics: METRICS decides.
  const metrics = createMetrics({ mode, flushIntervalMs: 3_600_000, logger: createLogger('error', sink), gauges, now: () => 1_780_000_000_000, ...options });
  open.push(metrics);
  return { metrics, lines, docs: () => emfDocuments(lines) };
}

afterEach(() => {
  for (const m of open) m.close();
  open = [];
});

describe('what counts', () => {
  it('counts as an error a status of 500 or more, or a response broken off mid-stream', () => {
    expect(isErrorEvent({ statusCode: 500, outcome: 'upstream_error' })).toBe(true);
    expect(isErrorEvent({ statusCode: 529, outcome: 'rejected' })).toBe(true);
    expect(isErrorEvent({ statusCode: 200, outcome: 'failed' })).toBe(true);
    expect(isErrorEvent({ statusCode: 429, outcome: 'upstream_error' })).toBe(false);
    expect(isErrorEvent({ statusCode: 400, outcome: 'rejected' })).toBe(false);
    expect(isErrorEvent({ statusCode: 499, outcome: 'aborted' })).toBe(false);
    expect(isErrorEvent({ statusCode: 200, outcome: 'aborted' })).toBe(false);
  });

  it('counts budget refusals by their BUDGET_ code, but a failing budget store as an error instead', () => {
    expect(isBudgetRejection({ errorCode: 'BUDGET_EXCEEDED', statusCode: 429 })).toBe(true);
    expect(isBudgetRejection({ errorCode: 'BUDGET_MODEL_UNPRICED', statusCode: 403 })).toBe(true);
    expect(isBudgetRejection({ errorCode: 'BUDGET_UNAVAILABLE', statusCode: 503 })).toBe(false);
    expect(isBudgetRejection({ errorCode: 'BEDROCK_THROTTLED', statusCode: 429 })).toBe(false);
    expect(isBudgetRejection({ errorCode: null, statusCode: 429 })).toBe(false);
  });

  it('counts a fallback as served only when Bedrock completed it, as GET /admin/usage/fallbacks does', () => {
    expect(isServedFallback({ isFallback: true, outcome: 'completed' })).toBe(true);
    for (const outcome of ['upstream_error', 'rejected', 'failed', 'aborted']) {
      expect(isServedFallback({ isFallback: true, outcome })).toBe(false);
      expect(isFailedFallback({ isFallback: true, outcome })).toBe(true);
    }
    expect(isFailedFallback({ isFallback: true, outcome: 'completed' })).toBe(false);
    expect(isServedFallback({ isFallback: false, outcome: 'completed' })).toBe(false);
    expect(isFailedFallback({ isFallback: false, outcome: 'upstream_error' })).toBe(false);
  });

  it('bounds model names used as dimensions and labels', () => {
    const label = createModelLabels(2);
    expect(label(null)).toBe('unknown');
    expect(label('claude sonnet; drop table')).toBe('invalid');
    expect(label('x'.repeat(300))).toBe('invalid');
    expect(label('claude-opus-5-5')).toBe('claude-opus-5-5');
    expect(label('global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(label('claude-haiku-5-5')).toBe('other');
    expect(label('claude-opus-5-5')).toBe('claude-opus-5-5');
  });

  it('keeps a uniform bounded sample once more values arrive than it holds', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const reservoir = new Reservoir(100, random);
    for (let i = 0; i < 10_000; i++) reservoir.add(i);
    expect(reservoir.values).toHaveLength(100);
    const mean = reservoir.values.reduce((a, b) => a + b, 0) / 100;
    expect(mean).toBeGreaterThan(3500);
    expect(mean).toBeLessThan(6500);
  });
});

describe('CloudWatch embedded metric format', () => {
  it('writes nothing per request: one set of documents per flush', () => {
    const { metrics, docs } = start('cloudwatch');
    for (let i = 0; i < 50; i++) metrics.observe(event());
    expect(docs()).toHaveLength(0);
    metrics.flush();
    expect(docs()).toHaveLength(2); // the dimensionless document and one (plan, model) group
  });

  it('emits every figure without dimensions and with Provider and Model, in valid documents', () => {
    const { metrics, docs } = start('cloudwatch');
    metrics.observe(event());
    metrics.observe(event({ statusCode: 500, outcome: 'upstream_error', latencyMs: 90, ttfbMs: null, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0 }));
    metrics.observe(event({ outcome: 'failed' }));
    metrics.observe(event({ provider: 'bedrock', isFallback: true, cost: { totalUsd: '0.012345' } }));
    metrics.observe(event({ provider: 'bedrock', statusCode: 429, outcome: 'rejected', errorCode: 'BUDGET_EXCEEDED', latencyMs: 4, ttfbMs: null, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0 }));
    metrics.observe(refusedEvent(401, 'PROXY_KEY_UNKNOWN', 1));
    metrics.circuitOpened();
    metrics.flush();

    const all = docs();
    for (const doc of all) expect(emfViolations(doc, 1_780_000_000_000)).toEqual([]);
    for (const doc of all) expect((doc._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace).toBe(METRIC_NAMESPACE);

    // What the seed's alarm reads: ErrorCount, Sum, no dimensions.
    expect(emfSum(all, METRICS.ErrorCount)).toBe(2);
    expect(emfSum(all, METRICS.RequestCount)).toBe(6);
    expect(emfSum(all, METRICS.FallbackCount)).toBe(1);
    expect(emfSum(all, METRICS.BudgetRejections)).toBe(1);
    expect(emfSum(all, METRICS.CircuitOpen)).toBe(1);
    expect(emfSum(all, METRICS.InputTokens)).toBe(30);
    expect(emfSum(all, METRICS.OutputTokens)).toBe(60);
    expect(emfSum(all, METRICS.CacheReadTokens)).toBe(3000);
    expect(emfSum(all, METRICS.CacheWriteTokens)).toBe(36);
    expect(emfSum(all, METRICS.CostUSD)).toBeCloseTo(0.012345, 9);
    expect(emfSampleCount(all, METRICS.Latency)).toBe(6);
    expect(emfSampleCount(all, METRICS.TTFB)).toBe(3);

    const plan = { Provider: 'plan', Model: 'claude-sonnet-4-5' };
    const bedrock = { Provider: 'bedrock', Model: 'claude-sonnet-4-5' };
    expect(emfSum(all, METRICS.RequestCount, plan)).toBe(3);
    expect(emfSum(all, METRICS.ErrorCount, plan)).toBe(2);
    expect(emfSum(all, METRICS.RequestCount, bedrock)).toBe(2);
    expect(emfSum(all, METRICS.FallbackCount, bedrock)).toBe(1);
    expect(emfSum(all, METRICS.BudgetRejections, bedrock)).toBe(1);
    expect(emfSum(all, METRICS.CostUSD, plan)).toBeUndefined(); // no plan request carried a cost
    expect(emfSum(all, METRICS.CircuitOpen, plan)).toBeUndefined(); // per key, not per provider

    // Units.
    const units = new Map(all.flatMap((d) => (d._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit] as const)));
    expect(units.get(METRICS.Latency)).toBe('Milliseconds');
    expect(units.get(METRICS.TTFB)).toBe('Milliseconds');
    expect(units.get(METRICS.RequestCount)).toBe('Count');
    expect(units.get(METRICS.CostUSD)).toBe('None');
  });

  it('counts requests whose wanted fallback could not happen, dimensionless and per Provider and Model', () => {
    const { metrics, docs } = start('cloudwatch');
    metrics.observe(event({ statusCode: 429, outcome: 'upstream_error', fallbackUnavailable: 'no_bedrock_key' }));
    metrics.observe(event({ statusCode: 529, outcome: 'upstream_error', requestedModel: 'claude-opus-4-7', fallbackUnavailable: 'no_mapping' }));
    metrics.observe(event());
    metrics.flush();
    const all = docs();
    expect(emfSum(all, METRICS.FallbackUnavailable)).toBe(2);
    expect(emfSum(all, METRICS.FallbackUnavailable, { Provider: 'plan', Model: 'claude-sonnet-4-5' })).toBe(1);
    expect(emfSum(all, METRICS.FallbackUnavailable, { Provider: 'plan', Model: 'claude-opus-4-7' })).toBe(1);
    expect(emfSum(all, METRICS.FallbackCount)).toBe(0); // not a fallback: Anthropic's answer went to the client
    expect(emfSum(all, METRICS.FailedFallbacks)).toBe(0);
  });

  it('counts as fallbacks only those Bedrock served; the ones it failed, refused or lost count as failed fallbacks', () => {
    const { metrics, docs } = start('cloudwatch');
    const bedrock = { provider: 'bedrock', isFallback: true, fallbackReason: 'rate_limited' };
    metrics.observe(event(bedrock));
    metrics.observe(event({ ...bedrock, statusCode: 503, outcome: 'upstream_error' }));
    metrics.observe(event({ ...bedrock, statusCode: 429, outcome: 'rejected', errorCode: 'BUDGET_EXCEEDED' }));
    metrics.observe(event({ ...bedrock, outcome: 'failed' }));
    metrics.observe(event({ ...bedrock, statusCode: 499, outcome: 'aborted' }));
    // At the Plan limit: served, then a Bedrock failure that is no Plan-limit fallback served.
    metrics.observe(event({ ...bedrock, fallbackReason: 'usage_limit' }));
    metrics.observe(event({ ...bedrock, fallbackReason: 'usage_limit', statusCode: 500, outcome: 'upstream_error' }));
    metrics.flush();
    const all = docs();
    for (const doc of all) expect(emfViolations(doc, 1_780_000_000_000)).toEqual([]);
    expect(emfSum(all, METRICS.RequestCount)).toBe(7);
    expect(emfSum(all, METRICS.FallbackCount)).toBe(2);
    expect(emfSum(all, METRICS.FailedFallbacks)).toBe(5);
    expect(emfSum(all, METRICS.PlanLimitFallbacks)).toBe(1);
    expect(emfSum(all, METRICS.FallbackCount, { Provider: 'bedrock', Model: 'claude-sonnet-4-5' })).toBe(2);
    expect(emfSum(all, METRICS.FailedFallbacks, { Provider: 'bedrock', Model: 'claude-sonnet-4-5' })).toBe(5);
  });

  it('writes a dimensionless heartbeat of zeros when nothing happened, so the alarm sees data', () => {
    const { metrics, docs } = start('cloudwatch');
    metrics.flush();
    expect(docs()).toHaveLength(1);
    const [doc] = docs();
    expect(emfViolations(doc, 1_780_000_000_000)).toEqual([]);
    expect(doc).toMatchObject({ [METRICS.ErrorCount]: 0, [METRICS.RequestCount]: 0, [METRICS.CircuitOpen]: 0 });
    expect((doc!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions).toEqual([[]]);
  });

  it('splits more than 100 latency values over documents without counting anything twice', () => {
    const { metrics, docs } = start('cloudwatch', { maxSamples: 250 });
    for (let i = 0; i < 1000; i++) metrics.observe(event({ latencyMs: i }));
    metrics.flush();
    const all = docs();
    for (const doc of all) expect(emfViolations(doc, 1_780_000_000_000)).toEqual([]);
    expect(all).toHaveLength(1 + 3); // dimensionless + 250 samples in chunks of 100
    expect(emfSum(all, METRICS.RequestCount)).toBe(1000);
    expect(emfSampleCount(all, METRICS.Latency)).toBe(250);
    expect(emfSampleCount(all, METRICS.TTFB)).toBe(250);
  });

  it('starts a new interval after each flush', () => {
    const { metrics, docs } = start('cloudwatch');
    metrics.observe(event({ statusCode: 502, outcome: 'upstream_error' }));
    metrics.flush();
    metrics.flush();
    expect(emfSum(docs(), METRICS.ErrorCount)).toBe(1);
    expect(docs()).toHaveLength(3);
  });

  it('writes nothing at all when off, or Prometheus only', () => {
    for (const mode of ['off', 'prometheus'] as const) {
      const { metrics, docs } = start(mode);
      metrics.observe(event());
      metrics.flush();
      expect(docs()).toHaveLength(0);
    }
  });

  it('is the same document whatever the group order (a pure function of the interval)', () => {
    const docs = emfFrom({
      timestamp: 1_780_000_000_000,
      unattributed: { requests: 0, errors: 0, fallbacks: 0, failedFallbacks: 0, budgetRejections: 0, planLimitFallbacks: 0, providerSwitches: 0, fallbackUnavailable: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: null, latencyMs: new Reservoir(1), ttfbMs: new Reservoir(1) },
      circuitsOpened: 3,
      plan: { keysParked: 2, utilization5hMax: 0.99, utilization7dMax: null },
      groups: [],
    });
    expect(docs).toEqual([
      {
        _aws: {
          Timestamp: 1_780_000_000_000,
          CloudWatchMetrics: [
            {
              Namespace: METRIC_NAMESPACE,
              Dimensions: [[]],
              Metrics: [
                { Name: 'RequestCount', Unit: 'Count' },
                { Name: 'ErrorCount', Unit: 'Count' },
                { Name: 'FallbackCount', Unit: 'Count' },
                { Name: 'FailedFallbacks', Unit: 'Count' },
                { Name: 'BudgetRejections', Unit: 'Count' },
                { Name: 'PlanLimitFallbacks', Unit: 'Count' },
                { Name: 'ProviderSwitches', Unit: 'Count' },
                { Name: 'FallbackUnavailable', Unit: 'Count' },
                { Name: 'InputTokens', Unit: 'Count' },
                { Name: 'OutputTokens', Unit: 'Count' },
                { Name: 'CacheReadTokens', Unit: 'Count' },
                { Name: 'CacheWriteTokens', Unit: 'Count' },
                { Name: 'CircuitOpen', Unit: 'Count' },
                { Name: 'PlanKeysParked', Unit: 'Count' },
                { Name: 'PlanUtilization5hMax', Unit: 'None' },
              ],
            },
          ],
        },
        RequestCount: 0,
        ErrorCount: 0,
        FallbackCount: 0,
        FailedFallbacks: 0,
        BudgetRejections: 0,
        PlanLimitFallbacks: 0,
        ProviderSwitches: 0,
        FallbackUnavailable: 0,
        InputTokens: 0,
        OutputTokens: 0,
        CacheReadTokens: 0,
        CacheWriteTokens: 0,
        CircuitOpen: 3,
        PlanKeysParked: 2,
        PlanUtilization5hMax: 0.99,
      },
    ]);
  });
});

describe('Prometheus', () => {
  it('exposes the same figures as counters, histograms and gauges', async () => {
    const { metrics } = start('both');
    metrics.observe(event());
    metrics.observe(event({ statusCode: 500, outcome: 'upstream_error', ttfbMs: null }));
    metrics.observe(event({ provider: 'bedrock', isFallback: true, costUsd: '0.5', fallbackReason: 'plan_threshold', providerSwitch: true }));
    metrics.observe(event({ provider: 'bedrock', requestedModel: 'claude-haiku-4-5', isFallback: true, fallbackReason: 'plan_threshold', statusCode: 502, outcome: 'upstream_error' }));
    metrics.observe(refusedEvent(401, 'PROXY_KEY_UNKNOWN', 2));
    metrics.observe(event({ statusCode: 429, outcome: 'upstream_error', requestedModel: 'claude-opus-4-7', fallbackUnavailable: 'no_bedrock_key' }));
    metrics.observe(event({ statusCode: 429, outcome: 'upstream_error', requestedModel: 'claude-opus-4-7', fallbackUnavailable: 'no_bedrock_key' }));
    metrics.observe(event({ statusCode: 529, outcome: 'upstream_error', requestedModel: 'claude-opus-4-7', fallbackUnavailable: 'no_mapping' }));
    metrics.circuitOpened();
    const text = await metrics.prometheus!.render();
    expect(metrics.prometheus!.contentType).toMatch(/^text\/plain/);
    expect(text).toContain('ccproxy_requests_total{provider="plan",model="claude-sonnet-4-5"} 2');
    expect(text).toContain('ccproxy_requests_total{provider="bedrock",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_requests_total{provider="none",model="none"} 1');
    expect(text).toContain('ccproxy_errors_total{provider="plan",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_errors_total{provider="bedrock",model="claude-sonnet-4-5"} 0');
    expect(text).toContain('ccproxy_fallbacks_total{provider="bedrock",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_fallbacks_total{provider="bedrock",model="claude-haiku-4-5"} 0');
    expect(text).toContain('ccproxy_failed_fallbacks_total{provider="bedrock",model="claude-haiku-4-5"} 1');
    expect(text).toContain('ccproxy_failed_fallbacks_total{provider="bedrock",model="claude-sonnet-4-5"} 0');
    expect(text).toContain('ccproxy_plan_limit_fallbacks_total{provider="bedrock",model="claude-haiku-4-5"} 0');
    expect(text).toContain('ccproxy_plan_limit_fallbacks_total{provider="bedrock",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_plan_limit_fallbacks_total{provider="plan",model="claude-sonnet-4-5"} 0');
    expect(text).toContain('ccproxy_provider_switches_total{provider="bedrock",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_plan_keys_parked 4');
    expect(text).toContain('ccproxy_plan_5h_utilization_max 0.97');
    expect(text).toContain('ccproxy_plan_7d_utilization_max 0.5');
    expect(text).toContain('ccproxy_cache_write_tokens_total{provider="plan",model="claude-sonnet-4-5"} 24');
    expect(text).toContain('ccproxy_cost_usd_total{provider="bedrock",model="claude-sonnet-4-5"} 0.5');
    expect(text).toContain('ccproxy_latency_seconds_count{provider="plan",model="claude-sonnet-4-5"} 2');
    expect(text).toContain('ccproxy_latency_seconds_sum{provider="plan",model="claude-sonnet-4-5"} 2.4');
    expect(text).toContain('ccproxy_ttfb_seconds_count{provider="plan",model="claude-sonnet-4-5"} 1');
    expect(text).toContain('ccproxy_fallback_unavailable_total{reason="no_bedrock_key"} 2');
    expect(text).toContain('ccproxy_fallback_unavailable_total{reason="no_mapping"} 1');
    expect(text).toContain('ccproxy_requests_total{provider="plan",model="claude-opus-4-7"} 3');
    expect(text).toContain('ccproxy_circuit_opened_total 1');
    expect(text).toContain('ccproxy_circuits_open 2');
    expect(text).toContain('ccproxy_upstream_requests_in_flight 3');
    expect(text).toContain('ccproxy_draining 0');
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('is absent unless enabled', () => {
    expect(start('cloudwatch').metrics.prometheus).toBeUndefined();
    expect(start('off').metrics.prometheus).toBeUndefined();
  });
});
