// The same figures as the CloudWatch metrics, as Prometheus counters, histograms and gauges on a
// registry of this app's own (tests run several apps in one process), served at GET /metrics.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS, type MetricName } from './metric-names.ts';

const PREFIX = 'ccproxy_';
const LABELS = ['provider', 'model'] as const;

/** Counter per CloudWatch metric that is a sum; the values are the same, the names Prometheus-style. */
export const PROMETHEUS_COUNTERS = {
  [METRICS.RequestCount]: { name: `${PREFIX}requests_total`, help: 'Proxied requests (messages and count_tokens), refused ones included' },
  [METRICS.ErrorCount]: { name: `${PREFIX}errors_total`, help: 'Requests answered with status >= 500 or broken off mid-stream' },
  [METRICS.FallbackCount]: { name: `${PREFIX}fallbacks_total`, help: 'Requests served by Bedrock after Anthropic failed or the circuit was open' },
  [METRICS.FailedFallbacks]: { name: `${PREFIX}failed_fallbacks_total`, help: 'Fallbacks Bedrock did not serve: it failed or refused, or the client went away' },
  [METRICS.BudgetRejections]: { name: `${PREFIX}budget_rejections_total`, help: 'Requests refused by the budget check (over budget, or a model it cannot price)' },
  [METRICS.InputTokens]: { name: `${PREFIX}input_tokens_total`, help: 'Input tokens (not cached)' },
  [METRICS.OutputTokens]: { name: `${PREFIX}output_tokens_total`, help: 'Output tokens' },
  [METRICS.CacheReadTokens]: { name: `${PREFIX}cache_read_tokens_total`, help: 'Prompt-cache read tokens' },
  [METRICS.CacheWriteTokens]: { name: `${PREFIX}cache_write_tokens_total`, help: 'Prompt-cache write tokens (5 min and 1 h)' },
  [METRICS.CostUSD]: { name: `${PREFIX}cost_usd_total`, help: 'Cost in USD of the requests that carried one' },
  [METRICS.PlanLimitFallbacks]: { name: `${PREFIX}plan_limit_fallbacks_total`, help: 'Requests Bedrock served because the Plan window was at its limit or the user\'s threshold' },
  [METRICS.ProviderSwitches]: { name: `${PREFIX}provider_switches_total`, help: 'Turns that moved a Claude Code session to the other provider' },
} as const satisfies Partial<Record<MetricName, { name: string; help: string }>>;

export type CounterMetric = keyof typeof PROMETHEUS_COUNTERS;

export const PROMETHEUS_CIRCUIT_OPENED = `${PREFIX}circuit_opened_total`;
/** By `reason` (no_bedrock_key, no_mapping) rather than provider and model: the reason is what an operator fixes. */
export const PROMETHEUS_FALLBACK_UNAVAILABLE = `${PREFIX}fallback_unavailable_total`;
export const PROMETHEUS_LATENCY = `${PREFIX}latency_seconds`;
export const PROMETHEUS_TTFB = `${PREFIX}ttfb_seconds`;

export interface PrometheusGauges {
  /** Access keys whose circuit is open or half-open now. */
  circuitsOpen: () => number;
  /** Upstream requests (Anthropic or Bedrock) in flight now. */
  upstreamRequestsInFlight: () => number;
  /** 1 while the process drains for shutdown. */
  draining: () => number;
  /** Access keys whose plan_first requests go to Bedrock now (Plan limit or threshold). */
  planKeysParked: () => number;
  /** The highest 5-hour and 7-day Plan utilization read from any key's last answer (0 without readings). */
  planUtilization5hMax: () => number;
  planUtilization7dMax: () => number;
}

export interface PrometheusMetrics {
  readonly contentType: string;
  count(metric: CounterMetric, labels: { provider: string; model: string }, value: number): void;
  latency(labels: { provider: string; model: string }, ms: number): void;
  ttfb(labels: { provider: string; model: string }, ms: number): void;
  circuitOpened(): void;
  /** A fallback Anthropic's answer called for could not happen, for `reason`. */
  fallbackUnavailable(reason: string): void;
  /** The text exposition format. */
  render(): Promise<string>;
}

export function createPrometheusMetrics(gauges: PrometheusGauges): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counters = new Map<CounterMetric, Counter<(typeof LABELS)[number]>>();
  for (const [metric, { name, help }] of Object.entries(PROMETHEUS_COUNTERS) as [CounterMetric, { name: string; help: string }][]) {
    counters.set(metric, new Counter({ name, help, labelNames: LABELS, registers: [registry] }));
  }
  const circuitOpened = new Counter({ name: PROMETHEUS_CIRCUIT_OPENED, help: 'Times an access key\'s circuit breaker opened', registers: [registry] });
  const fallbackUnavailable = new Counter({
    name: PROMETHEUS_FALLBACK_UNAVAILABLE,
    help: 'Requests whose Anthropic answer called for a Bedrock fallback that could not happen (Anthropic\'s answer went to the client)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: PROMETHEUS_LATENCY,
    help: 'Seconds from request received to response finished',
    labelNames: LABELS,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const ttfb = new Histogram({
    name: PROMETHEUS_TTFB,
    help: 'Seconds from request received to the first upstream byte sent to the client',
    labelNames: LABELS,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(`${PREFIX}circuits_open`, 'Access keys whose circuit breaker is open or half-open', gauges.circuitsOpen);
  gauge(`${PREFIX}upstream_requests_in_flight`, 'Upstream requests in flight (MAX_UPSTREAM_REQUESTS caps them)', gauges.upstreamRequestsInFlight);
  gauge(`${PREFIX}draining`, '1 while the process drains for shutdown', gauges.draining);
  gauge(`${PREFIX}plan_keys_parked`, 'Access keys whose plan_first requests go to Bedrock now (Plan limit or threshold)', gauges.planKeysParked);
  gauge(`${PREFIX}plan_5h_utilization_max`, 'Highest 5-hour Plan utilization of any access key (last answer)', gauges.planUtilization5hMax);
  gauge(`${PREFIX}plan_7d_utilization_max`, 'Highest 7-day Plan utilization of any access key (last answer)', gauges.planUtilization7dMax);

  return {
    contentType: registry.contentType,
    // Zero increments too: a label set's series then exists (at 0) from its first request on.
    count: (metric, labels, value) => counters.get(metric)!.inc(labels, value),
    latency: (labels, ms) => latency.observe(labels, ms / 1000),
    ttfb: (labels, ms) => ttfb.observe(labels, ms / 1000),
    circuitOpened: () => circuitOpened.inc(),
    fallbackUnavailable: (reason) => fallbackUnavailable.inc({ reason }),
    render: () => registry.metrics(),
  };
}
