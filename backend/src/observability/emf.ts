// CloudWatch embedded metric format (EMF): one interval's aggregates as JSON documents that the
// ECS log driver ships and CloudWatch turns into metrics. Pure: no clock, no I/O.
//
// Every document names its metrics once per dimension set it lists. A (Provider, Model) group's
// document lists two sets, [Provider, Model] and [] (none), so each of its figures lands both in the
// dimensioned series and in the dimensionless aggregate the alarm watches; CloudWatch sums the
// dimensionless contributions of all groups (and of every task) within a period.

import { METRIC_NAMESPACE, METRICS, type MetricName } from './metric-names.ts';

/** CloudWatch units used here (a subset of the StandardUnit list). */
export type EmfUnit = 'Count' | 'Milliseconds' | 'None';

export const METRIC_UNITS: Record<MetricName, EmfUnit> = {
  [METRICS.RequestCount]: 'Count',
  [METRICS.ErrorCount]: 'Count',
  [METRICS.FallbackCount]: 'Count',
  [METRICS.FailedFallbacks]: 'Count',
  [METRICS.BudgetRejections]: 'Count',
  [METRICS.Latency]: 'Milliseconds',
  [METRICS.TTFB]: 'Milliseconds',
  [METRICS.InputTokens]: 'Count',
  [METRICS.OutputTokens]: 'Count',
  [METRICS.CacheReadTokens]: 'Count',
  [METRICS.CacheWriteTokens]: 'Count',
  // CloudWatch has no currency unit.
  [METRICS.CostUSD]: 'None',
  [METRICS.CircuitOpen]: 'Count',
  [METRICS.PlanLimitFallbacks]: 'Count',
  [METRICS.ProviderSwitches]: 'Count',
  [METRICS.FallbackUnavailable]: 'Count',
  [METRICS.PlanKeysParked]: 'Count',
  [METRICS.PlanUtilization5hMax]: 'None',
  [METRICS.PlanUtilization7dMax]: 'None',
};

/** EMF allows at most 100 values per metric in one document; more go into further documents. */
export const MAX_VALUES_PER_DOCUMENT = 100;

/**
 * A bounded sample of one interval's values (reservoir sampling): every value seen until `cap`, then
 * a uniform random subset of `cap`. Percentiles stay representative under any load while memory and
 * output stay bounded; counts come from the counters, not from the sample size.
 */
export class Reservoir {
  readonly values: number[] = [];
  #seen = 0;
  constructor(
    readonly cap: number,
    private readonly random: () => number = Math.random,
  ) {}

  add(value: number): void {
    this.#seen++;
    if (this.values.length < this.cap) {
      this.values.push(value);
      return;
    }
    const slot = Math.floor(this.random() * this.#seen);
    if (slot < this.cap) this.values[slot] = value;
  }
}

/** One interval's figures for one dimension group. */
export interface Aggregate {
  requests: number;
  errors: number;
  /** Fallbacks Bedrock served (completed). */
  fallbacks: number;
  /** Fallbacks Bedrock did not serve. */
  failedFallbacks: number;
  budgetRejections: number;
  planLimitFallbacks: number;
  providerSwitches: number;
  fallbackUnavailable: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Null when no request of the interval carried a cost. */
  costUsd: number | null;
  latencyMs: Reservoir;
  ttfbMs: Reservoir;
}

export function emptyAggregate(sampleCap: number): Aggregate {
  return {
    requests: 0,
    errors: 0,
    fallbacks: 0,
    failedFallbacks: 0,
    budgetRejections: 0,
    planLimitFallbacks: 0,
    providerSwitches: 0,
    fallbackUnavailable: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: null,
    latencyMs: new Reservoir(sampleCap),
    ttfbMs: new Reservoir(sampleCap),
  };
}

export interface EmfInterval {
  /** Milliseconds since the epoch; CloudWatch files the figures under this time. */
  timestamp: number;
  /** Requests with no provider (refused before routing: unknown key, bad body, overload). */
  unattributed: Aggregate;
  /** Circuits opened during the interval (per access key; not per provider or model). */
  circuitsOpened: number;
  /** The Plan gauges as read at the flush (never per user: one dimensionless value each). */
  plan: { keysParked: number; utilization5hMax: number | null; utilization7dMax: number | null };
  groups: { provider: string; model: string; aggregate: Aggregate }[];
}

export type EmfDocument = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: EmfUnit }[] }[];
  };
};

type Values = [MetricName, number | number[]][];

function counters(a: Aggregate): Values {
  const values: Values = [
    [METRICS.RequestCount, a.requests],
    [METRICS.ErrorCount, a.errors],
    [METRICS.FallbackCount, a.fallbacks],
    [METRICS.FailedFallbacks, a.failedFallbacks],
    [METRICS.BudgetRejections, a.budgetRejections],
    [METRICS.PlanLimitFallbacks, a.planLimitFallbacks],
    [METRICS.ProviderSwitches, a.providerSwitches],
    [METRICS.FallbackUnavailable, a.fallbackUnavailable],
    [METRICS.InputTokens, a.inputTokens],
    [METRICS.OutputTokens, a.outputTokens],
    [METRICS.CacheReadTokens, a.cacheReadTokens],
    [METRICS.CacheWriteTokens, a.cacheWriteTokens],
  ];
  if (a.costUsd !== null) values.push([METRICS.CostUSD, Number(a.costUsd.toFixed(6))]);
  return values;
}

function document(timestamp: number, dimensions: Record<string, string> | null, values: Values): EmfDocument {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: dimensions ? [Object.keys(dimensions), []] : [[]],
          Metrics: values.map(([name]) => ({ Name: name, Unit: METRIC_UNITS[name] })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(values.map(([name, value]) => [name, Array.isArray(value) && value.length === 1 ? value[0]! : value])),
  };
}

/** The documents of one aggregate: counters and the first 100 samples, then further samples. */
function aggregateDocuments(timestamp: number, dimensions: Record<string, string> | null, a: Aggregate, extra: Values): EmfDocument[] {
  const docs: EmfDocument[] = [];
  const latency = a.latencyMs.values;
  const ttfb = a.ttfbMs.values;
  const chunks = Math.max(1, Math.ceil(Math.max(latency.length, ttfb.length) / MAX_VALUES_PER_DOCUMENT));
  for (let i = 0; i < chunks; i++) {
    const values: Values = i === 0 ? [...counters(a), ...extra] : [];
    const from = i * MAX_VALUES_PER_DOCUMENT;
    const latencyChunk = latency.slice(from, from + MAX_VALUES_PER_DOCUMENT);
    const ttfbChunk = ttfb.slice(from, from + MAX_VALUES_PER_DOCUMENT);
    if (latencyChunk.length) values.push([METRICS.Latency, latencyChunk]);
    if (ttfbChunk.length) values.push([METRICS.TTFB, ttfbChunk]);
    if (values.length) docs.push(document(timestamp, dimensions, values));
  }
  return docs;
}

/**
 * The interval as EMF documents: always one dimensionless document (so the alarm's series has a
 * datapoint, zero included, in every period the proxy runs), then one or more per group.
 */
export function emfDocuments(interval: EmfInterval): EmfDocument[] {
  const { plan } = interval;
  const gauges: Values = [[METRICS.CircuitOpen, interval.circuitsOpened], [METRICS.PlanKeysParked, plan.keysParked]];
  if (plan.utilization5hMax !== null) gauges.push([METRICS.PlanUtilization5hMax, plan.utilization5hMax]);
  if (plan.utilization7dMax !== null) gauges.push([METRICS.PlanUtilization7dMax, plan.utilization7dMax]);
  const docs = aggregateDocuments(interval.timestamp, null, interval.unattributed, gauges);
  for (const group of interval.groups) {
    docs.push(...aggregateDocuments(interval.timestamp, { Provider: group.provider, Model: group.model }, group.aggregate, []));
  }
  return docs;
}
