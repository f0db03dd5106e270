// The alarm can only fire if it watches a metric the backend really emits. Both sides take the
// namespace and names from backend/src/observability/metric-names.ts; these tests pin the alarm
// and the dashboard to that file, and keep the backend from spelling the names anywhere else.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { emfDocuments, emptyAggregate } from '../../backend/src/observability/emf.ts';
import { METRIC_NAMESPACE, METRICS } from '../../backend/src/observability/metric-names.ts';
import { REPO_ROOT } from '../lib/compute-stack.ts';
import { makeApp, templatesOf } from './support/app.ts';
import { dashboardWidgets, graphedMetrics } from './support/dashboard.ts';

const BACKEND_SRC = path.join(REPO_ROOT, 'backend', 'src');
const SHARED_FILE = path.join(BACKEND_SRC, 'observability', 'metric-names.ts');

let monitoring: Template;
let errorAlarm: Record<string, unknown>;

beforeAll(() => {
  monitoring = templatesOf(makeApp().stacks).monitoring;
  const alarms = Object.values(
    monitoring.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: METRIC_NAMESPACE, MetricName: METRICS.ErrorCount } }),
  );
  expect(alarms).toHaveLength(1);
  errorAlarm = (alarms[0] as { Properties: Record<string, unknown> }).Properties;
});

describe('the error alarm watches the metric the backend emits', () => {
  it('uses the shared namespace and the shared ErrorCount name', () => {
    expect(METRIC_NAMESPACE).toBe('ClaudeCodeProxy');
    expect(errorAlarm.Namespace).toBe(METRIC_NAMESPACE);
    expect(errorAlarm.MetricName).toBe(METRICS.ErrorCount);
  });

  it('sums the metric without dimensions, as the backend emits its aggregate', () => {
    expect(errorAlarm.Statistic).toBe('Sum');
    expect(errorAlarm.ExtendedStatistic).toBeUndefined();
    expect(errorAlarm.Dimensions).toBeUndefined();
    expect(errorAlarm.Metrics).toBeUndefined(); // a plain metric, not a math expression
  });

  it('reads the names from the backend source tree, which ships in the image', () => {
    const imported = path.resolve(import.meta.dirname, '../../backend/src/observability/metric-names.ts');
    expect(imported).toBe(SHARED_FILE);
    expect(readFileSync(SHARED_FILE, 'utf8')).toMatch(/export const METRIC_NAMESPACE = 'ClaudeCodeProxy'/);
  });
});

describe('the silence alarm', () => {
  it('counts datapoints of the dimensionless RequestCount, which the backend writes at every flush, 0 when idle', () => {
    const noMetrics = Object.values(
      monitoring.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: METRIC_NAMESPACE, MetricName: METRICS.RequestCount } }),
    ).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
    expect(noMetrics).toHaveLength(1);
    expect(noMetrics[0]).toMatchObject({ Statistic: 'SampleCount', TreatMissingData: 'breaching' });
    expect(noMetrics[0]?.Dimensions).toBeUndefined();

    // An idle interval, as a task without requests flushes it every minute.
    const idle = emfDocuments({
      timestamp: 0,
      unattributed: emptyAggregate(10),
      circuitsOpened: 0,
      plan: { keysParked: 0, utilization5hMax: null, utilization7dMax: null },
      groups: [],
    });
    const dimensionless = idle.filter((doc) => doc._aws.CloudWatchMetrics.some((m) => m.Dimensions.some((set) => set.length === 0)));
    expect(dimensionless).toHaveLength(1);
    expect(dimensionless[0]?.[METRICS.RequestCount]).toBe(0);
    expect(dimensionless[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRIC_NAMESPACE);
  });
});

describe('the dashboard', () => {
  it('graphs only metrics the backend declares, and every one of them', () => {
    const ours = graphedMetrics(dashboardWidgets(monitoring).widgets).filter((m) => m.namespace === METRIC_NAMESPACE);
    const declared: string[] = Object.values(METRICS);
    for (const metric of ours) expect(declared, metric.name).toContain(metric.name);
    expect(new Set(ours.map((m) => m.name))).toEqual(new Set(declared));
  });
});

describe('the backend', () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? sources(full) : entry.name.endsWith('.ts') ? [full] : [];
    });

  it('spells the namespace and the alarm metric only in the shared file', () => {
    const literal = new RegExp(`['"\`](${METRIC_NAMESPACE}|${METRICS.ErrorCount})['"\`]`);
    const offenders = sources(BACKEND_SRC).filter((file) => file !== SHARED_FILE && literal.test(readFileSync(file, 'utf8')));
    expect(offenders.map((f) => path.relative(REPO_ROOT, f))).toEqual([]);
  });
});
