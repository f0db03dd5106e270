import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS, type MetricName } from '../../backend/src/observability/metric-names.ts';

const PERIOD = Duration.minutes(5);
/** Load balancer and Container Insights metrics arrive every minute; the task alarms read them so. */
const MINUTE = Duration.minutes(1);

/**
 * Aurora PostgreSQL Serverless v2's default max_connections for a maximum capacity (ACU), as the
 * Aurora User Guide tables it ("Maximum connections for Aurora Serverless v2"); a capacity between
 * two rows gets the lower row's value. With a minimum of 0.5 ACU or less, the limit is capped at 2,000.
 */
const AURORA_POSTGRES_MAX_CONNECTIONS: ReadonlyArray<readonly [maxAcu: number, connections: number]> = [
  [1, 189],
  [4, 823],
  [8, 1669],
  [16, 3360],
  [32, 5000],
];

export function auroraPostgresMaxConnections(capacity: { minAcu: number; maxAcu: number }): number {
  const row = [...AURORA_POSTGRES_MAX_CONNECTIONS].reverse().find(([acu]) => capacity.maxAcu >= acu);
  if (!row) throw new Error(`no documented max_connections for a maximum of ${capacity.maxAcu} ACU`);
  return capacity.minAcu <= 0.5 ? Math.min(row[1], 2000) : row[1];
}

/** The alarm fires at this share of the connection limit: room to act before connections are refused. */
export const CONNECTION_ALARM_SHARE = 0.8;

/** The cluster's Serverless v2 capacity range, as the database stack set it. */
export function serverlessCapacity(cluster: rds.DatabaseCluster): { minAcu: number; maxAcu: number } {
  // The construct renders the range lazily (only a cluster with a Serverless v2 instance has one).
  const scaling: unknown = Stack.of(cluster).resolve((cluster.node.defaultChild as rds.CfnDBCluster).serverlessV2ScalingConfiguration);
  const { minCapacity, maxCapacity } = (scaling ?? {}) as { minCapacity?: unknown; maxCapacity?: unknown };
  if (typeof minCapacity !== 'number' || typeof maxCapacity !== 'number') {
    throw new Error('the database cluster has no literal Serverless v2 capacity range');
  }
  return { minAcu: minCapacity, maxAcu: maxCapacity };
}

/** Target 5xx alarm: the share of answers, in %, and the requests a 5-minute period needs to count. */
export const TARGET_5XX_PERCENT = 5;
export const TARGET_5XX_MIN_REQUESTS = 20;

type AddAlarm = (id: string, props: cloudwatch.AlarmProps) => cloudwatch.Alarm;

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

/** Dashboard `ClaudeCodeProxy`, the alarms and the SNS topic they notify. */
export class MonitoringStack extends Stack {
  readonly dashboard: cloudwatch.Dashboard;
  readonly errorAlarm: cloudwatch.Alarm;
  readonly alertTopic: sns.Topic;
  /** Every alarm of the deployment; each notifies the topic when it fires and when it clears. */
  readonly alarms: cloudwatch.Alarm[] = [];

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
    // Each alarm mails when it fires and again when it clears, so nobody has to look whether it did.
    const alarm = (id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, id, props);
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    this.errorAlarm = alarm('HighErrorRate', {
      alarmDescription: 'More than 10 proxy errors in each of 3 consecutive 5-minute periods',
      metric: proxyMetric(METRICS.ErrorCount, 'Sum'),
      threshold: 10,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // The app emits ErrorCount only when something fails: no data means no errors.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Not in the seed: errors the load balancer answers itself (no healthy task, task crashed,
    // timeouts). When the app is down it cannot count its own errors, so ErrorCount stays silent.
    const albErrors = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
      statistic: 'Sum',
      period: PERIOD,
    });
    alarm('LoadBalancer5xx', {
      alarmDescription: 'More than 10 load-balancer 5xx answers in each of 3 consecutive 5-minute periods',
      metric: albErrors,
      threshold: 10,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.addServiceAlarms(props, alarm);
    this.addDatabaseAlarms(props.dbCluster, alarm);

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
        proxyMetric(METRICS.FallbackCount, 'Sum', 'Fallbacks served'),
        proxyMetric(METRICS.FailedFallbacks, 'Sum', 'Fallbacks Bedrock did not serve'),
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
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
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

  /** The service: tasks and healthy targets short of what ECS wants, answers failing, and silence. */
  private addServiceAlarms(props: MonitoringStackProps, alarm: AddAlarm): void {
    const targets = props.targetGroup.metrics;
    // Container Insights, enabled on the cluster (compute-stack.ts), publishes the service's task counts.
    const taskCount = (metricName: 'DesiredTaskCount' | 'RunningTaskCount') =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: props.service.cluster.clusterName, ServiceName: props.service.serviceName },
        statistic: 'Average',
        period: MINUTE,
      });
    const desired = taskCount('DesiredTaskCount');
    const healthy = targets.healthyHostCount({ statistic: 'Minimum', period: MINUTE });

    alarm('NoHealthyTargets', {
      alarmDescription: 'No healthy proxy task behind the load balancer for 2 consecutive minutes: every request fails',
      metric: healthy,
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // The load balancer reports the count every minute, zero included: no report at all is as bad.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // Ten minutes: a scale-out or a deployment is short for a minute or two while new tasks start
    // and pass their health checks. No data (Container Insights late) decides nothing here; a
    // service with nothing at all is NoHealthyTargets' and NoMetrics' to report.
    alarm('HealthyTargetsBelowDesired', {
      alarmDescription: 'Fewer healthy targets than the desired task count for 10 consecutive minutes: tasks failing their health check, or new ones never becoming healthy',
      metric: new cloudwatch.MathExpression({ expression: 'desired - healthy', usingMetrics: { desired, healthy }, period: MINUTE, label: 'Desired tasks not healthy' }),
      threshold: 1,
      evaluationPeriods: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('RunningTasksBelowDesired', {
      alarmDescription: 'Fewer running tasks than the desired count for 10 consecutive minutes: tasks failing to start (image, secrets, capacity) or crashing',
      metric: new cloudwatch.MathExpression({
        expression: 'desired - running',
        usingMetrics: { desired, running: taskCount('RunningTaskCount') },
        period: MINUTE,
        label: 'Desired tasks not running',
      }),
      threshold: 1,
      evaluationPeriods: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // A rate, not a count, so it means the same at 10 and at 10,000 requests; below 20 requests in
    // five minutes a few failures say little, so the rate counts as 0 there.
    alarm('Target5xxRate', {
      alarmDescription: 'More than 5 % of the answers from the proxy tasks were 5xx in each of 3 consecutive 5-minute periods (with at least 20 requests)',
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${TARGET_5XX_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
        usingMetrics: {
          requests: targets.requestCount({ statistic: 'Sum', period: PERIOD }),
          errors: targets.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: PERIOD }),
        },
        period: PERIOD,
        label: 'Target 5xx (% of requests)',
      }),
      threshold: TARGET_5XX_PERCENT,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Every running task writes one dimensionless RequestCount datapoint a minute, 0 when idle
    // (backend/src/observability/emf.ts), so its sample count is never 0 while the proxy runs:
    // silence means no task, or metrics that no longer reach CloudWatch (log delivery, METRICS).
    alarm('NoMetrics', {
      alarmDescription: 'No metrics from the proxy for 15 minutes: no task is running, or its metrics do not reach CloudWatch',
      metric: proxyMetric(METRICS.RequestCount, 'SampleCount'),
      threshold: 1,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /** Aurora: pinned at its maximum capacity, or close to its connection limit. */
  private addDatabaseAlarms(cluster: rds.DatabaseCluster, alarm: AddAlarm): void {
    const capacity = serverlessCapacity(cluster);
    alarm('AuroraAtMaxCapacity', {
      alarmDescription: `Aurora at its maximum of ${capacity.maxAcu} ACU for 15 minutes: it cannot scale further, queries slow down`,
      metric: cluster.metricServerlessDatabaseCapacity({ statistic: 'Average', period: PERIOD }),
      threshold: capacity.maxAcu,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The app holds at most 10 connections per task (backend/src/db/client.ts): 10 tasks, doubled
    // during a deployment, is 200, far below this; reaching it means connections leak or something
    // else connects.
    const limit = auroraPostgresMaxConnections(capacity);
    const threshold = Math.floor(limit * CONNECTION_ALARM_SHARE);
    alarm('AuroraConnectionsNearLimit', {
      alarmDescription: `Aurora holds ${threshold} or more connections (${CONNECTION_ALARM_SHARE * 100} % of its ${limit}) in 2 consecutive 5-minute periods; at ${limit} it refuses new ones`,
      metric: cluster.metricDatabaseConnections({ statistic: 'Maximum', period: PERIOD }),
      threshold,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
