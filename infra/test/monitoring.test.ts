import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, templatesOf } from './support/app.ts';
import { dashboardWidgets, graphedMetrics, type DashboardWidget } from './support/dashboard.ts';

let stacks: ProxyStacks;
let monitoring: Template;
let widgets: DashboardWidget[];

beforeAll(() => {
  stacks = makeApp().stacks;
  monitoring = templatesOf(stacks).monitoring;
  const dashboard = dashboardWidgets(monitoring);
  expect(dashboard.name).toBe('ClaudeCodeProxy');
  widgets = dashboard.widgets;
});

const topicId = () => Object.keys(monitoring.findResources('AWS::SNS::Topic'))[0] as string;

describe('alerts', () => {
  it('has an SNS topic that accepts only TLS publishers, subscribed by the alert e-mail', () => {
    monitoring.resourceCountIs('AWS::SNS::Topic', 1);
    monitoring.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alerts@example.com',
      TopicArn: { Ref: topicId() },
    });
    monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  it('subscribes the e-mail given in context', () => {
    const other = templatesOf(makeApp({ alertEmail: 'oncall@corp.example' }).stacks).monitoring;
    other.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@corp.example' });
  });

  it('alarms on ClaudeCodeProxy/ErrorCount Sum over 5 minutes > 10 for 3 periods, notifying the topic', () => {
    monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ClaudeCodeProxy',
      MetricName: 'ErrorCount',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId() }],
      OKActions: [{ Ref: topicId() }],
    });
  });

  it('also alarms on load-balancer 5xx, which fire when no task is there to count errors', () => {
    // The others (tasks, targets, Aurora, silence): alarms.test.ts.
    monitoring.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_ELB_5XX_Count',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'LoadBalancer', Value: stacks.monitoring.resolve(stacks.compute.loadBalancer.loadBalancerFullName) }],
      AlarmActions: [{ Ref: topicId() }],
    });
  });
});

describe('dashboard ClaudeCodeProxy', () => {
  const graphed = () => graphedMetrics(widgets).map((m) => `${m.namespace}/${m.name}:${m.stat ?? 'Average'}`);

  it('graphs requests, errors and fallbacks', () => {
    expect(graphed()).toEqual(
      expect.arrayContaining([
        'ClaudeCodeProxy/RequestCount:Sum',
        'ClaudeCodeProxy/ErrorCount:Sum',
        'ClaudeCodeProxy/FallbackCount:Sum',
        'ClaudeCodeProxy/BudgetRejections:Sum',
        'ClaudeCodeProxy/CircuitOpen:Sum',
      ]),
    );
  });

  it('graphs latency and time to first byte as percentiles', () => {
    expect(graphed()).toEqual(
      expect.arrayContaining(['ClaudeCodeProxy/Latency:p50', 'ClaudeCodeProxy/Latency:p99', 'ClaudeCodeProxy/TTFB:p50', 'ClaudeCodeProxy/TTFB:p99']),
    );
  });

  it('graphs tokens and cost', () => {
    expect(graphed()).toEqual(
      expect.arrayContaining([
        'ClaudeCodeProxy/InputTokens:Sum',
        'ClaudeCodeProxy/OutputTokens:Sum',
        'ClaudeCodeProxy/CacheReadTokens:Sum',
        'ClaudeCodeProxy/CacheWriteTokens:Sum',
        'ClaudeCodeProxy/CostUSD:Sum',
      ]),
    );
  });

  it('graphs ALB 5xx and target response time', () => {
    expect(graphed()).toEqual(
      expect.arrayContaining([
        'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count:Sum',
        'AWS/ApplicationELB/HTTPCode_Target_5XX_Count:Sum',
        'AWS/ApplicationELB/TargetResponseTime:p99',
      ]),
    );
  });

  it('graphs ECS CPU and memory of the service', () => {
    expect(graphed()).toEqual(expect.arrayContaining(['AWS/ECS/CPUUtilization:Average', 'AWS/ECS/MemoryUtilization:Average']));
    const ecs = graphedMetrics(widgets).filter((m) => m.namespace === 'AWS/ECS');
    expect(ecs).toHaveLength(2);
    const cpu = widgets.flatMap((w) => w.properties.metrics ?? []).find((m) => m[1] === 'CPUUtilization');
    expect(cpu?.slice(2, 6)).toEqual(['ClusterName', '<ref>', 'ServiceName', '<ref>']);
  });

  it('graphs Aurora serverless capacity', () => {
    expect(graphed()).toEqual(expect.arrayContaining(['AWS/RDS/ServerlessDatabaseCapacity:Maximum', 'AWS/RDS/ACUUtilization:Average']));
  });

  it('shows every alarm', () => {
    const alarms = widgets.find((w) => w.properties.title === 'Alarms')?.properties.alarms;
    expect(alarms).toHaveLength(stacks.monitoring.alarms.length);
    expect(alarms).toHaveLength(9);
  });
});
