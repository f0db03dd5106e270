import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stage } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HSTS as APP_HSTS } from '../../backend/src/http-edge.ts';
import {
  ALB_IDLE_TIMEOUT_SECONDS,
  APP_DRAIN_SECONDS,
  DEREGISTRATION_DELAY_SECONDS,
  HEALTH_CHECK,
  HEALTH_CHECK_GRACE_SECONDS,
  HSTS,
  STOP_TIMEOUT_SECONDS,
} from '../lib/compute-stack.ts';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { makeApp, onlyResource, templatesOf } from './support/app.ts';

interface ContainerDefinition {
  Name: string;
  Image: unknown;
  Essential: boolean;
  PortMappings: Array<{ ContainerPort: number; Protocol: string }>;
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets: Array<{ Name: string; ValueFrom: unknown }>;
  LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
  StopTimeout: number;
}

let stacks: ProxyStacks;
let compute: Template;
let container: ContainerDefinition;
/** How the compute stack refers to a value of another stack (an import of its export). */
let ref: (value: string) => unknown;

beforeAll(() => {
  stacks = makeApp().stacks;
  compute = templatesOf(stacks).compute;
  const taskDef = onlyResource(compute, 'AWS::ECS::TaskDefinition');
  const definitions = taskDef.Properties.ContainerDefinitions as ContainerDefinition[];
  expect(definitions).toHaveLength(1);
  container = definitions[0] as ContainerDefinition;
  ref = (value) => stacks.compute.resolve(value);
});

const logicalIdOf = (template: Template, type: string) => Object.keys(template.findResources(type))[0] as string;

describe('ECS cluster and task definition', () => {
  it('has one cluster in the VPC, with Container Insights', () => {
    compute.resourceCountIs('AWS::ECS::Cluster', 1);
    compute.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('is a Fargate task of 512 CPU units and 1024 MiB on x86_64 Linux', () => {
    compute.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
  });

  it('runs one essential container "proxy" on port 8000', () => {
    expect(container.Name).toBe('proxy');
    expect(container.Essential).toBe(true);
    expect(container.PortMappings).toEqual([{ ContainerPort: 8000, Protocol: 'tcp' }]);
  });

  it('logs through awslogs with stream prefix "proxy" into a group with a retention period', () => {
    const logGroupId = logicalIdOf(compute, 'AWS::Logs::LogGroup');
    expect(container.LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': { Ref: logGroupId }, 'awslogs-stream-prefix': 'proxy', 'awslogs-region': 'ap-northeast-2' },
    });
    compute.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('sets exactly the environment the app reads', () => {
    const environment = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
    expect(environment).toEqual({
      // cdk.json's example deployment is stage prod
      ENVIRONMENT: 'prod',
      // verified against the RDS CA bundle the image ships and names in DATABASE_CA_FILE
      DATABASE_SSL_MODE: 'verify-full',
      LOG_LEVEL: 'INFO',
      PORT: '8000',
      METRICS: 'cloudwatch',
      KMS_KEY_ID: ref(stacks.secrets.kmsKey.keyArn),
      SHUTDOWN_DRAIN_SECONDS: String(APP_DRAIN_SECONDS),
      // cdk.json's example deployment: Seoul
      TIMEZONE: 'Asia/Seoul',
      BEDROCK_REGION: 'ap-northeast-2',
      BEDROCK_API: 'invoke',
    });
  });

  it('runs stage dev as ENVIRONMENT=dev, still verifying the database certificate', () => {
    const dev = templatesOf(makeApp({ stage: 'dev' }).stacks).compute;
    const [definition] = onlyResource(dev, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as ContainerDefinition[];
    const environment = Object.fromEntries(definition!.Environment.map((e) => [e.Name, e.Value]));
    expect(environment).toMatchObject({ ENVIRONMENT: 'dev', DATABASE_SSL_MODE: 'verify-full' });
  });

  it("injects the application's database login as DATABASE_URL and the master login as DATABASE_ADMIN_URL, whole JSON", () => {
    expect(Object.fromEntries(container.Secrets.map((s) => [s.Name, s.ValueFrom]))).toEqual({
      DATABASE_URL: ref(stacks.database.appSecret.secretArn),
      DATABASE_ADMIN_URL: ref(stacks.database.secret.secretArn),
      KEY_HASHER_SECRET: ref(stacks.secrets.keyHasherSecret.secretArn),
      ADMIN_CREDENTIALS: ref(stacks.secrets.adminCredentials.secretArn),
    });
    expect(ref(stacks.database.appSecret.secretArn)).not.toEqual(ref(stacks.database.secret.secretArn));
    // Whole-secret references: no ":json-key::" suffix that would pick a single field.
    for (const secret of container.Secrets) expect(JSON.stringify(secret.ValueFrom)).not.toMatch(/:[a-z]+::/);
  });

  it('encrypts the container log with the stack key, and keeps it in prod only', () => {
    compute.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: ref(stacks.secrets.kmsKey.keyArn), RetentionInDays: 90 });
    const policyOf = (template: Template) =>
      Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('ProxyLogs'))?.[1].DeletionPolicy;
    expect(policyOf(compute)).toBe('Retain');
    expect(policyOf(templatesOf(makeApp({ stage: 'dev' }).stacks).compute)).toBe('Delete');
  });

  it("passes the context's proxy settings on, and leaves unset ones to the proxy (Bedrock: the deployment's region)", () => {
    const environmentOf = (overrides: Record<string, unknown>) => {
      const template = templatesOf(makeApp(overrides).stacks).compute;
      const [definition] = onlyResource(template, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as ContainerDefinition[];
      return Object.fromEntries(definition!.Environment.map((e) => [e.Name, e.Value]));
    };
    expect(environmentOf({ timezone: 'UTC', bedrockRegion: 'us-west-2', bedrockApi: 'messages', corsOrigins: 'https://admin.example.com' })).toMatchObject({
      TIMEZONE: 'UTC',
      BEDROCK_REGION: 'us-west-2',
      BEDROCK_API: 'messages',
      CORS_ORIGINS: 'https://admin.example.com',
    });
    const unset = environmentOf({ timezone: undefined, bedrockRegion: undefined, bedrockApi: undefined, corsOrigins: undefined });
    expect(unset.BEDROCK_REGION).toBe('ap-northeast-2');
    for (const name of ['TIMEZONE', 'BEDROCK_API', 'CORS_ORIGINS']) expect(unset, name).not.toHaveProperty(name);
  });

  it("stops within Fargate's maximum stop timeout, after the app's drain and its clean-up", () => {
    expect(container.StopTimeout).toBe(STOP_TIMEOUT_SECONDS);
    expect(STOP_TIMEOUT_SECONDS).toBeLessThanOrEqual(120); // Fargate's maximum
    // After SIGTERM (backend/src/main.ts, app.ts): the drain, 1 s to close what is left, the usage
    // flush, up to 5 s for the database pool; 10 s of margin for the flush.
    expect(APP_DRAIN_SECONDS + 1 + 5 + 10).toBeLessThanOrEqual(STOP_TIMEOUT_SECONDS);
  });
});

describe('container image', () => {
  let outdir: string;
  let image: { source: { directory: string; dockerFile: string; platform: string } };

  beforeAll(() => {
    outdir = Stage.of(stacks.compute)?.outdir ?? '';
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'ComputeStack.assets.json'), 'utf8')) as {
      dockerImages: Record<string, typeof image>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    image = images[0] as typeof image;
  });

  it('is built from backend/Dockerfile for linux/amd64, with the repository root as context', () => {
    expect(image.source.dockerFile).toBe('backend/Dockerfile');
    expect(image.source.platform).toBe('linux/amd64');
    const context = path.join(outdir, image.source.directory);
    for (const file of ['package.json', 'package-lock.json', 'backend/package.json', 'backend/Dockerfile', 'infra/package.json']) {
      expect(existsSync(path.join(context, file)), file).toBe(true);
    }
    expect(existsSync(path.join(context, 'backend/src/observability/metric-names.ts'))).toBe(true);
  });

  it('leaves local installs, build output, git and the rest of infra out of the context', () => {
    const context = path.join(outdir, image.source.directory);
    for (const excluded of ['node_modules', 'backend/node_modules', 'infra/node_modules', 'infra/lib', 'infra/cdk.out', '.git', 'data', 'backend/dist']) {
      expect(existsSync(path.join(context, excluded)), excluded).toBe(false);
    }
  });

  it('refers to the staged image in the task definition', () => {
    expect(JSON.stringify(container.Image)).toMatch(/container-assets-123456789012-ap-northeast-2:[0-9a-f]{64}/);
  });
});

describe('load balancer', () => {
  it('is internet-facing in the public subnets, behind the ALB security group', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Type: 'application',
      SecurityGroups: [ref(stacks.network.albSecurityGroup.securityGroupId)],
      Subnets: stacks.network.vpc.publicSubnets.map((s) => ref(s.subnetId)),
    });
  });

  it('keeps idle connections 600 s, well above the 15 s stream pings and long non-streaming answers', () => {
    expect(ALB_IDLE_TIMEOUT_SECONDS).toBe(600);
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '600' }]),
    });
  });

  it('is protected from deletion in prod, and not in dev', () => {
    const protection = (template: Template) =>
      (onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties.LoadBalancerAttributes as Array<{ Key: string; Value: string }>)
        .find((a) => a.Key === 'deletion_protection.enabled')?.Value;
    expect(protection(compute)).toBe('true');
    expect(protection(templatesOf(makeApp({ stage: 'dev' }).stacks).compute)).toBe('false');
  });

  it('has an ACM certificate for the domain, validated by DNS in the hosted zone', () => {
    compute.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'proxy.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'proxy.example.com', HostedZoneId: 'Z0123456789EXAMPLE' }],
    });
  });

  it('serves HTTPS on 443 with the certificate and forwards to the target group', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: { Ref: logicalIdOf(compute, 'AWS::CertificateManager::Certificate') } }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalIdOf(compute, 'AWS::ElasticLoadBalancingV2::TargetGroup') } }],
    });
  });

  it('redirects HTTP on 80 to HTTPS 443 permanently (301)', () => {
    compute.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
    });
  });

  it('leaves the ingress rules to the network stack (no listener opens its own)', () => {
    compute.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    compute.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('checks /health on port 8000 every 10 s: healthy after 2 answers, unhealthy after 3 failures', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
    // A new task takes traffic within 30 s of listening (the seed's 5 × 30 s took 150 s).
    expect(HEALTH_CHECK.intervalSeconds * HEALTH_CHECK.healthyThreshold).toBeLessThanOrEqual(30);
    expect(HEALTH_CHECK.timeoutSeconds).toBeLessThan(HEALTH_CHECK.intervalSeconds);
  });

  it('lets a deregistered task finish its open answers for 900 s, longer than the idle timeout allows an answer to be silent', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '900' }]),
    });
    expect(DEREGISTRATION_DELAY_SECONDS).toBeGreaterThanOrEqual(ALB_IDLE_TIMEOUT_SECONDS);
    expect(DEREGISTRATION_DELAY_SECONDS).toBeLessThanOrEqual(3600); // the target group's maximum
    // SIGTERM comes only after this delay; the app then drains what is older still.
    const drain = container.Environment.find((e) => e.Name === 'SHUTDOWN_DRAIN_SECONDS')?.Value;
    expect(drain).toBe(String(APP_DRAIN_SECONDS));
  });

  it('adds HSTS to every answer of the HTTPS listener, with the value the app sends', () => {
    expect(HSTS).toBe(APP_HSTS);
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      ListenerAttributes: [{ Key: 'routing.http.response.strict_transport_security.header_value', Value: APP_HSTS }],
    });
    const http = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Port: 80 } }));
    expect(http).toHaveLength(1);
    expect((http[0]?.Properties as Record<string, unknown>).ListenerAttributes).toBeUndefined();
  });

  it('points the domain at the load balancer with an alias record', () => {
    compute.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'proxy.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789EXAMPLE',
      AliasTarget: {
        DNSName: Match.anyValue(),
        HostedZoneId: { 'Fn::GetAtt': [logicalIdOf(compute, 'AWS::ElasticLoadBalancingV2::LoadBalancer'), 'CanonicalHostedZoneID'] },
      },
    });
    compute.hasOutput('ProxyUrl', { Value: 'https://proxy.example.com' });
  });
});

describe('service', () => {
  it('runs 2 Fargate tasks in the private subnets behind the ECS security group, without public IPs', () => {
    compute.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [ref(stacks.network.ecsSecurityGroup.securityGroupId)],
          Subnets: stacks.network.vpc.privateSubnets.map((s) => ref(s.subnetId)),
        },
      },
    });
  });

  it('is registered in the target group as container proxy:8000', () => {
    compute.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [
        { ContainerName: 'proxy', ContainerPort: 8000, TargetGroupArn: { Ref: logicalIdOf(compute, 'AWS::ElasticLoadBalancingV2::TargetGroup') } },
      ],
    });
  });

  it('deploys without dropping below 2 tasks, rolls back failed deployments, and gives start-up a grace period', () => {
    compute.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      HealthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
    });
    expect(HEALTH_CHECK_GRACE_SECONDS).toBe(120);
  });

  it('scales between 2 and 10 tasks on CPU 70 % and memory 80 %', () => {
    compute.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
    compute.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
    for (const [metric, target] of [
      ['ECSServiceAverageCPUUtilization', 70],
      ['ECSServiceAverageMemoryUtilization', 80],
    ] as const) {
      compute.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: metric },
          TargetValue: target,
        },
      });
    }
  });
});

describe('IAM', () => {
  const policyOf = (roleLogicalIdPrefix: string) => {
    const policies = compute.findResources('AWS::IAM::Policy');
    const entry = Object.entries(policies).find(([id]) => id.startsWith(roleLogicalIdPrefix));
    expect(entry, roleLogicalIdPrefix).toBeDefined();
    return (entry?.[1].Properties as { PolicyDocument: { Statement: Array<Record<string, unknown>> } }).PolicyDocument.Statement;
  };

  it("gives the task role the seed's four statements, each narrowed (task-permissions.test.ts checks the reach)", () => {
    const statements = policyOf('ProxyTaskTaskRoleDefaultPolicy');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: ref(stacks.secrets.kmsKey.keyArn),
        Condition: {
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['accessKeyId'] },
          Null: { 'kms:EncryptionContext:accessKeyId': 'false' },
        },
      },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        // Not the master login (stacks.database.secret): only the execution role reads it, to inject it.
        Resource: expect.arrayContaining([
          ref(stacks.secrets.adminCredentials.secretArn),
          ref(stacks.secrets.keyHasherSecret.secretArn),
          ref(stacks.database.appSecret.secretArn),
        ]),
      },
      {
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'ClaudeCodeProxy' } },
      },
      {
        Effect: 'Allow',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: expect.arrayContaining(['arn:aws:bedrock:ap-northeast-2::foundation-model/anthropic.*']),
      },
    ]);
    expect((statements[1] as { Resource: unknown[] }).Resource).toHaveLength(3);
    expect(JSON.stringify(statements[3])).not.toMatch(/"\*"/);
  });

  it('lets the execution role decrypt with the stack key only through Secrets Manager', () => {
    const decrypt = policyOf('ProxyTaskExecutionRoleDefaultPolicy').filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(decrypt).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: ref(stacks.secrets.kmsKey.keyArn),
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.ap-northeast-2.amazonaws.com' } },
      },
    ]);
  });

  it('lets the execution role read exactly the injected secrets (no Plan key secret by default)', () => {
    const read = policyOf('ProxyTaskExecutionRoleDefaultPolicy').find((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(read?.Resource).toEqual(
      expect.arrayContaining([
        ref(stacks.database.secret.secretArn),
        ref(stacks.database.appSecret.secretArn),
        ref(stacks.secrets.adminCredentials.secretArn),
        ref(stacks.secrets.keyHasherSecret.secretArn),
      ]),
    );
    expect(read?.Resource).toHaveLength(4);
  });
});

describe('with a default Plan key in context', () => {
  it('injects PLAN_API_KEY from the named secret and lets the execution role read it', () => {
    const withKey = makeApp({ planApiKeySecretName: 'team/anthropic-key' }).stacks;
    const template = templatesOf(withKey).compute;
    const secretArn = 'arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:team/anthropic-key';
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Secrets: Match.arrayWith([{ Name: 'PLAN_API_KEY', ValueFrom: secretArn }]) }),
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].sort(), Resource: Match.arrayWith([`${secretArn}-??????`]) }),
        ]),
      },
    });
  });

  it('does not inject PLAN_API_KEY otherwise (clients send their own credentials)', () => {
    expect(container.Secrets.map((s) => s.Name)).not.toContain('PLAN_API_KEY');
  });
});
