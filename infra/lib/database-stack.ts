import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { auroraPostgresVersion } from './aurora-versions.ts';
import type { DeploymentStage } from './context.ts';

/** Database the app connects to; it appears as `dbname` in both secrets. */
export const DATABASE_NAME = 'claude_code_proxy';

/** The application's own login; the server creates the role at start-up with the master login (README "Database"). */
export const APP_DATABASE_USER = 'ccproxy_app';

/**
 * A fixed cluster identifier, so the PostgreSQL log group (named after it by RDS) can be created
 * beforehand with a retention period and the stack's key. One deployment per account and region,
 * as the fixed secret names already imply.
 */
export const CLUSTER_IDENTIFIER = 'claude-code-proxy';

export interface DatabaseStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly dbSecurityGroup: ec2.ISecurityGroup;
  /** Aurora PostgreSQL version, one aurora-versions.ts accepts. */
  readonly engineVersion: string;
  readonly stage: DeploymentStage;
  /** The stack's one key (SecretsStack): both database secrets and the PostgreSQL log are encrypted with it. */
  readonly kmsKey: kms.IKey;
}

/** Aurora PostgreSQL Serverless v2 holding users, keys, usage and audit data. */
export class DatabaseStack extends Stack {
  readonly cluster: rds.DatabaseCluster;
  /** The master login (generated): ECS injects the JSON as DATABASE_ADMIN_URL, used at start-up only. */
  readonly secret: secretsmanager.ISecret;
  /** The application's login (generated, attached to the cluster): ECS injects the JSON as DATABASE_URL. */
  readonly appSecret: secretsmanager.ISecret;
  readonly parameterGroup: rds.ParameterGroup;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);
    const prod = props.stage === 'prod';
    // prod keeps what cannot be recreated; a dev deployment is removed entirely by `cdk destroy`.
    const keep = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: auroraPostgresVersion(props.engineVersion) });

    // The cluster refuses connections without TLS; the app also verifies the server's certificate
    // (DATABASE_SSL_MODE=verify-full against the RDS CA bundle in the image).
    this.parameterGroup = new rds.ParameterGroup(this, 'ClusterParameters', {
      engine,
      description: 'Claude Code Proxy: TLS required on every connection',
      parameters: { 'rds.force_ssl': '1' },
    });

    const postgresLog = new logs.LogGroup(this, 'PostgresLog', {
      logGroupName: `/aws/rds/cluster/${CLUSTER_IDENTIFIER}/postgresql`,
      retention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: props.kmsKey,
      removalPolicy: keep,
    });

    this.cluster = new rds.DatabaseCluster(this, 'ProxyDb', {
      engine,
      clusterIdentifier: CLUSTER_IDENTIFIER,
      parameterGroup: this.parameterGroup,
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 4,
      writer: rds.ClusterInstance.serverlessV2('writer'),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.dbSecurityGroup],
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      credentials: rds.Credentials.fromGeneratedSecret('postgres', { encryptionKey: props.kmsKey }),
      // Not in the seed: a database of the app's own (instead of the `postgres` maintenance
      // database), which also puts `dbname` into the secret the app reads.
      defaultDatabaseName: DATABASE_NAME,
      // Connection failures (a client without TLS, a wrong password) and errors reach CloudWatch.
      cloudwatchLogsExports: ['postgresql'],
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    // RDS would create the log group itself on first export (without retention or key) if it came first.
    this.cluster.node.addDependency(postgresLog);

    if (!this.cluster.secret) throw new Error('DatabaseCluster did not generate a secret');
    this.secret = this.cluster.secret;
    const masterSecret = this.cluster.node.findChild('Secret') as rds.DatabaseSecret;
    // A restored snapshot keeps the master password it was taken with.
    masterSecret.applyRemovalPolicy(keep);

    // The application's own role. Attached to the cluster, so its JSON carries host, port, engine
    // and dbname like the master secret's; the server creates or updates the role with this
    // password at start-up (DATABASE_ADMIN_URL), so the secret is all there is to it.
    const appSecret = new rds.DatabaseSecret(this, 'AppSecret', {
      username: APP_DATABASE_USER,
      dbname: DATABASE_NAME,
      encryptionKey: props.kmsKey,
    });
    appSecret.applyRemovalPolicy(keep);
    this.appSecret = appSecret.attach(this.cluster);

    Validations.of(this.cluster).acknowledge(
      {
        id: 'AwsSolutions-RDS6',
        reason: 'The app authenticates with the generated password secret the seed specifies, not IAM tokens.',
      },
      {
        id: 'NIST.800.53.R5-RDSInBackupPlan',
        reason:
          "Aurora's own automated backups (7 days, point-in-time restore, as the seed sets) protect the data; " +
          'an AWS Backup plan would duplicate them.',
      },
      {
        id: 'NIST.800.53.R5-RDSEnhancedMonitoringEnabled',
        reason:
          "The cluster's CloudWatch metrics (capacity, connections, CPU) feed the dashboard and alarms; OS-level " +
          'Enhanced Monitoring would add a role with an AWS-managed policy for a 0.5–4 ACU serverless writer.',
      },
    );
    if (!prod) {
      Validations.of(this.cluster).acknowledge(
        {
          id: 'AwsSolutions-RDS10',
          reason: 'Stage dev: a throw-away deployment that `cdk destroy --all` removes; prod sets deletion protection.',
        },
        {
          id: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
          reason: 'Stage dev: a throw-away deployment that `cdk destroy --all` removes; prod sets deletion protection.',
        },
      );
    }
    const noRotation =
      'ECS injects the credentials into the task at start; rotation would break new connections of running ' +
      'tasks until they are replaced.';
    for (const secret of [masterSecret, appSecret]) {
      Validations.of(secret).acknowledge(
        { id: 'AwsSolutions-SMG4', reason: noRotation },
        { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: noRotation },
      );
    }
  }
}
