import * as path from 'node:path';
import { CfnOutput, Duration, IgnoreMode, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { companySignInEnvironment, type CompanySignIn } from './company-sign-in.ts';
import type { DeploymentStage } from './context.ts';
import { PROXY_PORT } from './network-stack.ts';
import { ProxyWaf } from './waf.ts';
import { grantTaskPermissions } from './task-permissions.ts';

/** Anchored at this file, not the working directory, so `cdk synth` and the tests agree. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * How a task stops (a deployment, a scale-in, a failed health check), in order:
 *
 * 1. ECS deregisters it from the target group. The load balancer sends it no new request and lets
 *    the open ones run for up to DEREGISTRATION_DELAY_SECONDS; a task with none open is released at
 *    once, so this is a deployment's worst case, not its usual length.
 * 2. Only then does ECS send SIGTERM. The app (backend/src/main.ts, app.ts) lets what is still open
 *    run for APP_DRAIN_SECONDS (SHUTDOWN_DRAIN_SECONDS, less up to 5 s it keeps for flushing usage),
 *    ends the rest with an Anthropic error event, closes its connections a second later and its
 *    database pool within 5 s more.
 * 3. SIGKILL follows SIGTERM after STOP_TIMEOUT_SECONDS.
 *
 * The delay of step 1 is what lets a long answer finish: at least the 600 s a quiet non-streaming
 * answer may take (ALB_IDLE_TIMEOUT_SECONDS), with room for a long streamed one (32k output tokens
 * at 40 tokens/s is 800 s). Step 2 only catches answers older than that.
 */
export const DEREGISTRATION_DELAY_SECONDS = 900;
/** Fargate's maximum stop timeout. */
export const STOP_TIMEOUT_SECONDS = 120;
/** Leaves 20 s of the stop timeout for the 1 s connection close, the usage flush and the 5 s pool close. */
export const APP_DRAIN_SECONDS = 100;

/**
 * Target health: /health every 10 s, healthy after 2 answers in a row (a new task takes traffic
 * about 20 s after it listens), unhealthy after 3 failures (30 s), each answer due within 5 s.
 */
export const HEALTH_CHECK = { path: '/health', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

/**
 * ECS ignores failed health checks this long after a task starts: start-up connects to Aurora and
 * applies migrations before the server listens (backend/src/main.ts), which on a first deployment
 * or a cold database takes far longer than the 20 s a warm start needs.
 */
export const HEALTH_CHECK_GRACE_SECONDS = 120;

/**
 * The ALB closes a connection that sends no bytes for this long. Streams ping every 15 s, but a
 * non-streaming request (Claude Code retries a failed turn with `stream: false`) is silent until
 * the whole answer is ready, which can take minutes; Anthropic's own limit for those is 10 minutes.
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 600;

export const CONTAINER_NAME = 'proxy';

/** The app's value (backend/src/http-edge.ts; compute.test.ts checks they agree). */
export const HSTS = 'max-age=31536000; includeSubDomains';

export interface ComputeStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly albSecurityGroup: ec2.ISecurityGroup;
  readonly ecsSecurityGroup: ec2.ISecurityGroup;
  readonly kmsKey: kms.IKey;
  readonly adminCredentials: secretsmanager.ISecret;
  readonly keyHasherSecret: secretsmanager.ISecret;
  readonly planApiKey?: secretsmanager.ISecret | undefined;
  /** Company sign-in with its client secret (OidcClientSecret); unset: nothing of it in the task. */
  readonly companySignIn?: (CompanySignIn & { readonly clientSecret: secretsmanager.ISecret }) | undefined;
  /** The application's database login (DATABASE_URL). */
  readonly dbSecret: secretsmanager.ISecret;
  /** The master login (DATABASE_ADMIN_URL): the server migrates and creates the application's role with it at start-up. */
  readonly dbAdminSecret: secretsmanager.ISecret;
  /** prod runs the proxy with ENVIRONMENT=prod and protects the load balancer from deletion. */
  readonly stage: DeploymentStage;
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

    // The deployment's secrets are encrypted with the stack's key. They are referenced here by ARN,
    // and the execution role may decrypt with the key through Secrets Manager only: a grant on the
    // secrets themselves would write this stack's role into the key policy, and the secrets stack
    // would then depend on this one.
    const injected = (id: string, secret: secretsmanager.ISecret) =>
      ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretAttributes(this, id, { secretCompleteArn: secret.secretArn }));
    this.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.kmsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      }),
    );
    const secrets: Record<string, ecs.Secret> = {
      // Whole generated secrets (JSON with username, password, host, port, dbname); the app
      // accepts that JSON in place of a postgres:// URL. It serves as the application's own role
      // and uses the master login only at start-up (README "Database").
      DATABASE_URL: injected('DatabaseAppSecret', props.dbSecret),
      DATABASE_ADMIN_URL: injected('DatabaseAdminSecret', props.dbAdminSecret),
      KEY_HASHER_SECRET: injected('KeyHasherSecret', props.keyHasherSecret),
      // JSON {"username","password"}: the first admin login.
      ADMIN_CREDENTIALS: injected('AdminCredentials', props.adminCredentials),
    };
    // Without it the proxy forwards each client's own Authorization / x-api-key (seed default).
    if (props.planApiKey) secrets.PLAN_API_KEY = ecs.Secret.fromSecretsManager(props.planApiKey);
    if (props.companySignIn) secrets.OIDC_CLIENT_SECRET = injected('OidcClientSecret', props.companySignIn.clientSecret);

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
        logGroup: new logs.LogGroup(this, 'ProxyLogs', {
          retention: logs.RetentionDays.THREE_MONTHS,
          encryptionKey: props.kmsKey,
          // prod keeps the log when the stack is deleted; a dev deployment takes it along.
          removalPolicy: props.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
      }),
      environment: {
        ENVIRONMENT: props.stage,
        // The certificate is checked against the RDS CA bundle the image ships (DATABASE_CA_FILE, set there).
        DATABASE_SSL_MODE: 'verify-full',
        LOG_LEVEL: 'INFO',
        PORT: String(PROXY_PORT),
        // dev turns metrics off by default; the alarm and the dashboard need them.
        METRICS: 'cloudwatch',
        // Bedrock API keys are envelope-encrypted under this key instead of a local key.
        KMS_KEY_ID: props.kmsKey.keyArn,
        SHUTDOWN_DRAIN_SECONDS: String(APP_DRAIN_SECONDS),
        ...proxySettingsEnvironment(props.proxySettings),
        ...(props.companySignIn ? companySignInEnvironment(props.companySignIn, props.domainName) : {}),
      },
      secrets,
      stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
    });

    grantTaskPermissions(this.taskDefinition.taskRole, {
      kmsKey: props.kmsKey,
      // Not the master login: ECS injects it with the execution role, and the server forgets it
      // once start-up has used it (backend/src/main.ts), so the running task must not read it back.
      secrets: [
        props.adminCredentials,
        props.keyHasherSecret,
        props.dbSecret,
        ...(props.companySignIn ? [props.companySignIn.clientSecret] : []),
      ],
      bedrockRegion: props.proxySettings.bedrockRegion,
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ecr:GetAuthorizationToken, which the execution role needs to pull the image, has no resource-level permissions.',
      },
      {
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason:
          "CDK's grants for the execution role (image pull, log stream, the injected secrets), attached to that " +
          'role alone and deleted with it; a managed policy would be a reusable object nothing else should attach.',
      },
    );
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
      deletionProtection: props.stage === 'prod',
    });
    const noAccessLogs =
      'ALB access logs record the request path, and the path carries the access key (/ak/<key>); the app ' +
      'logs requests itself with the key redacted.';
    Validations.of(this.loadBalancer).acknowledge(
      { id: 'AwsSolutions-ELB2', reason: noAccessLogs },
      { id: 'NIST.800.53.R5-ELBLoggingEnabled', reason: noAccessLogs },
    );
    if (props.stage !== 'prod') {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled',
        reason: 'Stage dev: a throw-away deployment that `cdk destroy --all` removes; prod sets deletion protection.',
      });
    }

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
    // HSTS on every HTTPS answer, the load balancer's own ones too (its 5xx when no task is
    // healthy, WAF's 403). The app sets the same value on its answers (backend/src/http-edge.ts);
    // the load balancer writes it on all of them. Port 80 only redirects, and browsers ignore HSTS
    // sent over plain HTTP.
    httpsListener.setAttribute('routing.http.response.strict_transport_security.header_value', HSTS);

    const httpListener = this.loadBalancer.addListener('HttpListener', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ port: '443', protocol: 'HTTPS', permanent: true }),
    });
    Validations.of(httpListener).acknowledge({
      id: 'NIST.800.53.R5-ELBv2ACMCertificateRequired',
      reason: 'Port 80 only answers with a permanent redirect to HTTPS on 443, which serves the ACM certificate.',
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
      healthCheckGracePeriod: Duration.seconds(HEALTH_CHECK_GRACE_SECONDS),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 10 });
    scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: 70 });
    scaling.scaleOnMemoryUtilization('MemoryScaling', { targetUtilizationPercent: 80 });

    this.targetGroup = httpsListener.addTargets('ProxyTarget', {
      port: PROXY_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: {
        path: HEALTH_CHECK.path,
        interval: Duration.seconds(HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(HEALTH_CHECK.timeoutSeconds),
        healthyThresholdCount: HEALTH_CHECK.healthyThreshold,
        unhealthyThresholdCount: HEALTH_CHECK.unhealthyThreshold,
      },
      deregistrationDelay: Duration.seconds(DEREGISTRATION_DELAY_SECONDS),
    });

    new ProxyWaf(this, 'Waf', {
      loadBalancer: this.loadBalancer,
      logEncryptionKey: props.kmsKey,
      logRemovalPolicy: props.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
