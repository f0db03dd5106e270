// The seed's HighErrorRate alarm (infra/lib/monitoring-stack.ts):
// namespace ClaudeCodeProxy, metric ErrorCount, no dimensions, Sum over 5 minutes, > 10 for 3
// consecutive periods. The infra tests pin the alarm to metric-names.ts; this one plays CloudWatch:
// it extracts the datapoints of that exact series from the EMF lines the proxy writes (from two
// tasks, over a quarter of an hour of flushes) and evaluates the alarm on them.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.ts';
import { METRIC_NAMESPACE, METRICS } from '../../../src/observability/metric-names.ts';
import { createMetrics, refusedEvent, type MetricEvent } from '../../../src/observability/metrics.ts';
import { emfDocuments, emfViolations } from '../../support/emf.ts';

const ALARM = { namespace: METRIC_NAMESPACE, metricName: METRICS.ErrorCount, periodMs: 5 * 60_000, threshold: 10, evaluationPeriods: 3 };

interface Datapoint {
  timestamp: number;
  value: number;
}

/** What CloudWatch extracts from EMF documents for one metric with no dimensions. */
function dimensionlessDatapoints(docs: Record<string, unknown>[], namespace: string, metric: string): Datapoint[] {
  const points: Datapoint[] = [];
  for (const doc of docs) {
    const aws = doc._aws as { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    for (const directive of aws.CloudWatchMetrics) {
      if (directive.Namespace !== namespace || !directive.Metrics.some((m) => m.Name === metric)) continue;
      if (!directive.Dimensions.some((set) => set.length === 0)) continue;
      const value = doc[metric] as number | number[];
      for (const v of Array.isArray(value) ? value : [value]) points.push({ timestamp: aws.Timestamp, value: v });
    }
  }
  return points;
}

/** ALARM when the Sum of each of the last `evaluationPeriods` whole periods exceeds the threshold. */
function alarmState(points: Datapoint[], until: number): 'ALARM' | 'OK' | 'INSUFFICIENT_DATA' {
  const lastPeriodStart = Math.floor(until / ALARM.periodMs) * ALARM.periodMs - ALARM.periodMs;
  const sums: (number | undefined)[] = [];
  for (let i = ALARM.evaluationPeriods - 1; i >= 0; i--) {
    const start = lastPeriodStart - i * ALARM.periodMs;
    const inPeriod = points.filter((p) => p.timestamp >= start && p.timestamp < start + ALARM.periodMs);
    sums.push(inPeriod.length ? inPeriod.reduce((a, p) => a + p.value, 0) : undefined);
  }
  if (sums.some((s) => s === undefined)) return 'INSUFFICIENT_DATA';
  return sums.every((s) => s! > ALARM.threshold) ? 'ALARM' : 'OK';
}

const failure = (over: Partial<MetricEvent>): MetricEvent => ({
  provider: 'plan',
  requestedModel: 'claude-opus-5-5',
  statusCode: 529,
  outcome: 'upstream_error',
  isFallback: false,
  errorCode: null,
  latencyMs: 40,
  ttfbMs: 35,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  ...over,
});

/**
 * Two proxy tasks run for 15 minutes from a 5-minute boundary, flushing every minute; `errorsPerPeriod`
 * errors reach the clients in each 5 minutes, spread over providers, models, tasks and kinds.
 */
function run(errorsPerPeriod: number): { docs: Record<string, unknown>[]; end: number } {
  const start = Date.UTC(2026, 10, 25, 3, 0, 0);
  let now = start;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const gauges = { circuitsOpen: () => 0, upstreamRequestsInFlight: () => 0, draining: () => 0, planKeysParked: () => 0, planKeysRead: () => 0, planUtilization5hMax: () => 0, planUtilization7dMax: () => 0 };
  const tasks = [0, 1].map(() => createMetrics({ mode: 'cloudwatch', flushIntervalMs: 3_600_000, logger: createLogger('info', sink), gauges, now: () => now }));
  const kinds: MetricEvent[] = [
    failure({}),
    failure({ provider: 'bedrock', statusCode: 500, errorCode: 'BEDROCK_INTERNAL', isFallback: true }),
    failure({ statusCode: 200, outcome: 'failed' }), // broken off mid-stream
    refusedEvent(503, 'PROXY_KEY_LOOKUP_FAILED', 3), // database down: no provider yet
    failure({ requestedModel: 'claude-haiku-5-5', statusCode: 502, errorCode: 'PLAN_UNREACHABLE' }),
  ];
  let n = 0;
  for (let minute = 0; minute < 15; minute++) {
    const errorsThisMinute = Math.floor(((minute % 5) + 1) * errorsPerPeriod / 5) - Math.floor((minute % 5) * errorsPerPeriod / 5);
    for (let i = 0; i < errorsThisMinute; i++, n++) tasks[n % 2]!.observe(kinds[n % kinds.length]!);
    for (let i = 0; i < 20; i++) tasks[i % 2]!.observe(failure({ statusCode: 200, outcome: 'completed' })); // traffic that is fine
    now += 60_000 - 1; // flush at the end of the minute
    for (const task of tasks) task.flush();
    now += 1;
  }
  for (const task of tasks) task.close();
  return { docs: emfDocuments(lines), end: now };
}

describe('the HighErrorRate alarm on what the proxy emits', () => {
  it('fires when more than 10 errors reach clients in each of 3 consecutive 5-minute periods', () => {
    const { docs, end } = run(11);
    for (const doc of docs) expect(emfViolations(doc, end)).toEqual([]);
    const points = dimensionlessDatapoints(docs, ALARM.namespace, ALARM.metricName);
    expect(points.reduce((a, p) => a + p.value, 0)).toBe(33);
    expect(alarmState(points, end)).toBe('ALARM');
  });

  it('stays OK at 10 errors per period, and has data (zeros) rather than none when all is well', () => {
    const calm = run(10);
    expect(alarmState(dimensionlessDatapoints(calm.docs, ALARM.namespace, ALARM.metricName), calm.end)).toBe('OK');
    const quiet = run(0);
    const points = dimensionlessDatapoints(quiet.docs, ALARM.namespace, ALARM.metricName);
    expect(points.length).toBeGreaterThanOrEqual(15);
    expect(alarmState(points, quiet.end)).toBe('OK');
  });

  it('would never fire on a dimensioned-only series (the reference implementation\'s flaw)', () => {
    const { docs, end } = run(50);
    const dimensionedOnly = docs.map((doc) => {
      const aws = doc._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] };
      return { ...doc, _aws: { ...aws, CloudWatchMetrics: aws.CloudWatchMetrics.map((d) => ({ ...d, Dimensions: d.Dimensions.filter((s) => s.length > 0) })) } };
    });
    expect(alarmState(dimensionlessDatapoints(dimensionedOnly, ALARM.namespace, ALARM.metricName), end)).toBe('INSUFFICIENT_DATA');
  });
});
