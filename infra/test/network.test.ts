import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProxyStacks } from '../lib/proxy-app.ts';
import { EXAMPLE_CONTEXT, makeApp, templatesOf } from './support/app.ts';

let network: Template;
let ids: { alb: string; ecs: string; db: string };

beforeAll(() => {
  const { stacks } = makeApp();
  network = templatesOf(stacks).network;
  const resolve = (sg: { securityGroupId: string }) => stacks.network.resolve(sg.securityGroupId) as unknown;
  const logicalId = (ref: unknown) => (ref as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  ids = {
    alb: logicalId(resolve(stacks.network.albSecurityGroup)),
    ecs: logicalId(resolve(stacks.network.ecsSecurityGroup)),
    db: logicalId(resolve(stacks.network.dbSecurityGroup)),
  };
});

describe('VPC', () => {
  it('has one VPC with two public and two private /24 subnets in two AZs', () => {
    network.resourceCountIs('AWS::EC2::VPC', 1);
    const subnets = Object.values(network.findResources('AWS::EC2::Subnet')).map(
      (s) => s.Properties as { CidrBlock: string; AvailabilityZone: string; MapPublicIpOnLaunch: boolean },
    );
    expect(subnets).toHaveLength(4);
    expect(subnets.every((s) => s.CidrBlock.endsWith('/24'))).toBe(true);
    expect(new Set(subnets.map((s) => s.AvailabilityZone))).toEqual(new Set(['ap-northeast-2a', 'ap-northeast-2b']));
    expect(subnets.filter((s) => s.MapPublicIpOnLaunch)).toHaveLength(2);
  });

  it('tags the subnets as Public and Private (with egress)', () => {
    for (const [name, type] of [
      ['Public', 'Public'],
      ['Private', 'Private'],
    ]) {
      const matching = network.findResources('AWS::EC2::Subnet', {
        Properties: {
          Tags: Match.arrayWith([
            { Key: 'aws-cdk:subnet-name', Value: name },
            { Key: 'aws-cdk:subnet-type', Value: type },
          ]),
        },
      });
      expect(Object.keys(matching)).toHaveLength(2);
    }
  });

  it('has exactly one NAT gateway, and both private subnets route through it', () => {
    network.resourceCountIs('AWS::EC2::NatGateway', 1);
    const natRoutes = network.findResources('AWS::EC2::Route', {
      Properties: { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() },
    });
    expect(Object.keys(natRoutes)).toHaveLength(2);
  });

  it('logs rejected traffic to CloudWatch Logs with a retention period', () => {
    network.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'REJECT' });
    network.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('security groups', () => {
  it('has the three security groups of the seed', () => {
    network.resourceCountIs('AWS::EC2::SecurityGroup', 3);
  });

  it('opens the ALB on 443 and 80 from anywhere, and nothing else', () => {
    const alb = network.findResources('AWS::EC2::SecurityGroup')[ids.alb];
    const ingress = (alb?.Properties as { SecurityGroupIngress: Array<Record<string, unknown>> }).SecurityGroupIngress;
    expect(ingress.map(({ CidrIp, IpProtocol, FromPort, ToPort }) => ({ CidrIp, IpProtocol, FromPort, ToPort }))).toEqual([
      { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 },
      { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 80, ToPort: 80 },
    ]);
  });

  it('opens the ECS tasks on 8000 to the ALB only, and the database on 5432 to the tasks only', () => {
    const rules = Object.values(network.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(rules).toHaveLength(2);
    expect(rules).toContainEqual(
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [ids.ecs, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [ids.alb, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 8000,
        ToPort: 8000,
      }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [ids.db, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [ids.ecs, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
      }),
    );
    for (const id of [ids.ecs, ids.db]) {
      const group = network.findResources('AWS::EC2::SecurityGroup')[id];
      expect((group?.Properties as Record<string, unknown>).SecurityGroupIngress).toBeUndefined();
    }
  });
});

describe('VPC endpoints (context vpcEndpoints)', () => {
  it('are off by default: no endpoint, no fourth security group', () => {
    expect(EXAMPLE_CONTEXT.vpcEndpoints).toBe('false');
    network.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  describe('when on', () => {
    let withEndpoints: Template;
    let stacks: ProxyStacks;
    let endpointSg: string;

    beforeAll(() => {
      stacks = makeApp({ vpcEndpoints: 'true' }).stacks;
      withEndpoints = templatesOf(stacks).network;
      const group = stacks.network.endpointSecurityGroup;
      expect(group).toBeDefined();
      endpointSg = (stacks.network.resolve(group!.securityGroupId) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    });

    // The stacks have a concrete region (cdk.json), so the service names are literal.
    const serviceName = (suffix: string) => `com.amazonaws.ap-northeast-2.${suffix}`;

    it('reach Bedrock runtime, KMS, Secrets Manager, ECR (API and images) and CloudWatch Logs privately, from the private subnets', () => {
      const interfaces = Object.values(withEndpoints.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).map(
        (r) => (r as { Properties: Record<string, unknown> }).Properties,
      );
      expect(interfaces.map((p) => p.ServiceName).sort()).toEqual(
        ['bedrock-runtime', 'kms', 'secretsmanager', 'ecr.api', 'ecr.dkr', 'logs'].map(serviceName).sort(),
      );
      const privateSubnets = stacks.network.vpc.privateSubnets.map((s) => stacks.network.resolve(s.subnetId) as unknown);
      for (const endpoint of interfaces) {
        expect(endpoint.PrivateDnsEnabled).toBe(true);
        expect(endpoint.SubnetIds).toEqual(privateSubnets);
        expect(endpoint.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [endpointSg, 'GroupId'] }]);
      }
    });

    it('add an S3 gateway endpoint for the image layers, routed from the private subnets', () => {
      const gateways = withEndpoints.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } });
      expect(Object.keys(gateways)).toHaveLength(1);
      withEndpoints.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        RouteTableIds: stacks.network.vpc.privateSubnets.map((s) => stacks.network.resolve(s.routeTable.routeTableId) as unknown),
      });
      // com.amazonaws.<region>.s3, joined with the region's URL suffix.
      expect(JSON.stringify((Object.values(gateways)[0] as { Properties: { ServiceName: unknown } }).Properties.ServiceName)).toMatch(/\.s3"/);
    });

    it('admit HTTPS from the proxy tasks only, and open nothing outbound', () => {
      withEndpoints.resourceCountIs('AWS::EC2::SecurityGroup', 4);
      const rules = Object.values(withEndpoints.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
      expect(rules.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify({ 'Fn::GetAtt': [endpointSg, 'GroupId'] }))).toEqual([
        expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [ids.ecs, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ]);
      const group = withEndpoints.findResources('AWS::EC2::SecurityGroup')[endpointSg]?.Properties as Record<string, unknown>;
      expect(group.SecurityGroupIngress).toBeUndefined();
      // CDK's placeholder for "no outbound rule": one ICMP rule to 255.255.255.255/32 that matches nothing.
      expect(group.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
    });

    it('change nothing else of the network: the three seed security groups and their rules stay', () => {
      const seedRules = Object.values(withEndpoints.findResources('AWS::EC2::SecurityGroupIngress')).filter(
        (r) => JSON.stringify((r as { Properties: { GroupId: unknown } }).Properties.GroupId) !== JSON.stringify({ 'Fn::GetAtt': [endpointSg, 'GroupId'] }),
      );
      expect(seedRules).toHaveLength(2);
      withEndpoints.resourceCountIs('AWS::EC2::NatGateway', 1);
    });
  });
});
