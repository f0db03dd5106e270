import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS, type MetricName } from '../../backend/src/observability/metric-names.ts';

const PERIOD = Duration.minutes(5);

export interface MonitoringStackProps extends StackProps {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly dbCluster: rds.DatabaseCluster;
  readonly alertEmail: string;
}

/**
 * A metric the proxy emits. No dimensions: the app emits each metric once without any (besides
 * dimensioned copies), and these aggregates are what the alarm and the graphs read.
 */
export function proxyMetric(metricName: MetricName, statistic: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    statistic,
    period: PERIOD,
    ...(label ? { label } : {}),
  });
}

/** Dashboard `ClaudeCodeProxy`, the error alarms and the SNS topic they notify. */
export class MonitoringStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly errorAlarm: cloudwatch.Alarm;
  readonly alertTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);

    // Not KMS-encrypted: notifications carry no secrets, and CloudWatch alarms cannot publish to a
    // topic under the AWS-managed SNS key.
    this.alertTopic = new sns.Topic(this, 'AlertTopic', {
      displayName: 'Claude Code Proxy alerts',
      enforceSSL: true,
    });
    // The subscriber confirms through a link in the first e-mail.
    this.alertTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
    const notify = new cloudwatchActions.SnsAction(this.alertTopic);

    this.errorAlarm = new cloudwatch.Alarm(this, 'HighErrorRate', {
      alarmDescription: 'More than 10 proxy errors in each of 3 consecutive 5-minute periods',
      metric: proxyMetric(METRICS.ErrorCount, 'Sum'),
      threshold: 10,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // The app emits ErrorCount only when something fails: no data means no errors.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm.addAlarmAction(notify);

    // Not in the seed: errors the load balancer answers itself (no healthy task, task crashed,
    // timeouts). When the app is down it cannot count its own errors, so ErrorCount stays silent.
    const albErrors = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      statistic: 'Sum',
      period: PERIOD,
    });
    const albErrorAlarm = new cloudwatch.Alarm(this, 'LoadBalancer5xx', {
      alarmDescription: 'More than 10 load-balancer 5xx answers in each of 3 consecutive 5-minute periods',
      metric: albErrors,
      threshold: 10,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    albErrorAlarm.addAlarmAction(notify);

    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });

    const albMetrics = props.loadBalancer.metrics;
    const db = props.dbCluster;

    this.dashboard = new cloudwatch.Dashboard(this, 'ProxyDashboard', { dashboardName: 'ClaudeCodeProxy' });
    this.dashboard.addWidgets(
      graph('Requests and errors', [
        proxyMetric(METRICS.RequestCount, 'Sum', 'Requests'),
        proxyMetric(METRICS.ErrorCount, 'Sum', 'Errors'),
      ]),
      graph('Fallbacks to Bedrock', [
        proxyMetric(METRICS.FallbackCount, 'Sum', 'Fallbacks'),
        proxyMetric(METRICS.CircuitOpen, 'Sum', 'Circuits opened'),
        proxyMetric(METRICS.BudgetRejections, 'Sum', 'Budget rejections'),
        proxyMetric(METRICS.FallbackUnavailable, 'Sum', 'Fallback wanted, impossible (no Bedrock key or mapping)'),
      ]),
      graph('Latency (ms)', [
        proxyMetric(METRICS.Latency, 'p50', 'Latency p50'),
        proxyMetric(METRICS.Latency, 'p99', 'Latency p99'),
        proxyMetric(METRICS.TTFB, 'p50', 'Time to first byte p50'),
        proxyMetric(METRICS.TTFB, 'p99', 'Time to first byte p99'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Tokens', [
        proxyMetric(METRICS.InputTokens, 'Sum', 'Input'),
        proxyMetric(METRICS.OutputTokens, 'Sum', 'Output'),
        proxyMetric(METRICS.CacheReadTokens, 'Sum', 'Cache read'),
        proxyMetric(METRICS.CacheWriteTokens, 'Sum', 'Cache write'),
      ]),
      graph('Cost (USD)', [proxyMetric(METRICS.CostUSD, 'Sum', 'Cost')]),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [this.errorAlarm, albErrorAlarm], width: 8, height: 6 }),
    );
    this.dashboard.addWidgets(
      graph(
        'Load balancer',
        [
          albErrors.with({ label: 'ALB 5xx' }),
          albMetrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: PERIOD, label: 'Target 5xx' }),
        ],
        [albMetrics.targetResponseTime({ statistic: 'p99', period: PERIOD, label: 'Target response time p99 (s)' })],
      ),
      graph(
        'ECS service',
        [
          props.service.metricCpuUtilization({ period: PERIOD, label: 'CPU %' }),
          props.service.metricMemoryUtilization({ period: PERIOD, label: 'Memory %' }),
        ],
        [props.targetGroup.metrics.healthyHostCount({ statistic: 'Minimum', period: PERIOD, label: 'Healthy tasks' })],
      ),
      graph(
        'Aurora capacity',
        [db.metricServerlessDatabaseCapacity({ statistic: 'Maximum', period: PERIOD, label: 'ACU (max)' })],
        [db.metricACUUtilization({ statistic: 'Average', period: PERIOD, label: 'ACU utilisation %' })],
      ),
    );
    // The Plan window (README): when developers leave their Plan for Bedrock, and how full the Plans are.
    this.dashboard.addWidgets(
      graph(
        'Plan window',
        [
          proxyMetric(METRICS.PlanLimitFallbacks, 'Sum', 'Served by Bedrock at the Plan limit or threshold'),
          proxyMetric(METRICS.ProviderSwitches, 'Sum', 'Session switches'),
          proxyMetric(METRICS.PlanKeysParked, 'Maximum', 'Keys on Bedrock until a reset (per task)'),
        ],
        [
          proxyMetric(METRICS.PlanUtilization5hMax, 'Maximum', 'Highest 5-hour utilization'),
          proxyMetric(METRICS.PlanUtilization7dMax, 'Maximum', 'Highest 7-day utilization'),
        ],
      ),
    );
  }
}
