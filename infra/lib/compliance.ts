import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks, type NagPack, type NagPackProps } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { MonitoringStack } from './monitoring-stack.ts';
import type { NetworkStack } from './network-stack.ts';

/**
 * The rule packs every synthesis runs (bin/app.ts, and the tests' app factory): cdk-nag's AWS
 * Solutions and NIST 800-53 rev 5. Any unacknowledged finding fails synthesis; each
 * acknowledgement carries its reason, and test/compliance.test.ts checks that the reason still
 * holds for the synthesized resource.
 */
export function compliancePacks(scope?: IConstruct, props?: NagPackProps): NagPack[] {
  return [new AwsSolutionsChecks(scope, props), new NIST80053R5Checks(scope, props)];
}

/** Runs the packs at `app.synth()`, copying the acknowledgements into the templates' metadata (cdk_nag.rules_to_suppress). */
export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(...compliancePacks(app, { writeSuppressionsToCloudFormation: true }));
}

/**
 * NIST findings on resources the network and monitoring stacks have had since the seed, which
 * only the NIST pack reports. Acknowledged by construct from here, as network-stack.ts and
 * monitoring-stack.ts do not acknowledge NIST rules themselves.
 */
export function acknowledgeNetworkAndAlertFindings(network: NetworkStack, monitoring: MonitoringStack): void {
  for (const subnet of network.vpc.publicSubnets) {
    Validations.of(subnet).acknowledge(
      {
        id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
        reason:
          'Public subnets hold only the internet-facing load balancer and the NAT gateway, which need the ' +
          'route to the internet gateway; tasks and the database are in the private subnets.',
      },
      {
        id: 'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled',
        reason:
          'Nothing is launched into the public subnets that takes an automatic public address: the load ' +
          'balancer and the NAT gateway bring their own, and tasks run in the private subnets without one.',
      },
    );
  }
  const flowLog = network.node.findChild('FlowLogGroup');
  Validations.of(flowLog).acknowledge({
    id: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
    reason:
      'Holds REJECT flow records only (addresses and ports, never payloads), encrypted at rest by CloudWatch ' +
      'Logs; the network stack deploys before the KMS key exists.',
  });
  Validations.of(network.vpc.node.findChild('RejectedFlowLog')).acknowledge({
    id: 'NIST.800.53.R5-IAMNoInlinePolicy',
    reason:
      "CDK's policy for the flow log's own role, attached to that role alone and deleted with it; a managed " +
      'policy would be a reusable object nothing else should attach.',
  });
  Validations.of(monitoring.alertTopic).acknowledge({
    id: 'NIST.800.53.R5-SNSEncryptedKMS',
    reason:
      'Alarm notifications carry no secrets, and CloudWatch alarms cannot publish to a topic under the ' +
      'AWS-managed SNS key; the topic only accepts TLS (enforceSSL).',
  });
}
