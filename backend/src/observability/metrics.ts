// Request metrics, read from the one event each proxied request ends with (README, "Metrics").
//
// `observe()` is on the hot path: it adds to in-memory aggregates and returns. A timer writes the
// interval's CloudWatch EMF documents as log lines (never a write per request, never a network call:
// the ECS log driver ships stdout); Prometheus reads its registry when /metrics is scraped.

import type { Logger } from './logger.ts';
import { emfDocuments, emptyAggregate, type Aggregate } from './emf.ts';
import { METRICS } from './metric-names.ts';
import { createPrometheusMetrics, type CounterMetric, type PrometheusGauges, type PrometheusMetrics } from './prometheus.ts';

export type MetricsMode = 'cloudwatch' | 'prometheus' | 'both' | 'off';

/**
 * What the metrics read from a finished request. The proxy's UsageEvent fits it as it is; requests
 * refused before a key or provider was known pass `provider: null` (they count only in the
 * dimensionless figures).
 */
export interface MetricEvent {
  provider: string | null;
  requestedModel: string | null;
  statusCode: number;
  /** completed | upstream_error | rejected | aborted | failed (failed: broke off mid-response). */
  outcome: string;
  isFallback: boolean;
  /** Stable code of the proxy's own answer (PROXY_KEY_UNKNOWN, BUDGET_EXCEEDED, …), if any. */
  errorCode?: string | null;
  latencyMs: number | null;
  ttfbMs: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  /** USD as a decimal string or number, when the request was priced. */
  costUsd?: string | number | null;
  /** The recorder's pricing of the event (accounting/cost.ts), when it priced it. */
  cost?: { totalUsd: string } | null;
  fallbackReason?: string | null;
  /** The turn moved its Claude Code session to the other provider. */
  providerSwitch?: boolean;
  /** Anthropic's answer called for a fallback that could not happen: why (no_bedrock_key, no_mapping). */
  fallbackUnavailable?: string | null;
}

/**
 * A fallback Bedrock served: the request went to Bedrock in Anthropic's place and completed. As
 * GET /admin/usage/fallbacks counts them, so a failed fallback never raises the fallback figures.
 */
export function isServedFallback(event: Pick<MetricEvent, 'isFallback' | 'outcome'>): boolean {
  return event.isFallback && event.outcome === 'completed';
}

/** A fallback Bedrock did not serve: it failed or refused, or the client went away. */
export function isFailedFallback(event: Pick<MetricEvent, 'isFallback' | 'outcome'>): boolean {
  return event.isFallback && event.outcome !== 'completed';
}

/** Bedrock served it because the Plan window was at its limit or the user's threshold. */
function isPlanLimitFallback(event: Pick<MetricEvent, 'fallbackReason' | 'isFallback' | 'outcome'>): boolean {
  return (event.fallbackReason === 'usage_limit' || event.fallbackReason === 'plan_threshold') && isServedFallback(event);
}

/** An error the client saw: a status of 500 or more, or a response broken off mid-stream. */
export function isErrorEvent(event: Pick<MetricEvent, 'statusCode' | 'outcome'>): boolean {
  return event.statusCode >= 500 || event.outcome === 'failed';
}

/**
 * A refusal by the budget check (a BUDGET_* code with a 4xx: over budget, or a model it cannot
 * price). A BUDGET_* 5xx is the budget store failing: an error, not a rejection.
 */
export function isBudgetRejection(event: Pick<MetricEvent, 'errorCode' | 'statusCode'>): boolean {
  return (event.errorCode?.startsWith('BUDGET_') ?? false) && event.statusCode < 500;
}

/** A request the proxy refused before it knew the key or the provider (401, 413, 503 …). */
export function refusedEvent(statusCode: number, errorCode: string, latencyMs: number | null): MetricEvent {
  return {
    provider: null,
    requestedModel: null,
    statusCode,
    outcome: 'rejected',
    isFallback: false,
    errorCode,
    latencyMs,
    ttfbMs: null,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
  };
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/[\]-]{0,199}$/;

/**
 * Model names come from clients, so as metric dimensions and labels they are bounded: names that
 * are not model-shaped become "invalid", and past `max` distinct names the rest become "other"
 * (each distinct dimension value is a separate, billed CloudWatch metric and a Prometheus series
 * held in memory for good).
 */
export function createModelLabels(max: number): (model: string | null) => string {
  const seen = new Set<string>();
  return (model) => {
    if (model === null || model === '') return 'unknown';
    if (seen.has(model)) return model; // only valid names get in: the pattern ran when each was added
    if (!MODEL_NAME.test(model)) return 'invalid';
    if (seen.size >= max) return 'other';
    seen.add(model);
    return model;
  };
}

export interface MetricsOptions {
  mode: MetricsMode;
  /** How often EMF documents are written (CloudWatch mode). */
  flushIntervalMs: number;
  /** EMF documents are written as lines of this logger (stdout in production). */
  logger: Logger;
  gauges: PrometheusGauges & {
    /** Keys with a Plan reading: without any, the utilization gauges are not written to EMF. */
    planKeysRead: () => number;
  };
  /** Distinct model names kept as dimensions/labels (default 50). */
  maxModels?: number;
  /** Latency/TTFB values kept per group and interval for percentiles (default 500). */
  maxSamples?: number;
  now?: () => number;
}

export interface Metrics {
  readonly mode: MetricsMode;
  /** Adds one finished request. Never throws, never waits. */
  observe(event: MetricEvent): void;
  /** An access key's circuit breaker opened. */
  circuitOpened(): void;
  /** Writes the current interval's EMF documents now and starts a new interval (CloudWatch mode). */
  flush(): void;
  /** Undefined unless Prometheus is enabled. */
  readonly prometheus: Pick<PrometheusMetrics, 'contentType' | 'render'> | undefined;
  /** Stops the timer after a final flush. */
  close(): void;
}

const SUMS: [CounterMetric, (e: MetricEvent) => number][] = [
  [METRICS.RequestCount, () => 1],
  [METRICS.ErrorCount, (e) => (isErrorEvent(e) ? 1 : 0)],
  [METRICS.FallbackCount, (e) => (isServedFallback(e) ? 1 : 0)],
  [METRICS.FailedFallbacks, (e) => (isFailedFallback(e) ? 1 : 0)],
  [METRICS.BudgetRejections, (e) => (isBudgetRejection(e) ? 1 : 0)],
  [METRICS.PlanLimitFallbacks, (e) => (isPlanLimitFallback(e) ? 1 : 0)],
  [METRICS.ProviderSwitches, (e) => (e.providerSwitch ? 1 : 0)],
  [METRICS.InputTokens, (e) => e.inputTokens],
  [METRICS.OutputTokens, (e) => e.outputTokens],
  [METRICS.CacheReadTokens, (e) => e.cacheReadTokens],
  [METRICS.CacheWriteTokens, (e) => e.cacheWrite5mTokens + e.cacheWrite1hTokens],
];

function costOf(event: MetricEvent): number | null {
  const usd = event.costUsd ?? event.cost?.totalUsd;
  if (usd === undefined || usd === null || usd === '') return null;
  const cost = Number(usd);
  return Number.isFinite(cost) ? cost : null;
}

function addTo(a: Aggregate, event: MetricEvent): void {
  a.requests++;
  if (isErrorEvent(event)) a.errors++;
  if (isServedFallback(event)) a.fallbacks++;
  if (isFailedFallback(event)) a.failedFallbacks++;
  if (isBudgetRejection(event)) a.budgetRejections++;
  if (isPlanLimitFallback(event)) a.planLimitFallbacks++;
  if (event.providerSwitch) a.providerSwitches++;
  if (event.fallbackUnavailable) a.fallbackUnavailable++;
  a.inputTokens += event.inputTokens;
  a.outputTokens += event.outputTokens;
  a.cacheReadTokens += event.cacheReadTokens;
  a.cacheWriteTokens += event.cacheWrite5mTokens + event.cacheWrite1hTokens;
  const cost = costOf(event);
  if (cost !== null) a.costUsd = (a.costUsd ?? 0) + cost;
  if (event.latencyMs !== null) a.latencyMs.add(event.latencyMs);
  if (event.ttfbMs !== null) a.ttfbMs.add(event.ttfbMs);
}

export function createMetrics(options: MetricsOptions): Metrics {
  const { mode } = options;
  const cloudwatch = mode === 'cloudwatch' || mode === 'both';
  const prometheus = mode === 'prometheus' || mode === 'both' ? createPrometheusMetrics(options.gauges) : undefined;
  const modelLabel = createModelLabels(options.maxModels ?? 50);
  const sampleCap = options.maxSamples ?? 500;
  const now = options.now ?? Date.now;
  // EMF lines are written at info whatever LOG_LEVEL says: METRICS decides whether they are wanted.
  const emfLog = options.logger.child({}, { level: 'info' });

  let unattributed = emptyAggregate(sampleCap);
  let groups = new Map<string, { provider: string; model: string; aggregate: Aggregate }>();
  let circuitsOpened = 0;

  function flush(): void {
    if (!cloudwatch) return;
    const { gauges } = options;
    const utilization = (read: () => number) => (gauges.planKeysRead() > 0 ? read() : null);
    const plan = { keysParked: gauges.planKeysParked(), utilization5hMax: utilization(gauges.planUtilization5hMax), utilization7dMax: utilization(gauges.planUtilization7dMax) };
    const interval = { timestamp: now(), unattributed, circuitsOpened, plan, groups: [...groups.values()] };
    unattributed = emptyAggregate(sampleCap);
    groups = new Map();
    circuitsOpened = 0;
    try {
      for (const doc of emfDocuments(interval)) emfLog.info(doc, 'metrics');
    } catch (err) {
      options.logger.error({ err }, 'metrics flush failed');
    }
  }

  const timer = cloudwatch ? setInterval(flush, options.flushIntervalMs) : undefined;
  timer?.unref();

  return {
    mode,
    prometheus,
    observe(event) {
      if (mode === 'off') return;
      const model = event.provider === null ? 'none' : modelLabel(event.requestedModel);
      if (cloudwatch) {
        if (event.provider === null) addTo(unattributed, event);
        else {
          const key = `${event.provider}\u0000${model}`;
          let group = groups.get(key);
          if (!group) groups.set(key, (group = { provider: event.provider, model, aggregate: emptyAggregate(sampleCap) }));
          addTo(group.aggregate, event);
        }
      }
      if (prometheus) {
        const labels = { provider: event.provider ?? 'none', model };
        for (const [metric, value] of SUMS) prometheus.count(metric, labels, value(event));
        if (event.fallbackUnavailable) prometheus.fallbackUnavailable(event.fallbackUnavailable);
        const cost = costOf(event);
        if (cost !== null) prometheus.count(METRICS.CostUSD, labels, cost);
        if (event.latencyMs !== null) prometheus.latency(labels, event.latencyMs);
        if (event.ttfbMs !== null) prometheus.ttfb(labels, event.ttfbMs);
      }
    },
    circuitOpened() {
      circuitsOpened++;
      prometheus?.circuitOpened();
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
