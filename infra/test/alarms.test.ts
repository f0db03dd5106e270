import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { auroraPostgresMaxConnections, serverlessCapacity } from '../lib/monitoring-stack.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, templatesOf } from './support/app.ts';

interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> };
  Period: number;
  Stat: string;
}
interface AlarmProps {
  AlarmDescription: string;
  Namespace?: string;
  MetricName?: string;
  Statistic?: string;
  Period?: number;
  Dimensions?: Array<{ Name: string; Value: unknown }>;
  Metrics?: Array<{ Id: string; Expression?: string; MetricStat?: MetricStat; ReturnData?: boolean }>;
  Threshold: number;
  EvaluationPeriods: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions?: unknown[];
}

let stacks: ProxyStacks;
let monitoring: Template;
let alarms: Record<string, AlarmProps>;

beforeAll(() => {
  stacks = makeApp().stacks;
  monitoring = templatesOf(stacks).monitoring;
  alarms = Object.fromEntries(
    Object.entries(monitoring.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), (r as { Properties: AlarmProps }).Properties]),
  );
});

const topic = () => ({ Ref: Object.keys(monitoring.findResources('AWS::SNS::Topic'))[0] });
const alarm = (name: string): AlarmProps => {
  const found = alarms[name];
  if (!found) throw new Error(`no alarm ${name}; have ${Object.keys(alarms).join(', ')}`);
  return found;
};
/** The metrics a math alarm reads, by id: namespace/name:statistic@period. */
const inputs = (a: AlarmProps) =>
  Object.fromEntries(
    (a.Metrics ?? []).filter((m) => m.MetricStat).map((m) => [m.Id, `${m.MetricStat!.Metric.Namespace}/${m.MetricStat!.Metric.MetricName}:${m.MetricStat!.Stat}@${m.MetricStat!.Period}`]),
  );
const expression = (a: AlarmProps) => a.Metrics?.find((m) => m.Expression)?.Expression;
const ref = (value: string) => stacks.monitoring.resolve(value);

describe('every alarm', () => {
  it('is one of these nine (the seed error alarm and the ALB 5xx alarm kept)', () => {
    expect(Object.keys(alarms).sort()).toEqual(
      [
        'AuroraAtMaxCapacity',
        'AuroraConnectionsNearLimit',
        'HealthyTargetsBelowDesired',
        'HighErrorRate',
        'LoadBalancer5xx',
        'NoHealthyTargets',
        'NoMetrics',
        'RunningTasksBelowDesired',
        'Target5xxRate',
      ].sort(),
    );
  });

  it('mails the alert topic when it fires and again when it clears', () => {
    for (const [name, a] of Object.entries(alarms)) {
      expect(a.AlarmActions, name).toEqual([topic()]);
      expect(a.OKActions, name).toEqual([topic()]);
    }
  });

  it('says what it means', () => {
    for (const [name, a] of Object.entries(alarms)) expect(a.AlarmDescription.length, name).toBeGreaterThan(40);
  });
});

describe('the service', () => {
  it('NoHealthyTargets: the target group has no healthy target for 2 minutes, a missing count included', () => {
    const a = alarm('NoHealthyTargets');
    expect(a).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HealthyHostCount',
      Statistic: 'Minimum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 2,
      TreatMissingData: 'breaching',
    });
    expect(a.Dimensions?.map((d) => d.Name).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
    expect(a.Dimensions?.find((d) => d.Name === 'TargetGroup')?.Value).toEqual(ref(stacks.compute.targetGroup.targetGroupFullName));
  });

  it('HealthyTargetsBelowDesired: desired tasks minus healthy targets ≥ 1 for 10 minutes', () => {
    const a = alarm('HealthyTargetsBelowDesired');
    expect(expression(a)).toBe('desired - healthy');
    expect(inputs(a)).toEqual({
      desired: 'ECS/ContainerInsights/DesiredTaskCount:Average@60',
      healthy: 'AWS/ApplicationELB/HealthyHostCount:Minimum@60',
    });
    expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 10 });
  });

  it('RunningTasksBelowDesired: desired minus running tasks (Container Insights) ≥ 1 for 10 minutes', () => {
    const a = alarm('RunningTasksBelowDesired');
    expect(expression(a)).toBe('desired - running');
    expect(inputs(a)).toEqual({
      desired: 'ECS/ContainerInsights/DesiredTaskCount:Average@60',
      running: 'ECS/ContainerInsights/RunningTaskCount:Average@60',
    });
    const running = a.Metrics?.find((m) => m.Id === 'running')?.MetricStat?.Metric.Dimensions;
    expect(running).toEqual([
      { Name: 'ClusterName', Value: ref(stacks.compute.cluster.clusterName) },
      { Name: 'ServiceName', Value: ref(stacks.compute.service.serviceName) },
    ]);
    expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 10 });
  });

  it('reads task counts that exist: Container Insights is on for the cluster', () => {
    templatesOf(stacks).compute.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('Target5xxRate: more than 5 % of target answers are 5xx for 3 × 5 minutes, once there are 20 requests', () => {
    const a = alarm('Target5xxRate');
    expect(expression(a)).toBe('IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)');
    expect(inputs(a)).toEqual({
      requests: 'AWS/ApplicationELB/RequestCount:Sum@300',
      errors: 'AWS/ApplicationELB/HTTPCode_Target_5XX_Count:Sum@300',
    });
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'notBreaching' });
  });

  it('LoadBalancer5xx: the load balancer answered 5xx itself more than 10 times in each of 3 × 5 minutes', () => {
    expect(alarm('LoadBalancer5xx')).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_ELB_5XX_Count',
      Statistic: 'Sum',
      Threshold: 10,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('NoMetrics: no RequestCount datapoint at all for 15 minutes; silence is what it alarms on', () => {
    expect(alarm('NoMetrics')).toMatchObject({
      Namespace: 'ClaudeCodeProxy',
      MetricName: 'RequestCount',
      Statistic: 'SampleCount',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
    expect(alarm('NoMetrics').Dimensions).toBeUndefined(); // the aggregate every task emits each minute, idle or not
  });
});

describe('Aurora', () => {
  it('reads the capacity range the database stack sets (0.5–4 ACU)', () => {
    expect(serverlessCapacity(stacks.database.cluster)).toEqual({ minAcu: 0.5, maxAcu: 4 });
  });

  it('AuroraAtMaxCapacity: ServerlessDatabaseCapacity averages the maximum ACU for 3 × 5 minutes', () => {
    const a = alarm('AuroraAtMaxCapacity');
    expect(a).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'ServerlessDatabaseCapacity',
      Statistic: 'Average',
      Period: 300,
      Threshold: 4,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
    });
    expect(a.Dimensions).toEqual([{ Name: 'DBClusterIdentifier', Value: ref(stacks.database.cluster.clusterIdentifier) }]);
  });

  it('AuroraConnectionsNearLimit: 80 % of the 823 connections Aurora PostgreSQL allows at 4 ACU', () => {
    expect(auroraPostgresMaxConnections({ minAcu: 0.5, maxAcu: 4 })).toBe(823);
    expect(alarm('AuroraConnectionsNearLimit')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'DatabaseConnections',
      Statistic: 'Maximum',
      Threshold: 658,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
    });
  });

  it('takes max_connections from the documented table, the lower row between rows, capped at 2,000 from a 0.5 ACU minimum', () => {
    expect(auroraPostgresMaxConnections({ minAcu: 1, maxAcu: 1 })).toBe(189);
    expect(auroraPostgresMaxConnections({ minAcu: 1, maxAcu: 6 })).toBe(823);
    expect(auroraPostgresMaxConnections({ minAcu: 1, maxAcu: 16 })).toBe(3360);
    expect(auroraPostgresMaxConnections({ minAcu: 0.5, maxAcu: 16 })).toBe(2000);
    expect(auroraPostgresMaxConnections({ minAcu: 2, maxAcu: 64 })).toBe(5000);
    expect(() => auroraPostgresMaxConnections({ minAcu: 0.5, maxAcu: 0.5 })).toThrow(/0.5 ACU/);
  });
});
