import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Ports the security groups open; the compute and database stacks use the same numbers. */
export const PROXY_PORT = 8000;
export const POSTGRES_PORT = 5432;

/**
 * The AWS services a task reaches, each through an interface endpoint when `vpcEndpoints` is on:
 * Bedrock (the fallback; the app calls no other AWS service for requests), KMS (decrypting Bedrock
 * keys), Secrets Manager (ECS injects the secrets at task start), ECR (the image) and CloudWatch
 * Logs (the container log, which also carries the metrics: backend/src/observability/emf.ts, so
 * no CloudWatch monitoring endpoint is needed). The image layers come from S3, through a gateway
 * endpoint. Anthropic itself is on the internet and still needs the NAT gateway.
 */
export const INTERFACE_ENDPOINTS: ReadonlyArray<readonly [id: string, service: ec2.InterfaceVpcEndpointAwsService]> = [
  ['BedrockRuntime', ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME],
  ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
  ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
  ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
  ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
  ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
];

export interface NetworkStackProps extends StackProps {
  /** Interface endpoints for the AWS services the tasks call (context `vpcEndpoints`, default off). */
  readonly vpcEndpoints?: boolean;
}

/** VPC and the three security groups of the seed: internet → ALB → ECS tasks → database. */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly albSecurityGroup: ec2.SecurityGroup;
  readonly ecsSecurityGroup: ec2.SecurityGroup;
  readonly dbSecurityGroup: ec2.SecurityGroup;
  /** Present with `vpcEndpoints`: the endpoints' security group, open to the tasks on 443. */
  readonly endpointSecurityGroup: ec2.SecurityGroup | undefined;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);

    this.vpc = new ec2.Vpc(this, 'ProxyVpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
    });

    // Not in the seed: rejected-traffic flow logs, so a blocked connection (say, a task that
    // cannot reach the database) can be diagnosed. REJECT only keeps the volume and cost small.
    this.vpc.addFlowLog('RejectedFlowLog', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_MONTH }),
      ),
    });

    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: this.vpc,
      description: 'Internet-facing load balancer of the proxy',
    });
    this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from anywhere');
    this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from anywhere (redirected to HTTPS)');
    Validations.of(this.albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'The public entry point of the proxy: developers reach it from anywhere on 443 (80 only redirects).',
    });

    this.ecsSecurityGroup = new ec2.SecurityGroup(this, 'EcsSg', {
      vpc: this.vpc,
      description: 'Proxy tasks: reachable from the load balancer only',
    });
    this.ecsSecurityGroup.addIngressRule(this.albSecurityGroup, ec2.Port.tcp(PROXY_PORT), 'Proxy port from the ALB');

    this.dbSecurityGroup = new ec2.SecurityGroup(this, 'DbSg', {
      vpc: this.vpc,
      description: 'Aurora PostgreSQL: reachable from the proxy tasks only',
    });
    this.dbSecurityGroup.addIngressRule(this.ecsSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the proxy tasks');

    this.endpointSecurityGroup = props.vpcEndpoints ? this.addServiceEndpoints() : undefined;
  }

  /**
   * Private DNS makes the services' usual names resolve to the endpoints inside the VPC, so neither
   * the app nor ECS needs another setting. Without the NAT gateway, requests then still reach
   * Bedrock, and tasks still start. Each interface endpoint costs per AZ and hour (infra/README.md).
   */
  private addServiceEndpoints(): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from the proxy tasks only',
      // Endpoints only answer; they open no connection of their own.
      allowAllOutbound: false,
    });
    group.addIngressRule(this.ecsSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the proxy tasks');
    const subnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    for (const [id, service] of INTERFACE_ENDPOINTS) {
      this.vpc.addInterfaceEndpoint(id, { service, subnets, securityGroups: [group], privateDnsEnabled: true, open: false });
    }
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [subnets] });
    return group;
  }
}
