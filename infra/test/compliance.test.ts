// Every cdk-nag acknowledgement (AwsSolutions and NIST 800-53 rev 5) states a reason; each row
// below checks, on the synthesized templates, that the reason is still true. An acknowledgement
// without a row fails the first test, so a new one comes with its proof.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { bedrockInvokeRegions } from '../lib/task-permissions.ts';
import { INFRA_DIR, makeApp, onlyResource, templatesOf } from './support/app.ts';

type Templates = ReturnType<typeof templatesOf>;
interface Built {
  app: App;
  stacks: ProxyStacks;
  t: Templates;
}
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

interface Proof {
  /** The acknowledged rule: exact, or a pattern for cdk-nag's per-resource findings (IAM5[Resource::…]). */
  rule: string | RegExp;
  /** Construct path the acknowledgement sits on. */
  path: string;
  /**
   * What must hold for the reason to apply; `prod` and `dev` are the two stages of the example
   * context, `signIn` is prod with company sign-in (oidcIssuer and oidcClientId).
   */
  holds: (prod: Built, dev: Built, signIn: Built) => void;
}

let prod: Built;
let dev: Built;
let signIn: Built;

const build = (overrides: Record<string, unknown>): Built => {
  const { app, stacks } = makeApp(overrides);
  return { app, stacks, t: templatesOf(stacks) };
};

beforeAll(() => {
  prod = build({});
  dev = build({ stage: 'dev' });
  signIn = build({ oidcIssuer: 'https://login.example.com', oidcClientId: 'abc' });
});

const resources = (template: Template, type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
const containerOf = (b: Built) =>
  (onlyResource(b.t.compute, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Array<{
    Environment: Array<{ Name: string; Value: unknown }>;
    Secrets: Array<{ Name: string; ValueFrom: unknown }>;
  }>)[0]!;
const injectedAs = (b: Built, name: string) => containerOf(b).Secrets.find((s) => s.Name === name)?.ValueFrom;
const policyWithPrefix = (template: Template, prefix: string) => {
  const found = resources(template, 'AWS::IAM::Policy').filter(([id]) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found[0]![1].Properties as { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } };
};
const roleIdWithPrefix = (template: Template, prefix: string) => {
  const found = resources(template, 'AWS::IAM::Role').filter(([id]) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found[0]![0];
};
/** The policy is attached to that one role only. */
const ownPolicyOf = (template: Template, rolePrefix: string) => {
  const policy = policyWithPrefix(template, `${rolePrefix}DefaultPolicy`);
  expect(policy.Roles).toEqual([{ Ref: roleIdWithPrefix(template, rolePrefix) }]);
};
const albAttribute = (b: Built, key: string) =>
  (onlyResource(b.t.compute, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties.LoadBalancerAttributes as Array<{ Key: string; Value: string }>).find(
    (a) => a.Key === key,
  )?.Value;
const inEcsSecrets = (name: string) => (b: Built) => {
  expect(injectedAs(b, name), name).toBeDefined();
};

const deletionProtectedOnlyInProd = (p: Built, d: Built) => {
  const cluster = (b: Built) => onlyResource(b.t.database, 'AWS::RDS::DBCluster');
  expect([cluster(p).Properties.DeletionProtection, cluster(d).Properties.DeletionProtection]).toEqual([true, false]);
  expect(cluster(d).DeletionPolicy).toBe('Delete');
};

/** Injected into the task at start by ECS, never read by the running app: rotation would not reach running tasks. */
const injectedAtStart = (envName: string, arnOf: (b: Built) => string) => (p: Built) => {
  expect(injectedAs(p, envName)).toEqual(p.stacks.compute.resolve(arnOf(p)));
};

const PROOFS: Proof[] = [
  // Network
  {
    rule: 'AwsSolutions-EC23',
    path: 'NetworkStack/AlbSg',
    holds: (p) => {
      // Open to the internet: 443, and 80 only to redirect; nothing else anywhere in the network.
      const ingress = resources(p.t.network, 'AWS::EC2::SecurityGroup')
        .flatMap(([, r]) => (r.Properties.SecurityGroupIngress as Array<{ CidrIp?: string; FromPort: number }> | undefined) ?? [])
        .filter((rule) => rule.CidrIp === '0.0.0.0/0');
      expect(ingress.map((rule) => rule.FromPort).sort()).toEqual([443, 80]);
    },
  },
  ...['PublicSubnet1', 'PublicSubnet2'].flatMap((subnet): Proof[] => {
    const publicOnlyForAlbAndNat = (p: Built) => {
      const publicIds = p.stacks.network.vpc.publicSubnets.map((s) => p.stacks.compute.resolve(s.subnetId));
      expect(onlyResource(p.t.compute, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties.Subnets).toEqual(publicIds);
      const service = onlyResource(p.t.compute, 'AWS::ECS::Service').Properties.NetworkConfiguration as {
        AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[] };
      };
      expect(service.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
      for (const id of service.AwsvpcConfiguration.Subnets) expect(publicIds).not.toContainEqual(id);
      const dbSubnets = onlyResource(p.t.database, 'AWS::RDS::DBSubnetGroup').Properties.SubnetIds as unknown[];
      const privateIds = p.stacks.network.vpc.privateSubnets.map((s) => p.stacks.database.resolve(s.subnetId));
      expect(dbSubnets).toEqual(privateIds);
    };
    return [
      { rule: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', path: `NetworkStack/ProxyVpc/${subnet}`, holds: publicOnlyForAlbAndNat },
      { rule: 'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled', path: `NetworkStack/ProxyVpc/${subnet}`, holds: publicOnlyForAlbAndNat },
    ];
  }),
  {
    rule: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
    path: 'NetworkStack/FlowLogGroup',
    holds: (p) => {
      const [groupId] = resources(p.t.network, 'AWS::Logs::LogGroup').find(([id]) => id.startsWith('FlowLogGroup')) ?? [];
      const flowLogs = resources(p.t.network, 'AWS::EC2::FlowLog').map(([, r]) => r.Properties);
      expect(flowLogs).toEqual([expect.objectContaining({ TrafficType: 'REJECT', LogGroupName: { Ref: groupId } })]);
      // Deployed before the key: the secrets stack comes after the network stack.
      expect(p.stacks.secrets.dependencies.map((s) => s.node.id)).toContain('NetworkStack');
    },
  },
  {
    rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
    path: 'NetworkStack/ProxyVpc/RejectedFlowLog',
    holds: (p) => ownPolicyOf(p.t.network, 'ProxyVpcRejectedFlowLogIAMRole'),
  },
  // Secrets
  ...(['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'] as const).flatMap((rule): Proof[] => [
    { rule, path: 'SecretsStack/AdminCredentials', holds: injectedAtStart('ADMIN_CREDENTIALS', (b) => b.stacks.secrets.adminCredentials.secretArn) },
    { rule, path: 'SecretsStack/KeyHasherSecret', holds: injectedAtStart('KEY_HASHER_SECRET', (b) => b.stacks.secrets.keyHasherSecret.secretArn) },
    { rule, path: 'DatabaseStack/ProxyDb/Secret', holds: injectedAtStart('DATABASE_ADMIN_URL', (b) => b.stacks.database.secret.secretArn) },
    { rule, path: 'DatabaseStack/AppSecret', holds: injectedAtStart('DATABASE_URL', (b) => b.stacks.database.appSecret.secretArn) },
    {
      rule,
      path: 'SecretsStack/OidcClientSecret',
      holds: (_p: Built, _d: Built, s: Built) => {
        const secret = s.stacks.secrets.oidcClientSecret;
        expect(secret).toBeDefined();
        injectedAtStart('OIDC_CLIENT_SECRET', () => secret!.secretArn)(s);
      },
    },
  ]),
  // Database
  {
    rule: 'AwsSolutions-RDS6',
    path: 'DatabaseStack/ProxyDb',
    holds: (p) => {
      expect(onlyResource(p.t.database, 'AWS::RDS::DBCluster').Properties.EnableIAMDatabaseAuthentication).toBeUndefined();
      inEcsSecrets('DATABASE_URL')(p);
      inEcsSecrets('DATABASE_ADMIN_URL')(p);
    },
  },
  {
    rule: 'NIST.800.53.R5-RDSInBackupPlan',
    path: 'DatabaseStack/ProxyDb',
    holds: (p) => expect(onlyResource(p.t.database, 'AWS::RDS::DBCluster').Properties.BackupRetentionPeriod).toBe(7),
  },
  {
    rule: 'NIST.800.53.R5-RDSEnhancedMonitoringEnabled',
    path: 'DatabaseStack/ProxyDb',
    holds: (p) => {
      expect(onlyResource(p.t.database, 'AWS::RDS::DBInstance').Properties.MonitoringInterval).toBeUndefined();
      // The monitoring stack reads the cluster's own CloudWatch metrics.
      expect(JSON.stringify(p.t.monitoring.toJSON())).toContain('AWS/RDS');
    },
  },
  { rule: 'AwsSolutions-RDS10', path: 'DatabaseStack/ProxyDb', holds: deletionProtectedOnlyInProd },
  { rule: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled', path: 'DatabaseStack/ProxyDb', holds: deletionProtectedOnlyInProd },
  // Compute
  {
    rule: 'AwsSolutions-ECS2',
    path: 'ComputeStack/ProxyTask',
    holds: (p) => {
      const names = containerOf(p).Environment.map((e) => e.Name);
      expect(names.filter((n) => /SECRET|PASSWORD|CREDENTIALS|DATABASE_(ADMIN_)?URL|API_KEY/.test(n))).toEqual([]);
      expect(containerOf(p).Secrets.map((s) => s.Name).sort()).toEqual(
        ['ADMIN_CREDENTIALS', 'DATABASE_ADMIN_URL', 'DATABASE_URL', 'KEY_HASHER_SECRET'].sort(),
      );
    },
  },
  {
    rule: 'AwsSolutions-ECS2',
    path: 'ComputeStack/ProxyTask',
    holds: (_p, _d, s) => {
      // With company sign-in: issuer, client id and redirect URL are plain; the client secret is injected.
      const names = containerOf(s).Environment.map((e) => e.Name);
      expect(names.filter((n) => /SECRET|PASSWORD|CREDENTIALS|DATABASE_(ADMIN_)?URL|API_KEY/.test(n))).toEqual([]);
      expect(containerOf(s).Secrets.map((e) => e.Name)).toContain('OIDC_CLIENT_SECRET');
    },
  },
  {
    rule: 'AwsSolutions-IAM5[Resource::*]',
    path: 'ComputeStack/ProxyTask/TaskRole',
    holds: (p) => {
      const wildcard = policyWithPrefix(p.t.compute, 'ProxyTaskTaskRoleDefaultPolicy').PolicyDocument.Statement.filter((s) => s.Resource === '*');
      expect(wildcard).toEqual([
        expect.objectContaining({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'ClaudeCodeProxy' } } }),
      ]);
    },
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:aws:bedrock:/,
    path: 'ComputeStack/ProxyTask/TaskRole',
    holds: (p) => {
      const regions = new Set(bedrockInvokeRegions('ap-northeast-2'));
      const bedrock = policyWithPrefix(p.t.compute, 'ProxyTaskTaskRoleDefaultPolicy').PolicyDocument.Statement.find((s) =>
        [s.Action].flat().includes('bedrock:InvokeModel'),
      );
      for (const arn of bedrock?.Resource as string[]) {
        const [, , , region, , resource] = arn.split(':');
        expect(region === '' || regions.has(region ?? ''), arn).toBe(true);
        expect(resource, arn).toMatch(/^(foundation-model\/anthropic\.\*|inference-profile\/[a-z-]+\.anthropic\.\*)$/);
      }
    },
  },
  { rule: 'NIST.800.53.R5-IAMNoInlinePolicy', path: 'ComputeStack/ProxyTask/TaskRole', holds: (p) => ownPolicyOf(p.t.compute, 'ProxyTaskTaskRole') },
  {
    rule: 'AwsSolutions-IAM5[Resource::*]',
    path: 'ComputeStack/ProxyTask/ExecutionRole',
    holds: (p) => {
      const wildcard = policyWithPrefix(p.t.compute, 'ProxyTaskExecutionRoleDefaultPolicy').PolicyDocument.Statement.filter((s) => s.Resource === '*');
      expect(wildcard.map((s) => s.Action)).toEqual(['ecr:GetAuthorizationToken']);
    },
  },
  {
    rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
    path: 'ComputeStack/ProxyTask/ExecutionRole',
    holds: (p) => ownPolicyOf(p.t.compute, 'ProxyTaskExecutionRole'),
  },
  ...(['AwsSolutions-ELB2', 'NIST.800.53.R5-ELBLoggingEnabled'] as const).map(
    (rule): Proof => ({
      rule,
      path: 'ComputeStack/ProxyAlb',
      holds: (p) => {
        expect(albAttribute(p, 'access_logs.s3.enabled')).not.toBe('true');
        // The access key travels in the path of the proxy's routes.
        expect(readFileSync(path.join(INFRA_DIR, '..', 'backend', 'src', 'proxy', 'plugin.ts'), 'utf8')).toContain("'/ak/:key/v1/messages'");
      },
    }),
  ),
  {
    rule: 'NIST.800.53.R5-ELBDeletionProtectionEnabled',
    path: 'ComputeStack/ProxyAlb',
    holds: (p, d) => expect([albAttribute(p, 'deletion_protection.enabled'), albAttribute(d, 'deletion_protection.enabled')]).toEqual(['true', 'false']),
  },
  {
    rule: 'NIST.800.53.R5-ELBv2ACMCertificateRequired',
    path: 'ComputeStack/ProxyAlb/HttpListener',
    holds: (p) => {
      const http = resources(p.t.compute, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, r]) => r.Properties.Port === 80);
      expect(http.map(([, r]) => r.Properties.DefaultActions)).toEqual([
        [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
      ]);
    },
  },
  // Monitoring
  {
    rule: 'NIST.800.53.R5-SNSEncryptedKMS',
    path: 'MonitoringStack/AlertTopic',
    holds: (p) => {
      const topic = resources(p.t.monitoring, 'AWS::SNS::Topic');
      expect(topic).toHaveLength(1);
      expect(topic[0]![1].Properties.KmsMasterKeyId).toBeUndefined();
      // enforceSSL: the topic policy denies publishing without TLS.
      expect(JSON.stringify(resources(p.t.monitoring, 'AWS::SNS::TopicPolicy'))).toContain('aws:SecureTransport');
    },
  },
];

/** Each acknowledgement of either pack in `app`: where, and which rule. */
function acknowledgements(app: App): { path: string; rule: string }[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
      .filter((rule) => /^Annotation::(AwsSolutions|NIST\.800\.53\.R5)-/.test(rule))
      .map((rule) => ({ path: construct.node.path, rule: rule.replace('Annotation::', '') })),
  );
}

const matches = (proof: Proof, ack: { path: string; rule: string }) =>
  proof.path === ack.path && (typeof proof.rule === 'string' ? proof.rule === ack.rule : proof.rule.test(ack.rule));

describe('acknowledged findings', () => {
  it.each(['prod', 'dev', 'signIn'] as const)('each has a proof below (%s)', (stage) => {
    const acks = acknowledgements({ prod, dev, signIn }[stage].app);
    expect(acks.length).toBeGreaterThan(20);
    const unproved = acks.filter((ack) => !PROOFS.some((proof) => matches(proof, ack)));
    expect(unproved).toEqual([]);
  });

  it.each(PROOFS.map((proof) => [`${String(proof.rule)} at ${proof.path}`, proof] as const))('%s: the reason still holds', (_, proof) => {
    proof.holds(prod, dev, signIn);
  });
});
