import * as path from 'node:path';
import { CfnOutput, Duration, IgnoreMode, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../backend/src/observability/metric-names.ts';
import { PROXY_PORT } from './network-stack.ts';

/** Anchored at this file, not the working directory, so `cdk synth` and the tests agree. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * Seconds a stopping task keeps serving in-flight streams. ECS deregisters a task from the target
 * group and waits out the deregistration delay (new requests go elsewhere, open streams finish)
 * before it sends SIGTERM; the app then drains for SHUTDOWN_DRAIN_SECONDS before SIGKILL at the
 * container's stop timeout. One number for all three; 120 s is also Fargate's stop-timeout maximum.
 */
export const DRAIN_SECONDS = 120;

/**
 * The ALB closes a connection that sends no bytes for this long. Streams ping every 15 s, but a
 * non-streaming request (Claude Code retries a failed turn with `stream: false`) is silent until
 * the whole answer is ready, which can take minutes; Anthropic's own limit for those is 10 minutes.
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 600;

export const CONTAINER_NAME = 'proxy';

export interface ComputeStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly albSecurityGroup: ec2.ISecurityGroup;
  readonly ecsSecurityGroup: ec2.ISecurityGroup;
  readonly kmsKey: kms.IKey;
  readonly adminCredentials: secretsmanager.ISecret;
  readonly keyHasherSecret: secretsmanager.ISecret;
  readonly planApiKey?: secretsmanager.ISecret | undefined;
  readonly dbSecret: secretsmanager.ISecret;
  readonly domainName: string;
  readonly hostedZoneId: string;
  readonly hostedZoneName: string;
  /** The proxy's settings from the deployment context (context.ts); unset ones keep the proxy's default. */
  readonly proxySettings: ProxySettings;
}

export interface ProxySettings {
  readonly bedrockRegion: string;
  readonly timezone?: string | undefined;
  readonly bedrockApi?: string | undefined;
  readonly corsOrigins?: string | undefined;
}

/** The container's environment for them: only what is set, so the proxy's own defaults apply otherwise. */
function proxySettingsEnvironment(settings: ProxySettings): Record<string, string> {
  const entries: [string, string | undefined][] = [
    ['BEDROCK_REGION', settings.bedrockRegion],
    ['TIMEZONE', settings.timezone],
    ['BEDROCK_API', settings.bedrockApi],
    ['CORS_ORIGINS', settings.corsOrigins],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

/** ECS Fargate service behind an HTTPS load balancer on the deployment's domain. */
export class ComputeStack extends Stack {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);

    this.cluster = new ecs.Cluster(this, 'ProxyCluster', {
      vpc: props.vpc,
      // Per-task CPU, memory and network metrics for diagnosis (the dashboard graphs the
      // service-level AWS/ECS metrics, which exist without it).
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'ProxyTask', {
      cpu: 512,
      memoryLimitMiB: 1024,
      // Matches the image platform below, so an image built on an ARM laptop still starts.
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    const secrets: Record<string, ecs.Secret> = {
      // The whole generated secret (JSON with username, password, host, port, dbname); the app
      // accepts that JSON in place of a postgres:// URL.
      DATABASE_URL: ecs.Secret.fromSecretsManager(props.dbSecret),
      KEY_HASHER_SECRET: ecs.Secret.fromSecretsManager(props.keyHasherSecret),
      // JSON {"username","password"}: the first admin login.
      ADMIN_CREDENTIALS: ecs.Secret.fromSecretsManager(props.adminCredentials),
    };
    // Without it the proxy forwards each client's own Authorization / x-api-key (seed default).
    if (props.planApiKey) secrets.PLAN_API_KEY = ecs.Secret.fromSecretsManager(props.planApiKey);

    this.taskDefinition.addContainer(CONTAINER_NAME, {
      // The backend is an npm workspace whose lockfile lives at the repository root, so the build
      // context is the root and the Dockerfile is named relative to it. The excludes keep local
      // installs, data and build output out of the context (and out of the asset hash); the root
      // .dockerignore adds the rest.
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: 'backend/Dockerfile',
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: ['**/node_modules', '**/cdk.out', '**/.cache', '.git', 'data', 'backend/data', 'backend/public'],
      }),
      portMappings: [{ containerPort: PROXY_PORT }],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'proxy',
        // Explicit group for a retention period (the default keeps logs forever). The app's
        // CloudWatch metrics travel in these log events (embedded metric format).
        logGroup: new logs.LogGroup(this, 'ProxyLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
      }),
      environment: {
        ENVIRONMENT: 'dev',
        LOG_LEVEL: 'INFO',
        PORT: String(PROXY_PORT),
        // dev turns metrics off by default; the alarm and the dashboard need them.
        METRICS: 'cloudwatch',
        // Bedrock API keys are envelope-encrypted under this key instead of a local key.
        KMS_KEY_ID: props.kmsKey.keyArn,
        SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
        ...proxySettingsEnvironment(props.proxySettings),
      },
      secrets,
      stopTimeout: Duration.seconds(DRAIN_SECONDS),
    });

    const taskRole = this.taskDefinition.taskRole;
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.kmsKey.keyArn],
      }),
    );
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.adminCredentials.secretArn, props.keyHasherSecret.secretArn, props.dbSecret.secretArn],
      }),
    );
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    // The proxy calls Bedrock with each key's bearer token by default; this is for BEDROCK_AUTH=sigv4.
    // Every region: a key may name its own, and cross-region inference profiles (us., eu., apac.,
    // global.) serve a request from another region than BEDROCK_REGION.
    taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        resources: ['*'],
      }),
    );
    Validations.of(taskRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions (it is conditioned on the namespace instead); ' +
        'Bedrock invocation spans whichever models and regions the registered keys use, as the seed grants.',
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken, which the execution role needs to pull the image, has no resource-level permissions.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The plain environment holds only non-secret settings; every secret comes from Secrets Manager.',
    });

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.hostedZoneName,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'ProxyAlb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: props.albSecurityGroup,
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'ALB access logs record the request path, and the path carries the access key (/ak/<key>); the app ' +
        'logs requests itself with the key redacted.',
    });

    // Validated by DNS records CloudFormation creates in the hosted zone.
    const certificate = new acm.Certificate(this, 'ProxyCert', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });

    // `open: false`: the network stack's security group already holds the 443/80 ingress rules.
    const httpsListener = this.loadBalancer.addListener('HttpsListener', {
      port: 443,
      certificates: [certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });

    this.loadBalancer.addListener('HttpListener', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ port: '443', protocol: 'HTTPS', permanent: true }),
    });

    this.service = new ecs.FargateService(this, 'ProxyService', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 2,
      securityGroups: [props.ecsSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      // Deployments start new tasks before stopping old ones, and roll back when new tasks keep
      // failing (for example on a bad secret) instead of retrying forever.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      // Start-up applies database migrations, possibly while Aurora scales up from 0.5 ACU.
      healthCheckGracePeriod: Duration.seconds(120),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 10 });
    scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: 70 });
    scaling.scaleOnMemoryUtilization('MemoryScaling', { targetUtilizationPercent: 80 });

    this.targetGroup = httpsListener.addTargets('ProxyTarget', {
      port: PROXY_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: { path: '/health', interval: Duration.seconds(30) },
      deregistrationDelay: Duration.seconds(DRAIN_SECONDS),
    });

    // The seed's "Custom + ACM" domain: an alias record pointing the domain at the load balancer.
    new route53.ARecord(this, 'ProxyAlias', {
      zone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
    });

    new CfnOutput(this, 'ProxyUrl', {
      value: `https://${props.domainName}`,
      description: 'Point Claude Code at <ProxyUrl>/ak/<access key> (ANTHROPIC_BASE_URL)',
    });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.loadBalancer.loadBalancerDnsName });
  }
}
