import { App, Tags, type AppProps, type Environment } from 'aws-cdk-lib';
import { acknowledgeNetworkAndAlertFindings } from './compliance.ts';
import { companySignInOf } from './company-sign-in.ts';
import { ComputeStack } from './compute-stack.ts';
import { parseContext, type DeploymentConfig } from './context.ts';
import { DatabaseStack } from './database-stack.ts';
import { MonitoringStack } from './monitoring-stack.ts';
import { NetworkStack } from './network-stack.ts';
import { SecretsStack } from './secrets-stack.ts';

export interface ProxyStacks {
  readonly network: NetworkStack;
  readonly secrets: SecretsStack;
  readonly database: DatabaseStack;
  readonly compute: ComputeStack;
  readonly monitoring: MonitoringStack;
}

/**
 * The five stacks of the seed, wired Network → Secrets → Database → Compute → Monitoring.
 * Construct ids are the seed's stack names (`cdk deploy ComputeStack`); the CloudFormation stack
 * names carry the product prefix so they stand out in a shared account.
 */
export function addProxyStacks(app: App, config: DeploymentConfig): ProxyStacks {
  const env: Environment = { account: config.account, region: config.region };
  const companySignIn = companySignInOf(config);
  const stackName = (part: string) => `ClaudeCodeProxy-${part}`;

  const network = new NetworkStack(app, 'NetworkStack', {
    env,
    stackName: stackName('Network'),
    description: 'Claude Code Proxy: VPC and security groups',
    vpcEndpoints: config.vpcEndpoints,
  });

  const secrets = new SecretsStack(app, 'SecretsStack', {
    env,
    stackName: stackName('Secrets'),
    description: 'Claude Code Proxy: KMS key and application secrets',
    planApiKeySecretName: config.planApiKeySecretName,
    stage: config.stage,
    companySignIn: companySignIn !== undefined,
  });
  // Nothing in the secrets stack refers to the network; the seed still deploys it second.
  secrets.addStackDependency(network, 'deploy order of the seed design');

  const database = new DatabaseStack(app, 'DatabaseStack', {
    env,
    stackName: stackName('Database'),
    description: 'Claude Code Proxy: Aurora PostgreSQL Serverless v2',
    vpc: network.vpc,
    dbSecurityGroup: network.dbSecurityGroup,
    engineVersion: config.auroraPostgresVersion,
    stage: config.stage,
    // Both database secrets and the PostgreSQL log are encrypted with the one key, so the
    // database follows the secrets stack (the seed deploys them side by side).
    kmsKey: secrets.kmsKey,
  });

  const compute = new ComputeStack(app, 'ComputeStack', {
    env,
    stackName: stackName('Compute'),
    description: 'Claude Code Proxy: ECS Fargate service behind an HTTPS load balancer',
    vpc: network.vpc,
    albSecurityGroup: network.albSecurityGroup,
    ecsSecurityGroup: network.ecsSecurityGroup,
    kmsKey: secrets.kmsKey,
    adminCredentials: secrets.adminCredentials,
    keyHasherSecret: secrets.keyHasherSecret,
    planApiKey: secrets.planApiKey,
    companySignIn: companySignIn && secrets.oidcClientSecret ? { ...companySignIn, clientSecret: secrets.oidcClientSecret } : undefined,
    dbSecret: database.appSecret,
    dbAdminSecret: database.secret,
    stage: config.stage,
    domainName: config.domainName,
    hostedZoneId: config.hostedZoneId,
    hostedZoneName: config.hostedZoneName,
    proxySettings: {
      // Bedrock in the deployment's own region unless the context names another: the data stays
      // where the deployment is, and the same place as before the proxy's default became us-east-1.
      bedrockRegion: config.bedrockRegion ?? config.region,
      timezone: config.timezone,
      bedrockApi: config.bedrockApi,
      corsOrigins: config.corsOrigins,
    },
  });

  const monitoring = new MonitoringStack(app, 'MonitoringStack', {
    env,
    stackName: stackName('Monitoring'),
    description: 'Claude Code Proxy: dashboard, alarms and alert topic',
    service: compute.service,
    loadBalancer: compute.loadBalancer,
    targetGroup: compute.targetGroup,
    dbCluster: database.cluster,
    alertEmail: config.alertEmail,
  });

  acknowledgeNetworkAndAlertFindings(network, monitoring);

  Tags.of(app).add('Project', 'ClaudeCodeProxy');
  return { network, secrets, database, compute, monitoring };
}

/** Builds the app from its context (cdk.json and -c values, or `props.context` in tests). */
export function createProxyApp(props: AppProps = {}): { app: App; config: DeploymentConfig; stacks: ProxyStacks } {
  const app = new App(props);
  const config = parseContext((key) => app.node.tryGetContext(key));
  return { app, config, stacks: addProxyStacks(app, config) };
}
